/** Video rooms and their bans on PostgreSQL (the RoomStore of a cluster). */
import { MoimError } from '@moim/protocol';
import type { RoomRecord, RoomStore } from '../RoomStore.ts';
import { ROOM_COLUMNS, type RoomRow, roomValues, toRoomRecord } from '../sqlRows.ts';
import { isUniqueViolation, type PgDb } from './PgDb.ts';

/**
 * Video rooms on PostgreSQL. The room id is the primary key: of two nodes creating the same room
 * at once, exactly one succeeds and the other gets CONFLICT.
 */
export class PgRoomStore implements RoomStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async create(room: Omit<RoomRecord, 'closedAt'>): Promise<RoomRecord> {
    try {
      await this.#db.query(
        `INSERT INTO media_rooms (id, org, tier, name, owner_sub, doc_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        roomValues(room),
      );
    } catch (err) {
      if (isUniqueViolation(err, 'media_rooms_pkey'))
        throw new MoimError('CONFLICT', `room ${room.id} exists`, { cause: err });
      throw err;
    }
    return { ...room, closedAt: null };
  }

  async get(org: string, id: string): Promise<RoomRecord | undefined> {
    const row = await this.#db.one<RoomRow>(`SELECT ${ROOM_COLUMNS} FROM media_rooms WHERE id = $1 AND org = $2`, [
      id,
      org,
    ]);
    return row ? toRoomRecord(row) : undefined;
  }

  async close(id: string, at: number): Promise<boolean> {
    const rows = await this.#db.query(
      'UPDATE media_rooms SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL RETURNING 1 AS x',
      [at, id],
    );
    return rows.length > 0;
  }

  async ban(roomId: string, sub: string, by: string, at: number): Promise<void> {
    await this.#db.query(
      'INSERT INTO media_room_bans (room_id, sub, banned_by, banned_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [roomId, sub, by, at],
    );
  }

  async isBanned(roomId: string, sub: string): Promise<boolean> {
    return (
      (await this.#db.one('SELECT 1 AS x FROM media_room_bans WHERE room_id = $1 AND sub = $2', [roomId, sub])) !==
      undefined
    );
  }
}
