/**
 * Rows as the SQL drivers return them and the records they become, for the stores both backends
 * share (documents and their titles, rooms, presence, audit): node:sqlite answers integers as numbers and booleans
 * as 0/1, node-postgres BIGINT as text and BOOLEAN as booleans, so each mapper takes either.
 * Dependency-free (type imports only), so worker threads may load it.
 */
import type { AuditAnchor, AuditChainRow, AuditEntry, StoredAuditEntry } from './AuditStore.ts';
import type { DocListRow, DocRecord, StoredDocVersion } from './DocStore.ts';
import type { StoredDocTitle } from './DocTitleStore.ts';
import type { PresenceRecord } from './PresenceStore.ts';
import type { RoomRecord } from './RoomStore.ts';

/** An integer column as a driver returns it: a number, or text for a PostgreSQL BIGINT. */
export type SqlInt = string | number;
/** A boolean column: 0/1 from SQLite, a boolean from PostgreSQL. */
export type SqlBool = number | boolean;

export const int = (v: SqlInt): number => Number(v);
export const intOrNull = (v: SqlInt | null): number | null => (v === null ? null : Number(v));
export const bool = (v: SqlBool): boolean => v === true || v === 1;

// ── documents ───────────────────────────────────────────────────────────

export type DocRow = Pick<DocRecord, 'org' | 'name' | 'owner'> & {
  created_at: SqlInt;
  updated_at: SqlInt;
  export_allowed: SqlBool;
};

export type VersionRow = Pick<StoredDocVersion, 'label' | 'bytes'> & {
  id: SqlInt;
  doc_name: string;
  auto: SqlBool;
  created_at: SqlInt;
  created_by: string;
};

export const DOC_COLUMNS = 'org, name, owner, created_at, updated_at, export_allowed';
/** A listed record: `list_title` (the `title` order's key) comes along in that order only. */
export const toDocListRow = (r: DocRow & { list_title?: string | null }): DocListRow =>
  typeof r.list_title === 'string' ? { ...toDocRecord(r), listTitle: r.list_title } : toDocRecord(r);

export const VERSION_COLUMNS = 'id, doc_name, label, auto, created_at, created_by, bytes';

export const toDocRecord = (r: DocRow): DocRecord => ({
  org: r.org,
  name: r.name,
  owner: r.owner,
  createdAt: int(r.created_at),
  updatedAt: int(r.updated_at),
  policy: { exportAllowed: bool(r.export_allowed) },
});

export const toDocVersion = (r: VersionRow): StoredDocVersion => ({
  id: int(r.id),
  docName: r.doc_name,
  label: r.label,
  auto: bool(r.auto),
  createdAt: int(r.created_at),
  createdBy: r.created_by,
  bytes: r.bytes,
});

// ── document titles ─────────────────────────────────────────────────────

export type DocTitleRow = Pick<StoredDocTitle, 'name' | 'title'> & {
  created_by: string;
  created_at: SqlInt;
  updated_by: string;
  updated_at: SqlInt;
};

export const DOC_TITLE_COLUMNS = 'name, title, created_by, created_at, updated_by, updated_at';

export const toDocTitle = (org: string, r: DocTitleRow): StoredDocTitle => ({
  org,
  name: r.name,
  title: r.title,
  createdBy: r.created_by,
  createdAt: int(r.created_at),
  updatedBy: r.updated_by,
  updatedAt: int(r.updated_at),
});

/** The row a title's upsert (`… RETURNING`) answered, as a record; no row is a fault of the database. */
export function upsertedDocTitle(org: string, r: DocTitleRow | undefined): StoredDocTitle {
  if (!r) throw new Error('doc_titles: the upsert returned no row');
  return toDocTitle(org, r);
}

// ── rooms ───────────────────────────────────────────────────────────────

export type RoomRow = Pick<RoomRecord, 'id' | 'org' | 'tier' | 'name'> & {
  owner_sub: string;
  doc_name: string;
  created_at: SqlInt;
  closed_at: SqlInt | null;
};

