/** Meeting recordings on PostgreSQL (the RecordingStore of a cluster: every node reads them). */
import { MoimError } from '@moim/protocol';
import type { NewRecording, RecordingEnd, RecordingStore, StoredRecording } from '../RecordingStore.ts';
import { RECORDING_COLUMNS, type RecordingRow, toRecording } from '../recordingRows.ts';
import { isUniqueViolation, type PgDb } from './PgDb.ts';

export class PgRecordingStore implements RecordingStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async create(rec: NewRecording): Promise<void> {
    try {
      await this.#db.query(
        `INSERT INTO recordings (id, org, room_id, tier, started_by, started_at, state, manifest, node_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          rec.id,
          rec.org,
          rec.roomId,
          rec.tier,
          rec.startedBy,
          rec.startedAt,
          rec.state,
          JSON.stringify(rec.manifest),
          rec.nodeId,
        ],
      );
    } catch (err) {
      if (isUniqueViolation(err, 'recordings_pkey'))
        throw new MoimError('CONFLICT', `recording ${rec.id} exists`, { cause: err });
      throw err;
    }
  }

  async finish(id: string, end: RecordingEnd): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE recordings SET state = $1, ended_at = $2, failure = $3, expires_at = $4, manifest = $5, files = $6
       WHERE id = $7 AND state = 'recording' RETURNING 1 AS x`,
      [end.state, end.endedAt, end.failure, end.expiresAt, JSON.stringify(end.manifest), JSON.stringify(end.files), id],
    );
    return rows.length > 0;
  }

  async get(org: string, id: string): Promise<StoredRecording | undefined> {
    const row = await this.#db.one<RecordingRow>(
      `SELECT ${RECORDING_COLUMNS} FROM recordings WHERE id = $1 AND org = $2`,
      [id, org],
    );
    return row ? toRecording(row) : undefined;
  }

  async listForRoom(org: string, roomId: string, limit: number): Promise<StoredRecording[]> {
    const rows = await this.#db.query<RecordingRow>(
      `SELECT ${RECORDING_COLUMNS} FROM recordings WHERE org = $1 AND room_id = $2
       ORDER BY started_at DESC, id DESC LIMIT $3`,
      [org, roomId, limit],
    );
    return rows.map(toRecording);
  }

  async expired(now: number, limit: number): Promise<StoredRecording[]> {
    const rows = await this.#db.query<RecordingRow>(
      `SELECT ${RECORDING_COLUMNS} FROM recordings WHERE expires_at IS NOT NULL AND expires_at <= $1
       ORDER BY expires_at, id LIMIT $2`,
      [now, limit],
    );
    return rows.map(toRecording);
  }

  async delete(id: string): Promise<void> {
    await this.#db.query('DELETE FROM recordings WHERE id = $1', [id]);
  }

  async failRunning(before: number, failure: string): Promise<number> {
    const rows = await this.#db.query(
      `UPDATE recordings SET state = 'failed', failure = $1, ended_at = started_at
       WHERE state = 'recording' AND started_at < $2 RETURNING 1 AS x`,
      [failure, before],
    );
    return rows.length;
  }

  async failRunningOn(nodeId: string, failure: string, at: number): Promise<number> {
    const rows = await this.#db.query(
      `UPDATE recordings SET state = 'failed', failure = $1, ended_at = $2
       WHERE state = 'recording' AND node_id = $3 RETURNING 1 AS x`,
      [failure, at, nodeId],
    );
    return rows.length;
  }
}
