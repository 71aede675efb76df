import type { PgMigration } from '../PgDb.ts';

/**
 * The telework org directory and public-holiday calendar on PostgreSQL (id range 0500): the same
 * tables and rules as SQLite's (sqlite/migrations/directory.ts), with BIGINT milliseconds and
 * SMALLINT 0/1 flags (one row conversion for both). Nobody is their own manager
 * (`telework_people_no_self_manager`).
 */
export const directoryMigrations: PgMigration[] = [
  {
    id: '0500_telework_directory',
    sql: `CREATE TABLE telework_people (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      name TEXT NOT NULL,
      team TEXT NOT NULL,
      manager TEXT,
      home_site_id TEXT,
      duty_excludes_telework SMALLINT NOT NULL CHECK (duty_excludes_telework IN (0, 1)),
      priority_categories TEXT NOT NULL,
      routine_duties SMALLINT NOT NULL CHECK (routine_duties IN (0, 1)),
      active SMALLINT NOT NULL CHECK (active IN (0, 1)),
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      CONSTRAINT telework_people_pkey PRIMARY KEY (org, sub),
      CONSTRAINT telework_people_no_self_manager CHECK (manager IS NULL OR manager <> sub)
    );
    CREATE INDEX telework_people_manager ON telework_people (org, manager);
    CREATE TABLE telework_holidays (
      org TEXT NOT NULL,
      day TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      CONSTRAINT telework_holidays_pkey PRIMARY KEY (org, day)
    );`,
  },
];
