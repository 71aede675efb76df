/**
 * The audit log on SQLite: append-only (triggers refuse UPDATE and DELETE), `detail` stored as
 * JSON text, hash-chained: the head is read and the row and new head written in one transaction
 * (node:sqlite is synchronous, so appends of this process never interleave).
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

export class SqliteAuditStore implements AuditStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async append(entry: AuditEntry): Promise<StoredAuditEntry> {
    const at = Date.now();
    const detail = entry.detail ? JSON.stringify(entry.detail) : null;
    const org = orgOf(entry);
    return this.#db.tx(() => {
      const head = this.#db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
      if (!head) throw new Error('audit_head is missing (migration 0900_audit_chain)');
      const seq = Number(head.seq) + 1;
      const row = {
        seq,
        at,
        org,
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        detail,
        prevHash: head.hash,
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
        org,
        seq,
        head.hash,
        hash,
      );
      this.#db.run('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1', seq, hash);
      return { ...entry, id: lastInsertRowid, at };
    });
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

  async chain(q: { afterSeq?: number; org?: string; limit: number }): Promise<AuditChainRow[]> {
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
    return Number(this.#db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log WHERE seq IS NULL')?.n ?? 0);
  }

  async head(): Promise<{ seq: number; hash: string }> {
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
