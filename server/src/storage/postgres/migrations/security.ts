import type { PgMigration } from '../PgDb.ts';

/** Security (id range 0900), as SQLite's (sqlite/migrations/security.ts) with PostgreSQL types. */
export const securityMigrations: PgMigration[] = [
  {
    id: '0900_audit_chain',
    sql: `ALTER TABLE audit_log ADD COLUMN org TEXT;
    ALTER TABLE audit_log ADD COLUMN seq BIGINT;
    ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit_log ADD COLUMN hash TEXT;
    CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
    CREATE INDEX audit_log_org ON audit_log (org, seq);
    CREATE TABLE audit_head (id INT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL);
    INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
    CREATE TABLE audit_anchors (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at BIGINT NOT NULL,
      seq BIGINT NOT NULL,
      hash TEXT NOT NULL,
      key_id TEXT NOT NULL,
      signature TEXT NOT NULL
    );
    CREATE TRIGGER audit_anchors_no_change BEFORE UPDATE OR DELETE ON audit_anchors
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();`,
  },
  {
    id: '0901_content_policies',
    sql: `CREATE TABLE content_policies (
      org TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('room', 'channel', 'doc')),
      target TEXT NOT NULL,
      policy TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (org, kind, target)
    );`,
  },
];
