import type { PgMigration } from '../PgDb.ts';

/**
 * Core tables on PostgreSQL (id range 0001–0099): the audit log, presence, video rooms and
 * attachments' content. Same columns and rules as SQLite's (sqlite/migrations/core.ts, chat.ts
 * `0101_presence`, media.ts), with PostgreSQL types: BIGINT milliseconds, BOOLEAN, BYTEA.
 */
export const coreMigrations: PgMigration[] = [
  {
    // append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, as SQLite's triggers do
    id: '0001_core_audit',
    sql: `CREATE TABLE audit_log (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at BIGINT NOT NULL,
      actor TEXT NOT NULL,
      action TEXT NOT NULL,
      target TEXT,
      detail TEXT
    );
    CREATE INDEX audit_log_actor ON audit_log (actor, id);
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit log is append-only';
    END
    $$;
    CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();`,
  },
  {
    id: '0002_core_presence',
    sql: `CREATE TABLE presence_people (
      sub TEXT PRIMARY KEY,
      org TEXT NOT NULL,
      name TEXT NOT NULL,
      site TEXT NOT NULL,
      teams TEXT[] NOT NULL DEFAULT '{}',
      status TEXT,
      busy BOOLEAN NOT NULL DEFAULT false,
      last_seen BIGINT NOT NULL
    );`,
  },
  {
    // a room's tier and organisation never change once created
    id: '0003_core_media_rooms',
    sql: `CREATE TABLE media_rooms (
      id TEXT PRIMARY KEY,
      org TEXT NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('personal', 'standard', 'immersive')),
      name TEXT,
      owner_sub TEXT NOT NULL,
      doc_name TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      closed_at BIGINT
    );
    CREATE INDEX media_rooms_owner ON media_rooms (owner_sub, created_at);
    CREATE FUNCTION media_rooms_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.tier <> OLD.tier THEN RAISE EXCEPTION 'a room tier cannot change'; END IF;
      IF NEW.org <> OLD.org THEN RAISE EXCEPTION 'a room org cannot change'; END IF;
      RETURN NEW;
    END
    $$;
    CREATE TRIGGER media_rooms_fixed BEFORE UPDATE OF tier, org ON media_rooms
      FOR EACH ROW EXECUTE FUNCTION media_rooms_fixed();
    CREATE TABLE media_room_bans (
      room_id TEXT NOT NULL REFERENCES media_rooms (id),
      sub TEXT NOT NULL,
      banned_by TEXT NOT NULL,
      banned_at BIGINT NOT NULL,
      PRIMARY KEY (room_id, sub)
    );`,
  },
  {
    // attachments' content, readable from every node: a record per blob and its bytes in chunks
    // (≤ 256 KiB each, numbered from 0), written in one transaction with the record
    id: '0004_core_blobs',
    sql: `CREATE TABLE blobs (
      key TEXT PRIMARY KEY,
      size BIGINT NOT NULL,
      sha256 TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );
    CREATE TABLE blob_chunks (
      key TEXT NOT NULL REFERENCES blobs (key) ON DELETE CASCADE,
      n INTEGER NOT NULL,
      data BYTEA NOT NULL,
      PRIMARY KEY (key, n)
    );`,
  },
];
