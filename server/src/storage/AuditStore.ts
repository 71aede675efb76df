export interface AuditEntry {
  /** Who did it (a person's `sub`, or `system`). */
  actor: string;
  /** What, as a dotted verb: `auth.refused`, `room.create`, `room.remove-peer`, `doc.delete`… */
  action: string;
  /** What it was done to (room id, document name, channel id…). */
  target?: string;
  detail?: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
  at: number;
}

/** Append-only log of security-relevant actions. There is no update or delete. */
export interface AuditStore {
  append(entry: AuditEntry): Promise<StoredAuditEntry>;
  list(query: { afterId?: number; actor?: string; action?: string; limit: number }): Promise<StoredAuditEntry[]>;
}
