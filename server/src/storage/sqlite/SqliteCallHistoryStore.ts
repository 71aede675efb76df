/** Call history on SQLite (one row per person and call; the people of the call as JSON). */
import {
  CALL_HISTORY_COLUMNS,
  type CallHistoryRecord,
  type CallHistoryRecordPage,
  type CallHistoryRow,
  type CallHistoryStore,
  callHistoryValues,
  toCallHistoryRecord,
} from '../CallHistoryStore.ts';
import type { SqliteDb } from './SqliteDb.ts';

export class SqliteCallHistoryStore implements CallHistoryStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async add(org: string, sub: string, e: CallHistoryRecord, keep: number): Promise<void> {
    this.#db.tx(() => {
      this.#db.run(
        `INSERT INTO call_history (org, sub, ${CALL_HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (org, sub, call_id) DO NOTHING`,
        org,
        sub,
        ...callHistoryValues(e, (b) => (b ? 1 : 0)),
      );
      this.#db.run(
        `DELETE FROM call_history WHERE org = ? AND sub = ? AND call_id NOT IN (
           SELECT call_id FROM call_history WHERE org = ? AND sub = ? ORDER BY ended_at DESC, call_id DESC LIMIT ?)`,
        org,
        sub,
        org,
        sub,
        keep,
      );
    });
  }

  async list(org: string, sub: string, limit: number): Promise<CallHistoryRecordPage> {
    const rows = this.#db.all<CallHistoryRow>(
      `SELECT ${CALL_HISTORY_COLUMNS} FROM call_history WHERE org = ? AND sub = ?
       ORDER BY ended_at DESC, call_id DESC LIMIT ?`,
      org,
      sub,
      limit,
    );
    const unread = this.#db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM call_history WHERE org = ? AND sub = ? AND unread = 1',
      org,
      sub,
    );
    return { entries: rows.map(toCallHistoryRecord), unread: Number(unread?.n ?? 0) };
  }

  async markRead(org: string, sub: string): Promise<number> {
    return this.#db.run('UPDATE call_history SET unread = 0 WHERE org = ? AND sub = ? AND unread = 1', org, sub)
      .changes;
  }
}
