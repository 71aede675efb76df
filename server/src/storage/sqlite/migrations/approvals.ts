import type { Migration } from '../SqliteDb.ts';

/**
 * Approvals (id range 0600): documents, their ordered steps and comments (which go with their
 * document), delegations of approval, and the days of telework requests (one row per request and
 * day, with its own status: a centre day may wait for a seat). Days are `YYYY-MM-DD` text, times
 * integer ms since the epoch.
 */
export const approvalMigrations: Migration[] = [
  {
    id: '0600_approvals',
    sql: `CREATE TABLE approval_docs (
      org TEXT NOT NULL,
      id TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('telework-request', 'attendance-correction', 'document')),
      applicant TEXT NOT NULL,
      title TEXT NOT NULL,
      body TEXT NOT NULL,
      payload TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'approved', 'rejected', 'cancelled')),
      version INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      submitted_at INTEGER,
      decided_at INTEGER,
      PRIMARY KEY (org, id)
    );
    CREATE INDEX approval_docs_applicant ON approval_docs (org, applicant, created_at);
    CREATE TABLE approval_steps (
      org TEXT NOT NULL,
      doc_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      approver TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('waiting', 'pending', 'approved', 'rejected')),
      decided_by TEXT,
      on_behalf_of TEXT,
      decided_at INTEGER,
      comment TEXT,
      due_at INTEGER,
      escalated_from TEXT,
      PRIMARY KEY (org, doc_id, idx),
      FOREIGN KEY (org, doc_id) REFERENCES approval_docs (org, id) ON DELETE CASCADE
    );
    CREATE INDEX approval_steps_approver ON approval_steps (org, approver);
    CREATE INDEX approval_steps_due ON approval_steps (due_at) WHERE status = 'pending';
    CREATE TABLE approval_comments (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      org TEXT NOT NULL,
      doc_id TEXT NOT NULL,
      author TEXT NOT NULL,
      text TEXT NOT NULL,
      at INTEGER NOT NULL,
      FOREIGN KEY (org, doc_id) REFERENCES approval_docs (org, id) ON DELETE CASCADE
    );
    CREATE INDEX approval_comments_doc ON approval_comments (org, doc_id, id);
    CREATE TABLE approval_delegations (
      org TEXT NOT NULL,
      delegator TEXT NOT NULL,
      delegate TEXT NOT NULL,
      from_day TEXT NOT NULL,
      until_day TEXT NOT NULL,
      starts_at INTEGER NOT NULL,
      ends_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (org, delegator, delegate),
      CHECK (ends_at > starts_at)
    );
    CREATE INDEX approval_delegations_delegate ON approval_delegations (org, delegate, starts_at);`,
  },
  {
    id: '0601_telework_request_days',
    sql: `CREATE TABLE telework_request_days (
      org TEXT NOT NULL,
      request_id TEXT NOT NULL,
      day TEXT NOT NULL,
      sub TEXT NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('home', 'smart-work-centre', 'mobile')),
      site_id TEXT NOT NULL,
      place_id TEXT,
      status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'waitlisted', 'rejected', 'cancelled')),
      priority INTEGER NOT NULL,
      requested_at INTEGER NOT NULL,
      PRIMARY KEY (org, request_id, day),
      FOREIGN KEY (org, request_id) REFERENCES approval_docs (org, id) ON DELETE CASCADE
    );
    CREATE INDEX telework_request_days_person ON telework_request_days (org, sub, day);
    CREATE INDEX telework_request_days_site ON telework_request_days (org, site_id, day, status);`,
  },
];
