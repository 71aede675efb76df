import type { Migration } from '../SqliteDb.ts';

/**
 * Security (id range 0900): the audit log's hash chain (seq, prev_hash, hash; the head row every
 * append updates in its transaction; signed anchors, append-only) and the data-leak policies of
 * rooms, channels and documents (policy/ContentPolicy.ts). Rows written before 0900 keep seq NULL.
 */
export const securityMigrations: Migration[] = [
  {
    id: '0900_audit_chain',
    sql: `ALTER TABLE audit_log ADD COLUMN org TEXT;
    ALTER TABLE audit_log ADD COLUMN seq INTEGER;
    ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit_log ADD COLUMN hash TEXT;
    CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
    CREATE INDEX audit_log_org ON audit_log (org, seq);
    CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
    INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
    CREATE TABLE audit_anchors (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      hash TEXT NOT NULL,
      key_id TEXT NOT NULL,
      signature TEXT NOT NULL
    );
    CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;
    CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;`,
  },
  {
    id: '0901_content_policies',
    sql: `CREATE TABLE content_policies (
      org TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('room', 'channel', 'doc')),
      target TEXT NOT NULL,
      policy TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (org, kind, target)
    );`,
  },
];
