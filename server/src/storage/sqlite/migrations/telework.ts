import type { Migration } from '../SqliteDb.ts';

/**
 * Telework sites and places (id range 0400). A place belongs to a site of the same org and goes
 * with it (ON DELETE CASCADE); `telework_seeded` remembers the orgs that got their first sites.
 * A booking goes with its place; a booked booking overlapping another booked booking of the same
 * place (half-open: back-to-back slots do not overlap) is refused by a trigger, RAISE(ABORT,
 * 'telework_booking_overlap'), in the inserting transaction itself.
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
  {
    id: '0401_telework_bookings',
    sql: `CREATE TABLE telework_bookings (
      org TEXT NOT NULL,
      id TEXT NOT NULL,
      site_id TEXT NOT NULL,
      place_id TEXT NOT NULL,
      sub TEXT NOT NULL,
      start_at INTEGER NOT NULL,
      end_at INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
      created_at INTEGER NOT NULL,
      cancelled_at INTEGER,
      PRIMARY KEY (org, id),
      CHECK (end_at > start_at),
      FOREIGN KEY (org, site_id, place_id) REFERENCES telework_places (org, site_id, id) ON DELETE CASCADE
    );
    CREATE INDEX telework_bookings_place ON telework_bookings (org, site_id, place_id, start_at);
    CREATE INDEX telework_bookings_person ON telework_bookings (org, sub, end_at);
    CREATE TRIGGER telework_bookings_no_overlap BEFORE INSERT ON telework_bookings
    WHEN NEW.status = 'booked' AND EXISTS (
      SELECT 1 FROM telework_bookings b
      WHERE b.org = NEW.org AND b.site_id = NEW.site_id AND b.place_id = NEW.place_id
        AND b.status = 'booked' AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
    BEGIN
      SELECT RAISE(ABORT, 'telework_booking_overlap');
    END;
    CREATE TRIGGER telework_bookings_no_overlap_update BEFORE UPDATE OF status, start_at, end_at, place_id
    ON telework_bookings
    WHEN NEW.status = 'booked' AND EXISTS (
      SELECT 1 FROM telework_bookings b
      WHERE b.org = NEW.org AND b.site_id = NEW.site_id AND b.place_id = NEW.place_id AND b.id <> NEW.id
        AND b.status = 'booked' AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
    BEGIN
      SELECT RAISE(ABORT, 'telework_booking_overlap');
    END;`,
  },
];
