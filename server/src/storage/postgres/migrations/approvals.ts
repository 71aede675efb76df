import type { PgMigration } from '../PgDb.ts';

/**
 * Approvals on PostgreSQL (id range 0600): the same tables and rules as SQLite's
 * (sqlite/migrations/approvals.ts), with BIGINT milliseconds. Ids and days compare in the "C"
 * collation, so list cursors and day ranges order exactly as on SQLite.
 */
export const approvalMigrations: PgMigration[] = [
  {
    id: '0600_approvals',
    sql: `CREATE TABLE approval_docs (
      org TEXT NOT NULL,
      id TEXT COLLATE "C" NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('telework-request', 'attendance-correction', 'document')),
      applicant TEXT NOT NULL,
      title TEXT NOT NULL,
      body TEXT NOT NULL,
      payload TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'approved', 'rejected', 'cancelled')),
      version INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      submitted_at BIGINT,
      decided_at BIGINT,
      CONSTRAINT approval_docs_pkey PRIMARY KEY (org, id)
    );
    CREATE INDEX approval_docs_applicant ON approval_docs (org, applicant, created_at);
    CREATE TABLE approval_steps (
      org TEXT NOT NULL,
      doc_id TEXT COLLATE "C" NOT NULL,
      idx INTEGER NOT NULL,
      approver TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('waiting', 'pending', 'approved', 'rejected')),
      decided_by TEXT,
      on_behalf_of TEXT,
      decided_at BIGINT,
      comment TEXT,
      due_at BIGINT,
      escalated_from TEXT,
      CONSTRAINT approval_steps_pkey PRIMARY KEY (org, doc_id, idx),
      FOREIGN KEY (org, doc_id) REFERENCES approval_docs (org, id) ON DELETE CASCADE
    );
    CREATE INDEX approval_steps_approver ON approval_steps (org, approver);
    CREATE INDEX approval_steps_due ON approval_steps (due_at) WHERE status = 'pending';
    CREATE TABLE approval_comments (
      id BIGSERIAL PRIMARY KEY,
      org TEXT NOT NULL,
      doc_id TEXT COLLATE "C" NOT NULL,
      author TEXT NOT NULL,
      text TEXT NOT NULL,
      at BIGINT NOT NULL,
      FOREIGN KEY (org, doc_id) REFERENCES approval_docs (org, id) ON DELETE CASCADE
    );
    CREATE INDEX approval_comments_doc ON approval_comments (org, doc_id, id);
    CREATE TABLE approval_delegations (
      org TEXT NOT NULL,
      delegator TEXT COLLATE "C" NOT NULL,
      delegate TEXT COLLATE "C" NOT NULL,
      from_day TEXT NOT NULL,
      until_day TEXT NOT NULL,
      starts_at BIGINT NOT NULL,
      ends_at BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      CONSTRAINT approval_delegations_pkey PRIMARY KEY (org, delegator, delegate),
      CHECK (ends_at > starts_at)
    );
    CREATE INDEX approval_delegations_delegate ON approval_delegations (org, delegate, starts_at);`,
  },
  {
    id: '0601_telework_request_days',
    sql: `CREATE TABLE telework_request_days (
      org TEXT NOT NULL,
      request_id TEXT COLLATE "C" NOT NULL,
      day TEXT COLLATE "C" NOT NULL,
      sub TEXT NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('home', 'smart-work-centre', 'mobile')),
      site_id TEXT NOT NULL,
      place_id TEXT,
      status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'waitlisted', 'rejected', 'cancelled')),
      priority INTEGER NOT NULL,
      requested_at BIGINT NOT NULL,
      CONSTRAINT telework_request_days_pkey PRIMARY KEY (org, request_id, day),
      FOREIGN KEY (org, request_id) REFERENCES approval_docs (org, id) ON DELETE CASCADE
    );
    CREATE INDEX telework_request_days_person ON telework_request_days (org, sub, day);
    CREATE INDEX telework_request_days_site ON telework_request_days (org, site_id, day, status);`,
  },
];
