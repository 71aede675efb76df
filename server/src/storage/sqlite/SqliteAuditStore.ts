import type { AuditEntry, AuditStore, StoredAuditEntry } from '../AuditStore.ts';
import type { SqliteDb } from './SqliteDb.ts';

interface Row {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
}

export class SqliteAuditStore implements AuditStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async append(entry: AuditEntry): Promise<StoredAuditEntry> {
    const at = Date.now();
    const detail = entry.detail ? JSON.stringify(entry.detail) : null;
    const { lastInsertRowid } = this.#db.run(
      'INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
      at,
      entry.actor,
      entry.action,
      entry.target ?? null,
      detail,
    );
    return { ...entry, id: lastInsertRowid, at };
  }

  async list(q: { afterId?: number; actor?: string; action?: string; limit: number }): Promise<StoredAuditEntry[]> {
    const rows = this.#db.all<Row>(
      `SELECT id, at, actor, action, target, detail FROM audit_log
       WHERE id > ? AND (? IS NULL OR actor = ?) AND (? IS NULL OR action = ?)
       ORDER BY id LIMIT ?`,
      q.afterId ?? 0,
      q.actor ?? null,
      q.actor ?? null,
      q.action ?? null,
      q.action ?? null,
      Math.min(Math.max(q.limit, 1), 1000),
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      ...(r.target === null ? {} : { target: r.target }),
      ...(r.detail === null ? {} : { detail: JSON.parse(r.detail) as Record<string, unknown> }),
    }));
  }
}
