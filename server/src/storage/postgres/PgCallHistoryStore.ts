/** Call history on PostgreSQL (one row per person and call; the people of the call as JSON text). */
import {
  CALL_HISTORY_COLUMNS,
  type CallHistoryRecord,
  type CallHistoryRecordPage,
  type CallHistoryRow,
  type CallHistoryStore,
  callHistoryValues,
  toCallHistoryRecord,
} from '../CallHistoryStore.ts';
import type { PgDb } from './PgDb.ts';

export class PgCallHistoryStore implements CallHistoryStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async add(org: string, sub: string, e: CallHistoryRecord, keep: number): Promise<void> {
    await this.#db.tx(async (tx) => {
      await tx.query(
        `INSERT INTO call_history (org, sub, ${CALL_HISTORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (org, sub, call_id) DO NOTHING`,
        [org, sub, ...callHistoryValues(e, (b) => b)],
      );
      await tx.query(
        `DELETE FROM call_history WHERE org = $1 AND sub = $2 AND call_id NOT IN (
           SELECT call_id FROM call_history WHERE org = $1 AND sub = $2 ORDER BY ended_at DESC, call_id DESC LIMIT $3)`,
        [org, sub, keep],
      );
    });
  }

  async list(org: string, sub: string, limit: number): Promise<CallHistoryRecordPage> {
    const rows = await this.#db.query<CallHistoryRow>(
      `SELECT ${CALL_HISTORY_COLUMNS} FROM call_history WHERE org = $1 AND sub = $2
       ORDER BY ended_at DESC, call_id DESC LIMIT $3`,
      [org, sub, limit],
    );
    const [count] = await this.#db.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM call_history WHERE org = $1 AND sub = $2 AND unread',
      [org, sub],
    );
    return { entries: rows.map(toCallHistoryRecord), unread: Number(count?.n ?? 0) };
  }

  async markRead(org: string, sub: string): Promise<number> {
    const rows = await this.#db.query<{ call_id: string }>(
      'UPDATE call_history SET unread = false WHERE org = $1 AND sub = $2 AND unread RETURNING call_id',
      [org, sub],
    );
    return rows.length;
  }
}
