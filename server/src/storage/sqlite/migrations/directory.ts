import type { Migration } from '../SqliteDb.ts';

/**
 * The telework org directory and public-holiday calendar (id range 0500). A person is keyed by
 * (org, sub); `manager` names another sub of the same org without a foreign key (managers may be
 * imported after their reports, or leave), but never the person themself. Flags are 0/1, the
 * priority categories a JSON array. `telework_people_manager` serves the walk down to reports.
 */
export const directoryMigrations: Migration[] = [
  {
    id: '0500_telework_directory',
    sql: `CREATE TABLE telework_people (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      name TEXT NOT NULL,
      team TEXT NOT NULL,
      manager TEXT,
      home_site_id TEXT,
      duty_excludes_telework INTEGER NOT NULL CHECK (duty_excludes_telework IN (0, 1)),
      priority_categories TEXT NOT NULL,
      routine_duties INTEGER NOT NULL CHECK (routine_duties IN (0, 1)),
      active INTEGER NOT NULL CHECK (active IN (0, 1)),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, sub),
      CHECK (manager IS NULL OR manager <> sub)
    );
    CREATE INDEX telework_people_manager ON telework_people (org, manager);
    CREATE TABLE telework_holidays (
      org TEXT NOT NULL,
      day TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, day)
    );`,
  },
];
