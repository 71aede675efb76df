import type { Migration } from '../SqliteDb.ts';

/**
 * Telework sites and places (id range 0400). A place belongs to a site of the same org and goes
 * with it (ON DELETE CASCADE); `telework_seeded` remembers the orgs that got their first sites.
 * A booking goes with its place; a booked booking overlapping another booked booking of the same
 * place (half-open: back-to-back slots do not overlap) is refused by a trigger, RAISE(ABORT,
 * 'telework_booking_overlap'), in the inserting transaction itself. A booking not checked in within
 * the grace time is `released` (a no-show) and weighs no more than a cancelled one;
 * `telework_suspensions` holds the periods a person's booking is suspended after repeated no-shows.
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
  {
    // check-in and no-shows: status gains `released` (a CHECK cannot be altered in SQLite, so the
    // table is rebuilt with its rows, indexes and triggers; the triggers still weigh only `booked`)
    id: '0402_telework_booking_checkin',
    sql: `CREATE TABLE telework_bookings_next (
      org TEXT NOT NULL,
      id TEXT NOT NULL,
      site_id TEXT NOT NULL,
      place_id TEXT NOT NULL,
      sub TEXT NOT NULL,
      start_at INTEGER NOT NULL,
      end_at INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'released')),
      created_at INTEGER NOT NULL,
      cancelled_at INTEGER,
      checked_in_at INTEGER,
      check_in_source TEXT CHECK (check_in_source IN ('network', 'manual')),
      released_at INTEGER,
      PRIMARY KEY (org, id),
      CHECK (end_at > start_at),
      FOREIGN KEY (org, site_id, place_id) REFERENCES telework_places (org, site_id, id) ON DELETE CASCADE
    );
    INSERT INTO telework_bookings_next (org, id, site_id, place_id, sub, start_at, end_at, status, created_at, cancelled_at)
      SELECT org, id, site_id, place_id, sub, start_at, end_at, status, created_at, cancelled_at FROM telework_bookings;
    DROP TABLE telework_bookings;
    ALTER TABLE telework_bookings_next RENAME TO telework_bookings;
    CREATE INDEX telework_bookings_place ON telework_bookings (org, site_id, place_id, start_at);
    CREATE INDEX telework_bookings_person ON telework_bookings (org, sub, end_at);
    CREATE INDEX telework_bookings_due ON telework_bookings (start_at) WHERE status = 'booked' AND checked_in_at IS NULL;
    CREATE INDEX telework_bookings_no_shows ON telework_bookings (org, sub, start_at) WHERE status = 'released';
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
    END;
    CREATE TABLE telework_suspensions (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      from_at INTEGER NOT NULL,
      until_at INTEGER NOT NULL,
      no_shows INTEGER NOT NULL,
      PRIMARY KEY (org, sub, from_at),
      CHECK (until_at > from_at)
    );`,
  },
];
