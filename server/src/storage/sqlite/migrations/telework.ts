import type { Migration } from '../SqliteDb.ts';

/**
 * Telework sites and places (id range 0400). A place belongs to a site of the same org and goes
 * with it (ON DELETE CASCADE); `telework_seeded` remembers the orgs that got their first sites.
 */
export const teleworkMigrations: Migration[] = [
  {
    id: '0400_telework_sites',
    sql: `CREATE TABLE telework_sites (
      org TEXT NOT NULL,
      id TEXT NOT NULL,
      name TEXT NOT NULL,
      address TEXT NOT NULL,
      time_zone TEXT NOT NULL,
      opening_hours TEXT NOT NULL,
      networks TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('hq', 'smart-work-centre', 'home')),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, id)
    );
    CREATE TABLE telework_places (
      org TEXT NOT NULL,
      site_id TEXT NOT NULL,
      id TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('seat', 'meeting-room')),
      name TEXT NOT NULL,
      tier TEXT CHECK (tier IN ('personal', 'standard', 'immersive')),
      capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, site_id, id),
      FOREIGN KEY (org, site_id) REFERENCES telework_sites (org, id) ON DELETE CASCADE
    );
    CREATE TABLE telework_seeded (
      org TEXT PRIMARY KEY,
      seeded_at INTEGER NOT NULL
    );`,
  },
];
