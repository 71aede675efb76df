import type { PgMigration } from '../PgDb.ts';

/**
 * Telework sites and places on PostgreSQL (id range 0400): the same tables and rules as SQLite's
 * (sqlite/migrations/telework.ts), with BIGINT milliseconds. Overlapping booked bookings of a
 * place are refused by an exclusion constraint (`telework_bookings_no_overlap`, SQLSTATE 23P01)
 * over `int8range(start_at, end_at)` — half-open, so back-to-back slots do not overlap. It needs
 * `btree_gist` (for `=` on text in a GiST index): installed once per database, in `public`, so
 * dropping a node's own schema never drops it, under a database-wide lock so that nodes migrating
 * different schemas at once do not race on it. Released bookings (no-shows) and the suspensions
 * they lead to: 0402.
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
  {
    id: '0401_telework_bookings',
    sql: `SELECT pg_advisory_xact_lock(hashtext('moim-extension:btree_gist'));
    CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
    CREATE TABLE telework_bookings (
      org TEXT NOT NULL,
      id TEXT NOT NULL,
      site_id TEXT NOT NULL,
      place_id TEXT NOT NULL,
      sub TEXT NOT NULL,
      start_at BIGINT NOT NULL,
      end_at BIGINT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
      created_at BIGINT NOT NULL,
      cancelled_at BIGINT,
      CONSTRAINT telework_bookings_pkey PRIMARY KEY (org, id),
      CHECK (end_at > start_at),
      FOREIGN KEY (org, site_id, place_id) REFERENCES telework_places (org, site_id, id) ON DELETE CASCADE,
      CONSTRAINT telework_bookings_no_overlap EXCLUDE USING gist
        (org WITH =, site_id WITH =, place_id WITH =, int8range(start_at, end_at) WITH &&)
        WHERE (status = 'booked')
    );
    CREATE INDEX telework_bookings_person ON telework_bookings (org, sub, end_at);`,
  },
  {
    // check-in and no-shows: `released` (not checked in within the grace time) weighs as little as
    // `cancelled` in the exclusion constraint, whose WHERE is `status = 'booked'`
    id: '0402_telework_booking_checkin',
    sql: `ALTER TABLE telework_bookings DROP CONSTRAINT telework_bookings_status_check;
    ALTER TABLE telework_bookings
      ADD CONSTRAINT telework_bookings_status_check CHECK (status IN ('booked', 'cancelled', 'released')),
      ADD COLUMN checked_in_at BIGINT,
      ADD COLUMN check_in_source TEXT CHECK (check_in_source IN ('network', 'manual')),
      ADD COLUMN released_at BIGINT;
    CREATE INDEX telework_bookings_due ON telework_bookings (start_at) WHERE status = 'booked' AND checked_in_at IS NULL;
    CREATE INDEX telework_bookings_no_shows ON telework_bookings (org, sub, start_at) WHERE status = 'released';
    CREATE TABLE telework_suspensions (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      from_at BIGINT NOT NULL,
      until_at BIGINT NOT NULL,
      no_shows INTEGER NOT NULL,
      CONSTRAINT telework_suspensions_pkey PRIMARY KEY (org, sub, from_at),
      CHECK (until_at > from_at)
    );`,
  },
];
