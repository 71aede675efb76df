/** The audit log on SQLite: append-only, `detail` stored as JSON text. */
import type { AuditEntry, AuditStore, StoredAuditEntry } from '../AuditStore.ts';
import { AUDIT_COLUMNS, type AuditRow, auditLimit, toAuditEntry } from '../sqlRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

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
    return this.#db
      .all<AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM audit_log
         WHERE id > ? AND (? IS NULL OR actor = ?) AND (? IS NULL OR action = ?)
         ORDER BY id LIMIT ?`,
        q.afterId ?? 0,
        q.actor ?? null,
        q.actor ?? null,
        q.action ?? null,
        q.action ?? null,
        auditLimit(q.limit),
      )
      .map(toAuditEntry);
  }
}
