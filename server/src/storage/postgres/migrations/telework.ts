import type { PgMigration } from '../PgDb.ts';

/**
 * Telework sites and places on PostgreSQL (id range 0400): the same tables and rules as SQLite's
 * (sqlite/migrations/telework.ts), with BIGINT milliseconds.
 */
export const teleworkMigrations: PgMigration[] = [
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
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      CONSTRAINT telework_sites_pkey PRIMARY KEY (org, id)
    );
    CREATE TABLE telework_places (
      org TEXT NOT NULL,
      site_id TEXT NOT NULL,
      id TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('seat', 'meeting-room')),
      name TEXT NOT NULL,
      tier TEXT CHECK (tier IN ('personal', 'standard', 'immersive')),
      capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      CONSTRAINT telework_places_pkey PRIMARY KEY (org, site_id, id),
      FOREIGN KEY (org, site_id) REFERENCES telework_sites (org, id) ON DELETE CASCADE
    );
    CREATE TABLE telework_seeded (
      org TEXT PRIMARY KEY,
      seeded_at BIGINT NOT NULL
    );`,
  },
];
