import type { Migration } from '../SqliteDb.ts';

/** Video rooms (id range 0300). */
export const mediaMigrations: Migration[] = [
  {
    id: '0300_media_rooms',
    sql: `CREATE TABLE media_rooms (
      id TEXT PRIMARY KEY,
      tier TEXT NOT NULL CHECK (tier IN ('personal', 'standard', 'immersive')),
      name TEXT,
      owner_sub TEXT NOT NULL,
      doc_name TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      closed_at INTEGER
    );
    CREATE INDEX media_rooms_owner ON media_rooms (owner_sub, created_at);
    CREATE TRIGGER media_rooms_tier_fixed BEFORE UPDATE OF tier ON media_rooms
      WHEN NEW.tier <> OLD.tier BEGIN SELECT RAISE(ABORT, 'a room tier cannot change'); END;
    CREATE TABLE media_room_bans (
      room_id TEXT NOT NULL REFERENCES media_rooms (id),
      sub TEXT NOT NULL,
      banned_by TEXT NOT NULL,
      banned_at INTEGER NOT NULL,
      PRIMARY KEY (room_id, sub)
    );`,
  },
  {
    // issue 11: a room belongs to one organisation (rooms made before this belong to 'default',
    // the org of tokens that name none); it never moves to another
    id: '0301_media_room_org',
    sql: `ALTER TABLE media_rooms ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
    CREATE TRIGGER media_rooms_org_fixed BEFORE UPDATE OF org ON media_rooms
      WHEN NEW.org <> OLD.org BEGIN SELECT RAISE(ABORT, 'a room org cannot change'); END;`,
  },
];
