import type { Migration } from '../SqliteDb.ts';

/**
 * Telework attendance (id range 0700): one row per person per working day (`day` in the site's
 * time zone), `last_out` NULL while the day is open. `closes_at` is the site's closing time that
 * day, so the scheduler finds the days to close without knowing time zones (partial index on the
 * open ones).
 */
export const attendanceMigrations: Migration[] = [
  {
    id: '0700_attendance',
    sql: `CREATE TABLE telework_attendance (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      day TEXT NOT NULL,
      site_id TEXT NOT NULL,
      source TEXT NOT NULL CHECK (source IN ('network', 'declared')),
      first_in INTEGER NOT NULL,
      last_out INTEGER,
      closes_at INTEGER NOT NULL,
      minutes INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0),
      flags TEXT NOT NULL,
      closed_by TEXT CHECK (closed_by IN ('disconnect', 'auto')),
      teams TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, sub, day)
    );
    CREATE INDEX telework_attendance_day ON telework_attendance (org, day, sub);
    CREATE INDEX telework_attendance_open ON telework_attendance (closes_at) WHERE last_out IS NULL;`,
  },
];
