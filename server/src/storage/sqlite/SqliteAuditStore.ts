/**
 * The audit log on SQLite: append-only (triggers refuse UPDATE and DELETE), `detail` stored as
 * JSON text, hash-chained. Appends are group-committed: those of one event-loop turn go in one
 * transaction on the next turn (one fsync for all; a wave of sign-ins was one synchronous commit
 * each on the main thread), which reads the chain's head once, chains each row onto the one before
 * and writes the new head (node:sqlite is synchronous, so batches of this process never interleave);
 * each append resolves once its batch committed.
 */
import type { AuditAnchor, AuditChainRow, AuditEntry, AuditStore, StoredAuditEntry } from '../AuditStore.ts';
import { orgOf, rowHash } from '../auditChain.ts';
import {
  AUDIT_ANCHOR_COLUMNS,
  AUDIT_CHAIN_COLUMNS,
  AUDIT_COLUMNS,
  type AuditAnchorRow,
  type AuditChainSqlRow,
  type AuditRow,
  auditLimit,
  toAuditAnchor,
  toAuditChainRow,
  toAuditEntry,
} from '../sqlRows.ts';
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

  /** Commit every waiting append now (before a read, and before the database closes). */
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
      ids = this.#db.tx(() => {
        const head = this.#db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
        if (!head) throw new Error('audit_head is missing (migration 0900_audit_chain)');
        let seq = Number(head.seq);
        let prevHash = head.hash;
        const out = batch.map(({ entry, at }) => {
          seq += 1;
          const detail = entry.detail ? JSON.stringify(entry.detail) : null;
          const row = {
            seq,
            at,
            org: orgOf(entry),
            actor: entry.actor,
            action: entry.action,
            target: entry.target ?? null,
            detail,
            prevHash,
          };
          const hash = rowHash(row);
          const { lastInsertRowid } = this.#db.run(
            `INSERT INTO audit_log (at, actor, action, target, detail, org, seq, prev_hash, hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            at,
            entry.actor,
            entry.action,
            row.target,
            detail,
            row.org,
            seq,
            prevHash,
            hash,
          );
          prevHash = hash;
          return Number(lastInsertRowid);
        });
        this.#db.run('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1', seq, prevHash);
        return out;
      });
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

  async chain(q: { afterSeq?: number; org?: string; limit: number }): Promise<AuditChainRow[]> {
    this.flushAll();
    return this.#db
      .all<AuditChainSqlRow>(
        `SELECT ${AUDIT_CHAIN_COLUMNS} FROM audit_log
         WHERE seq > ? AND (? IS NULL OR org = ?) ORDER BY seq LIMIT ?`,
        q.afterSeq ?? 0,
        q.org ?? null,
        q.org ?? null,
        Math.max(1, Math.min(q.limit, 10_000)),
      )
      .map(toAuditChainRow);
  }

  async unchainedCount(): Promise<number> {
    this.flushAll();
    return Number(this.#db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log WHERE seq IS NULL')?.n ?? 0);
  }

  async head(): Promise<{ seq: number; hash: string }> {
    this.flushAll();
    const h = this.#db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
    if (!h) throw new Error('audit_head is missing (migration 0900_audit_chain)');
    return { seq: Number(h.seq), hash: h.hash };
  }

  async addAnchor(a: AuditAnchor): Promise<void> {
    this.#db.run(
      'INSERT INTO audit_anchors (at, seq, hash, key_id, signature) VALUES (?, ?, ?, ?, ?)',
      a.at,
      a.seq,
      a.hash,
      a.keyId,
      a.signature,
    );
  }

  async anchors(): Promise<AuditAnchor[]> {
    return this.#db
      .all<AuditAnchorRow>(`SELECT ${AUDIT_ANCHOR_COLUMNS} FROM audit_anchors ORDER BY id`)
      .map(toAuditAnchor);
  }
}
