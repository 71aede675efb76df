import type { PgMigration } from '../PgDb.ts';

/**
 * Telework attendance on PostgreSQL (id range 0700): the same table as SQLite's
 * (sqlite/migrations/attendance.ts), with BIGINT milliseconds.
 */
export const attendanceMigrations: PgMigration[] = [
  {
    id: '0700_attendance',
    sql: `CREATE TABLE telework_attendance (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      day TEXT NOT NULL,
      site_id TEXT NOT NULL,
      source TEXT NOT NULL CHECK (source IN ('network', 'declared')),
      first_in BIGINT NOT NULL,
      last_out BIGINT,
      closes_at BIGINT NOT NULL,
      minutes INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0),
      flags TEXT NOT NULL,
      closed_by TEXT CHECK (closed_by IN ('disconnect', 'auto')),
      teams TEXT NOT NULL,
      updated_at BIGINT NOT NULL,
      CONSTRAINT telework_attendance_pkey PRIMARY KEY (org, sub, day)
    );
    CREATE INDEX telework_attendance_day ON telework_attendance (org, day, sub);
    CREATE INDEX telework_attendance_open ON telework_attendance (closes_at) WHERE last_out IS NULL;`,
  },
];
