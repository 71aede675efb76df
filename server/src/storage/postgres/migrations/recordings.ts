import type { PgMigration } from '../PgDb.ts';

/** Meeting recordings on PostgreSQL (id range 1600), as SQLite's (sqlite/migrations/recordings.ts). */
export const recordingMigrations: PgMigration[] = [
  {
    id: '1650_recordings',
    sql: `CREATE TABLE recordings (
      id TEXT PRIMARY KEY,
      org TEXT NOT NULL,
      room_id TEXT NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('personal', 'standard', 'immersive')),
      started_by TEXT NOT NULL,
      started_at BIGINT NOT NULL,
      ended_at BIGINT,
      state TEXT NOT NULL CHECK (state IN ('recording', 'stopped', 'failed')),
      failure TEXT,
      expires_at BIGINT,
      manifest TEXT NOT NULL,
      files TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX recordings_room ON recordings (org, room_id, started_at);
    CREATE INDEX recordings_expiry ON recordings (expires_at) WHERE expires_at IS NOT NULL;
    CREATE FUNCTION recordings_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.org <> OLD.org OR NEW.room_id <> OLD.room_id THEN
        RAISE EXCEPTION 'a recording stays in its org and room';
      END IF;
      RETURN NEW;
    END
    $$;
    CREATE TRIGGER recordings_fixed BEFORE UPDATE OF org, room_id ON recordings
      FOR EACH ROW EXECUTE FUNCTION recordings_fixed();`,
  },
  {
    // the node recording it: when that node dies (cluster), the others fail what it left running
    id: '1651_recordings_node',
    sql: 'ALTER TABLE recordings ADD COLUMN node_id TEXT',
  },
];
