/**
 * The audit log on PostgreSQL: append-only (a trigger of migration 0001_core_audit refuses UPDATE,
 * DELETE and TRUNCATE). `detail` is stored as JSON text, as on SQLite.
 */
import type { AuditEntry, AuditStore, StoredAuditEntry } from '../AuditStore.ts';
import { AUDIT_COLUMNS, type AuditRow, auditLimit, toAuditEntry } from '../sqlRows.ts';
import type { PgDb } from './PgDb.ts';

export class PgAuditStore implements AuditStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async append(entry: AuditEntry): Promise<StoredAuditEntry> {
    const at = Date.now();
    const row = await this.#db.one<{ id: string }>(
      'INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [at, entry.actor, entry.action, entry.target ?? null, entry.detail ? JSON.stringify(entry.detail) : null],
    );
    if (!row) throw new Error(`audit append of ${entry.action} returned no id`);
    return { ...entry, id: Number(row.id), at };
  }

  async list(q: { afterId?: number; actor?: string; action?: string; limit: number }): Promise<StoredAuditEntry[]> {
    const rows = await this.#db.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log
       WHERE id > $1 AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3)
       ORDER BY id LIMIT $4`,
      [q.afterId ?? 0, q.actor ?? null, q.action ?? null, auditLimit(q.limit)],
    );
    return rows.map(toAuditEntry);
  }
}
