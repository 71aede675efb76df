export interface AuditEntry {
  /** Who did it (a person's `sub`, or `system`). */
  actor: string;
  /** What, as a dotted verb: `auth.refused`, `room.create`, `room.remove-peer`, `doc.delete`… */
  action: string;
  /** What it was done to (room id, document name, channel id…). */
  target?: string;
  /** The organisation the entry belongs to (admins export their own); else `detail.org` when a string. */
  org?: string;
  detail?: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
  at: number;
}

/** One row of the hash chain exactly as stored (audit verify and export read these). */
export interface AuditChainRow {
  id: number;
  /** Position in the chain (1, 2, …); null for rows written before the chain existed. */
  seq: number | null;
  at: number;
  org: string | null;
  actor: string;
  action: string;
  target: string | null;
  /** The stored JSON text, as hashed. */
  detail: string | null;
  prevHash: string | null;
  hash: string | null;
}

/** The chain head signed with the audit key (audit/AuditAnchors.ts), so a cut tail is detected. */
export interface AuditAnchor {
  at: number;
  seq: number;
  hash: string;
  keyId: string;
  /** Ed25519 signature (base64) over `anchorMessage(seq, hash, at)`. */
  signature: string;
}

/**
 * Append-only log of security-relevant actions, hash-chained: each append reads the chain head
 * and writes the row and the new head in one transaction (one serialized chain, also across
 * nodes on PostgreSQL: the head row is locked). There is no update or delete.
 */
export interface AuditStore {
  append(entry: AuditEntry): Promise<StoredAuditEntry>;
  list(query: { afterId?: number; actor?: string; action?: string; limit: number }): Promise<StoredAuditEntry[]>;
  /** Rows in chain order (seq), after `afterSeq`, at most `limit`; rows of `org` only when given. */
  chain(query: { afterSeq?: number; org?: string; limit: number }): Promise<AuditChainRow[]>;
  /** Rows written before the chain existed (no seq): counted, not verifiable. */
  unchainedCount(): Promise<number>;
  /** The chain's last position and hash (0 and the genesis hash when empty). */
  head(): Promise<{ seq: number; hash: string }>;
  addAnchor(anchor: AuditAnchor): Promise<void>;
  anchors(): Promise<AuditAnchor[]>;
}
