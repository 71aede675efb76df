/**
 * The audit log on SQLite: append-only, `detail` stored as JSON text. Appends are group-committed:
 * those of one event-loop turn go in one transaction on the next turn (one fsync for all; a wave
 * of sign-ins was one synchronous commit each on the main thread), and each resolves once its
 * batch committed.
 */
import type { AuditEntry, AuditStore, StoredAuditEntry } from '../AuditStore.ts';
import { AUDIT_COLUMNS, type AuditRow, auditLimit, toAuditEntry } from '../sqlRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

/** Most entries written in one transaction (the rest go in the next turn's). */
const MAX_BATCH = 512;

interface Pending {
  entry: AuditEntry;
  at: number;
  resolve: (stored: StoredAuditEntry) => void;
  reject: (err: unknown) => void;
}

export class SqliteAuditStore implements AuditStore {
  readonly #db: SqliteDb;
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  append(entry: AuditEntry): Promise<StoredAuditEntry> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ entry, at: Date.now(), resolve, reject });
      this.#schedule();
    });
  }

  /** Commit every waiting append now (the store's owner calls it before closing the database). */
  flushAll(): void {
    while (this.#pending.length > 0) this.#flush();
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    if (this.#pending.length > 0) this.#schedule();
    let ids: number[];
    try {
      ids = this.#db.tx(() =>
        batch.map(
          ({ entry, at }) =>
            this.#db.run(
              'INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
              at,
              entry.actor,
              entry.action,
              entry.target ?? null,
              entry.detail ? JSON.stringify(entry.detail) : null,
            ).lastInsertRowid,
        ),
      );
    } catch (err) {
      // every append of the batch fails with the commit's error (the callers handle it)
      for (const p of batch) p.reject(err);
      return;
    }
    for (const [i, p] of batch.entries()) p.resolve({ ...p.entry, id: ids[i] as number, at: p.at });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  async list(q: { afterId?: number; actor?: string; action?: string; limit: number }): Promise<StoredAuditEntry[]> {
    // a read sees every append made before it
    this.flushAll();
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
