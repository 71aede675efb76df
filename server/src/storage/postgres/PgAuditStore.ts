/**
 * The audit log on PostgreSQL: append-only (a trigger of migration 0001_core_audit refuses UPDATE,
 * DELETE and TRUNCATE). `detail` is stored as JSON text, as on SQLite. Hash-chained as one
 * serialized chain across nodes: an append locks the head row (`FOR UPDATE`), writes the row and
 * the new head, and commits; the next append on any node waits for that lock.
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
import type { PgDb } from './PgDb.ts';

export class PgAuditStore implements AuditStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async append(entry: AuditEntry): Promise<StoredAuditEntry> {
    const detail = entry.detail ? JSON.stringify(entry.detail) : null;
    const org = orgOf(entry);
    return this.#db.tx(async (tx) => {
      const head = await tx.one<{ seq: string; hash: string }>(
        'SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE',
      );
      if (!head) throw new Error('audit_head is missing (migration 0900_audit_chain)');
      // the time is taken under the lock: the chain's times never go backwards across nodes
      const at = Date.now();
      const seq = Number(head.seq) + 1;
      const target = entry.target ?? null;
      const hash = rowHash({
        seq,
        at,
        org,
        actor: entry.actor,
        action: entry.action,
        target,
        detail,
        prevHash: head.hash,
      });
      const row = await tx.one<{ id: string }>(
        `INSERT INTO audit_log (at, actor, action, target, detail, org, seq, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [at, entry.actor, entry.action, target, detail, org, seq, head.hash, hash],
      );
      if (!row) throw new Error(`audit append of ${entry.action} returned no id`);
      await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [seq, hash]);
      return { ...entry, id: Number(row.id), at };
    });
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

  async chain(q: { afterSeq?: number; org?: string; limit: number }): Promise<AuditChainRow[]> {
    const rows = await this.#db.query<AuditChainSqlRow>(
      `SELECT ${AUDIT_CHAIN_COLUMNS} FROM audit_log
       WHERE seq > $1 AND ($2::text IS NULL OR org = $2) ORDER BY seq LIMIT $3`,
      [q.afterSeq ?? 0, q.org ?? null, Math.max(1, Math.min(q.limit, 10_000))],
    );
    return rows.map(toAuditChainRow);
  }

  async unchainedCount(): Promise<number> {
    const rows = await this.#db.query<{ n: string }>('SELECT count(*) AS n FROM audit_log WHERE seq IS NULL');
    return Number(rows[0]?.n ?? 0);
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const rows = await this.#db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
    const h = rows[0];
    if (!h) throw new Error('audit_head is missing (migration 0900_audit_chain)');
    return { seq: Number(h.seq), hash: h.hash };
  }

  async addAnchor(a: AuditAnchor): Promise<void> {
    await this.#db.query('INSERT INTO audit_anchors (at, seq, hash, key_id, signature) VALUES ($1, $2, $3, $4, $5)', [
      a.at,
      a.seq,
      a.hash,
      a.keyId,
      a.signature,
    ]);
  }

  async anchors(): Promise<AuditAnchor[]> {
    const rows = await this.#db.query<AuditAnchorRow>(`SELECT ${AUDIT_ANCHOR_COLUMNS} FROM audit_anchors ORDER BY id`);
    return rows.map(toAuditAnchor);
  }
}
