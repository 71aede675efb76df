import type { Migration } from '../SqliteDb.ts';

/**
 * Work reports of telework days (id range 0800): one per person and day; `comments` a JSON array;
 * times in ms. `telework_reports_overdue` serves the reminder job's scan.
 */
export const reportMigrations: Migration[] = [
  {
    id: '0800_telework_reports',
    sql: `CREATE TABLE telework_reports (
      org TEXT NOT NULL,
      id TEXT NOT NULL,
      sub TEXT NOT NULL,
      day TEXT NOT NULL,
      request_id TEXT NOT NULL,
      site_id TEXT NOT NULL,
      tasks TEXT NOT NULL,
      doc_name TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('due', 'submitted', 'reviewed', 'cancelled')),
      due_at INTEGER NOT NULL,
      submitted_at INTEGER,
      reviewed_by TEXT,
      reviewed_at INTEGER,
      reminded_at INTEGER,
      comments TEXT NOT NULL DEFAULT '[]',
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, id),
      UNIQUE (org, sub, day),
      UNIQUE (org, doc_name)
    );
    CREATE INDEX telework_reports_day ON telework_reports (org, day, sub);
    CREATE INDEX telework_reports_overdue ON telework_reports (due_at) WHERE status = 'due' AND reminded_at IS NULL;`,
  },
];
