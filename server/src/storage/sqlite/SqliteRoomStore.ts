/** Video rooms and their bans on SQLite (the RoomStore of a single node). */
import { MoimError } from '@moim/protocol';
import type { RoomRecord, RoomStore } from '../RoomStore.ts';
import { ROOM_COLUMNS, type RoomRow, roomValues, toRoomRecord } from '../sqlRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

export class SqliteRoomStore implements RoomStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async create(room: Omit<RoomRecord, 'closedAt'>): Promise<RoomRecord> {
    try {
      this.#db.run(
        'INSERT INTO media_rooms (id, org, tier, name, owner_sub, doc_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ...roomValues(room),
      );
    } catch (err) {
      if (/UNIQUE|PRIMARY KEY/i.test((err as Error).message))
        throw new MoimError('CONFLICT', `room ${room.id} exists`, { cause: err });
      throw err;
    }
    return { ...room, closedAt: null };
  }

  async get(org: string, id: string): Promise<RoomRecord | undefined> {
    const row = this.#db.get<RoomRow>(`SELECT ${ROOM_COLUMNS} FROM media_rooms WHERE id = ? AND org = ?`, id, org);
    return row ? toRoomRecord(row) : undefined;
  }

  async close(id: string, at: number): Promise<boolean> {
    return this.#db.run('UPDATE media_rooms SET closed_at = ? WHERE id = ? AND closed_at IS NULL', at, id).changes > 0;
  }

  async ban(roomId: string, sub: string, by: string, at: number): Promise<void> {
    this.#db.run(
      'INSERT INTO media_room_bans (room_id, sub, banned_by, banned_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      roomId,
      sub,
      by,
      at,
    );
  }

  async isBanned(roomId: string, sub: string): Promise<boolean> {
    return this.#db.get('SELECT 1 AS x FROM media_room_bans WHERE room_id = ? AND sub = ?', roomId, sub) !== undefined;
  }
}
