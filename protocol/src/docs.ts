import { z } from 'zod';

/**
 * Shared documents (Yjs). Documents are edited over the standard y-websocket protocol on
 * `/yjs/<docName>?token=<jwt>` (any stock `WebsocketProvider` connects unmodified); they are
 * listed, created, deleted, exported and versioned over HTTP under `/docs`.
 */

/** y-websocket message types (first varUint of every binary frame). */
export const DOC_MESSAGE = {
  sync: 0,
  awareness: 1,
  /** y-protocols/auth: `[2, 0 (permission denied), reason]` tells a read-only client its update was refused. */
  auth: 2,
  queryAwareness: 3,
} as const;
export type DocMessageType = (typeof DOC_MESSAGE)[keyof typeof DOC_MESSAGE];

/** y-protocols/sync sub-types. */
export const DOC_SYNC_MESSAGE = { step1: 0, step2: 1, update: 2 } as const;

/**
 * WebSocket close codes of `/yjs/<docName>`. A refused upgrade is accepted and closed at once with
 * one of these, because the stock `WebsocketProvider` surfaces a close code and reason (its
 * `closed` event), while an HTTP 401/403 on upgrade only shows as a generic error and a retry
 * loop. Codes 4400–4499 mirror HTTP 4xx: the stock provider stops reconnecting (permanent);
 * 4500–4599 mean "try again" and it reconnects.
 */
export const DOC_CLOSE = {
  /** A frame could not be decoded, or an update failed to apply (it was not stored). */
  MALFORMED: { code: 4400, reason: 'malformed message' },
  /** No token, or the token is invalid or expired. */
  UNAUTHORIZED: { code: 4401, reason: 'unauthorized' },
  /** The token has no `read` grant for this document. */
  FORBIDDEN: { code: 4403, reason: 'forbidden' },
  /** The document name is not valid. */
  NOT_FOUND: { code: 4404, reason: 'no such document' },
  /** The document was deleted. */
  GONE: { code: 4410, reason: 'document deleted' },
  /** One message exceeded MOIM_DOC_MAX_UPDATE_BYTES, or the document would exceed MOIM_DOC_MAX_BYTES. */
  TOO_LARGE: { code: 4413, reason: 'too large' },
  /** The person already has MOIM_DOC_MAX_OPEN_PER_PERSON documents open. */
  TOO_MANY_DOCUMENTS: { code: 4429, reason: 'too many documents open' },
  /** The server reloads the document (a failed apply or a storage error); reconnect and resync. */
  RELOAD: { code: 4500, reason: 'document reloaded' },
  /** The server is shutting down; reconnect (to another node). */
  GOING_AWAY: { code: 1001, reason: 'server shutting down' },
} as const;
export type DocCloseReason = keyof typeof DOC_CLOSE;

/** Document names: what the stock provider puts in the URL path unencoded (`room-<roomId>-notes` fits). */
export const docNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][\w.:-]*$/, 'document names are letters, digits, . _ : - (max 128)');

/** The linked notes document of a video room. */
export const roomNotesDocName = (roomId: string): string => `room-${roomId}-notes`;

export const docPolicySchema = z.object({ exportAllowed: z.boolean() }).strict();
export type DocPolicy = z.infer<typeof docPolicySchema>;

/** `POST /docs` */
export const createDocRequest = z.object({ name: docNameSchema, exportAllowed: z.boolean().optional() }).strict();
/** `PATCH /docs/:name` (owner or admin) */
export const updateDocRequest = z.object({ exportAllowed: z.boolean() }).strict();
/** `POST /docs/:name/versions` */
export const saveVersionRequest = z.object({ label: z.string().trim().min(1).max(200) }).strict();

export const DOC_EXPORT_FORMATS = ['text', 'json'] as const;
export type DocExportFormat = (typeof DOC_EXPORT_FORMATS)[number];

export interface DocInfo {
  name: string;
  /** `sub` of the person who created it (first writer to open it, or `POST /docs`). */
  owner: string;
  createdAt: number;
  updatedAt: number;
  policy: DocPolicy;
  /** What the caller may do. */
  access: 'read' | 'write';
}

/** `GET /docs` */
export interface DocListResponse {
  docs: DocInfo[];
  /** Pass as `?after=` for the next page; absent on the last page. */
  next?: string;
}

export interface DocVersionInfo {
  id: number;
  docName: string;
  label: string;
  /** Saved automatically (MOIM_DOC_VERSION_INTERVAL_MS) rather than by hand. */
  auto: boolean;
  createdAt: number;
  /** `sub` of who saved it, or `system`. */
  createdBy: string;
  bytes: number;
}

/** A document's content: `json` maps each top-level shared type to its JSON; `text` is the readable text. */
export interface DocContent {
  json: Record<string, unknown>;
  text: string;
}

/** `GET /docs/:name/versions/:id` */
export interface DocVersionResponse {
  version: DocVersionInfo;
  content: DocContent;
}

/** `POST /docs/:name/versions/:id/restore` */
export interface DocRestoreResponse {
  /** The version saved automatically just before restoring (so the restore itself can be undone). */
  backup: DocVersionInfo;
  restored: DocVersionInfo;
}
