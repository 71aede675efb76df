import type { PgMigration } from '../PgDb.ts';

/** Work reports of telework days on PostgreSQL (id range 0800): the same table as SQLite's, BIGINT ms. */
export const reportMigrations: PgMigration[] = [
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
      due_at BIGINT NOT NULL,
      submitted_at BIGINT,
      reviewed_by TEXT,
      reviewed_at BIGINT,
      reminded_at BIGINT,
      comments TEXT NOT NULL DEFAULT '[]',
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      CONSTRAINT telework_reports_pkey PRIMARY KEY (org, id),
      CONSTRAINT telework_reports_day_key UNIQUE (org, sub, day),
      CONSTRAINT telework_reports_doc_key UNIQUE (org, doc_name)
    );
    CREATE INDEX telework_reports_day ON telework_reports (org, day, sub);
    CREATE INDEX telework_reports_overdue ON telework_reports (due_at) WHERE status = 'due' AND reminded_at IS NULL;`,
  },
];
