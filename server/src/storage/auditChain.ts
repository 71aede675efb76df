/**
 * The audit log's hash chain: each row carries the hash of the row before it (`prev_hash`) and its
 * own hash, SHA-256 over a canonical encoding of its stored columns. Both backends and the
 * verifier (audit/verifyChain.ts) use these functions, so what is written is what is checked.
 */
import { createHash } from 'node:crypto';

/** The `prev_hash` of the first chained row. */
export const GENESIS_HASH = '0'.repeat(64);

/** A row as stored: `detail` is the stored JSON text (hashed as text, never re-serialised). */
export interface ChainRow {
  seq: number;
  at: number;
  org: string | null;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
  prevHash: string;
}

/**
 * Canonical encoding: a JSON array in a fixed order with a version tag. JSON.stringify of strings,
 * numbers and null is deterministic, so every node and the verifier encode a row alike.
 */
export function canonicalRow(r: ChainRow): string {
  return JSON.stringify(['moim-audit-v1', r.seq, r.at, r.org, r.actor, r.action, r.target, r.detail, r.prevHash]);
}

export function rowHash(r: ChainRow): string {
  return createHash('sha256').update(canonicalRow(r), 'utf8').digest('hex');
}

/** The organisation a row is filed under: the entry's own, else a string `detail.org`. */
export function orgOf(entry: {
  org?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}): string | null {
  if (entry.org !== undefined) return entry.org;
  const o = entry.detail?.org;
  return typeof o === 'string' ? o : null;
}