export const ROOM_COLUMNS = 'id, org, tier, name, owner_sub, doc_name, created_at, closed_at';

export const toRoomRecord = (r: RoomRow): RoomRecord => ({
  id: r.id,
  org: r.org,
  tier: r.tier,
  name: r.name,
  ownerSub: r.owner_sub,
  docName: r.doc_name,
  createdAt: int(r.created_at),
  closedAt: intOrNull(r.closed_at),
});

/** The values of a new room's INSERT, in the order of `ROOM_COLUMNS` (without `closed_at`). */
export const roomValues = (
  room: Omit<RoomRecord, 'closedAt'>,
): [string, string, RoomRecord['tier'], string | null, string, string, number] => [
  room.id,
  room.org,
  room.tier,
  room.name,
  room.ownerSub,
  room.docName,
  room.createdAt,
];

// ── presence ────────────────────────────────────────────────────────────

/** `teams`: a JSON array as text (SQLite) or a text[] (PostgreSQL). */
export type PresenceRow = Pick<PresenceRecord, 'sub' | 'org' | 'name' | 'site' | 'status'> & {
  teams: string | string[];
  busy: SqlBool;
  last_seen: SqlInt;
};

export const PRESENCE_COLUMNS = 'sub, org, name, site, teams, status, busy, last_seen';

/** The upsert's conflict clause: a person's record is replaced whole. */
export const PRESENCE_UPSERT = `ON CONFLICT (sub) DO UPDATE SET org = excluded.org, name = excluded.name, site = excluded.site,
         teams = excluded.teams, status = excluded.status, busy = excluded.busy, last_seen = excluded.last_seen`;

export const toPresenceRecord = (r: PresenceRow): PresenceRecord => ({
  sub: r.sub,
  org: r.org,
  name: r.name,
  site: r.site,
  teams: typeof r.teams === 'string' ? (JSON.parse(r.teams) as string[]) : r.teams,
  status: r.status,
  busy: bool(r.busy),
  lastSeen: int(r.last_seen),
});

// ── audit ───────────────────────────────────────────────────────────────

/** `detail`: JSON text on both backends. */
export type AuditRow = Pick<AuditEntry, 'actor' | 'action'> & {
  id: SqlInt;
  at: SqlInt;
  target: string | null;
  detail: string | null;
};

export const AUDIT_COLUMNS = 'id, at, actor, action, target, detail';

/** Most entries one `list` answers. */
export const auditLimit = (limit: number): number => Math.min(Math.max(limit, 1), 1000);

export const toAuditEntry = (r: AuditRow): StoredAuditEntry => ({
  id: int(r.id),
  at: int(r.at),
  actor: r.actor,
  action: r.action,
  ...(r.target === null ? {} : { target: r.target }),
  ...(r.detail === null ? {} : { detail: JSON.parse(r.detail) as Record<string, unknown> }),
});

/** The chain columns of audit_log (audit/verifyChain.ts recomputes each hash from them). */
export const AUDIT_CHAIN_COLUMNS = 'id, seq, at, org, actor, action, target, detail, prev_hash, hash';

export type AuditChainSqlRow = AuditRow & {
  seq: SqlInt | null;
  org: string | null;
  prev_hash: string | null;
  hash: string | null;
};

export const toAuditChainRow = (r: AuditChainSqlRow): AuditChainRow => ({
  id: int(r.id),
  seq: intOrNull(r.seq),
  at: int(r.at),
  org: r.org,
  actor: r.actor,
  action: r.action,
  target: r.target,
  detail: r.detail,
  prevHash: r.prev_hash,
  hash: r.hash,
});

export const AUDIT_ANCHOR_COLUMNS = 'at, seq, hash, key_id, signature';

export type AuditAnchorRow = { at: SqlInt; seq: SqlInt; hash: string; key_id: string; signature: string };

export const toAuditAnchor = (r: AuditAnchorRow): AuditAnchor => ({
  at: int(r.at),
  seq: int(r.seq),
  hash: r.hash,
  keyId: r.key_id,
  signature: r.signature,
});
