import type { Migration } from '../SqliteDb.ts';

/** Meeting recordings (id range 1600). */
export const recordingMigrations: Migration[] = [
  {
    id: '1650_recordings',
    sql: `CREATE TABLE recordings (
      id TEXT PRIMARY KEY,
      org TEXT NOT NULL,
      room_id TEXT NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('personal', 'standard', 'immersive')),
      started_by TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      ended_at INTEGER,
      state TEXT NOT NULL CHECK (state IN ('recording', 'stopped', 'failed')),
      failure TEXT,
      expires_at INTEGER,
      manifest TEXT NOT NULL,
      files TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX recordings_room ON recordings (org, room_id, started_at);
    CREATE INDEX recordings_expiry ON recordings (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TRIGGER recordings_fixed BEFORE UPDATE OF org, room_id ON recordings
      WHEN NEW.org <> OLD.org OR NEW.room_id <> OLD.room_id
      BEGIN SELECT RAISE(ABORT, 'a recording stays in its org and room'); END;`,
  },
  {
    // the node recording it: when that node dies (cluster), the others fail what it left running
    id: '1651_recordings_node',
    sql: 'ALTER TABLE recordings ADD COLUMN node_id TEXT',
  },
];
