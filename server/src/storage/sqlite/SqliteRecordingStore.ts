/** Meeting recordings on SQLite (the RecordingStore of a single node). */
import { MoimError } from '@moim/protocol';
import type { NewRecording, RecordingEnd, RecordingStore, StoredRecording } from '../RecordingStore.ts';
import { RECORDING_COLUMNS, type RecordingRow, toRecording } from '../recordingRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

export class SqliteRecordingStore implements RecordingStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async create(rec: NewRecording): Promise<void> {
    try {
      this.#db.run(
        `INSERT INTO recordings (id, org, room_id, tier, started_by, started_at, state, manifest, node_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        rec.id,
        rec.org,
        rec.roomId,
        rec.tier,
        rec.startedBy,
        rec.startedAt,
        rec.state,
        JSON.stringify(rec.manifest),
        rec.nodeId,
      );
    } catch (err) {
      if (/UNIQUE|PRIMARY KEY/i.test((err as Error).message))
        throw new MoimError('CONFLICT', `recording ${rec.id} exists`, { cause: err });
      throw err;
    }
  }

  async finish(id: string, end: RecordingEnd): Promise<boolean> {
    return (
      this.#db.run(
        `UPDATE recordings SET state = ?, ended_at = ?, failure = ?, expires_at = ?, manifest = ?, files = ?
         WHERE id = ? AND state = 'recording'`,
        end.state,
        end.endedAt,
        end.failure,
        end.expiresAt,
        JSON.stringify(end.manifest),
        JSON.stringify(end.files),
        id,
      ).changes > 0
    );
  }

  async get(org: string, id: string): Promise<StoredRecording | undefined> {
    const row = this.#db.get<RecordingRow>(
      `SELECT ${RECORDING_COLUMNS} FROM recordings WHERE id = ? AND org = ?`,
      id,
      org,
    );
    return row ? toRecording(row) : undefined;
  }

  async listForRoom(org: string, roomId: string, limit: number): Promise<StoredRecording[]> {
    return this.#db
      .all<RecordingRow>(
        `SELECT ${RECORDING_COLUMNS} FROM recordings WHERE org = ? AND room_id = ?
         ORDER BY started_at DESC, id DESC LIMIT ?`,
        org,
        roomId,
        limit,
      )
      .map(toRecording);
  }

  async expired(now: number, limit: number): Promise<StoredRecording[]> {
    return this.#db
      .all<RecordingRow>(
        `SELECT ${RECORDING_COLUMNS} FROM recordings WHERE expires_at IS NOT NULL AND expires_at <= ?
         ORDER BY expires_at, id LIMIT ?`,
        now,
        limit,
      )
      .map(toRecording);
  }

  async delete(id: string): Promise<void> {
    this.#db.run('DELETE FROM recordings WHERE id = ?', id);
  }

  async failRunning(before: number, failure: string): Promise<number> {
    return this.#db.run(
      `UPDATE recordings SET state = 'failed', failure = ?, ended_at = started_at
       WHERE state = 'recording' AND started_at < ?`,
      failure,
      before,
    ).changes;
  }

  async failRunningOn(nodeId: string, failure: string, at: number): Promise<number> {
    return this.#db.run(
      `UPDATE recordings SET state = 'failed', failure = ?, ended_at = ? WHERE state = 'recording' AND node_id = ?`,
      failure,
      at,
      nodeId,
    ).changes;
  }
}
