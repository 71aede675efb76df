import { z } from 'zod';

/**
 * Shared documents (Yjs). Documents are edited over the standard y-websocket protocol on
 * `/yjs/<docName>?token=<jwt>` (any stock `WebsocketProvider` connects unmodified); they are
 * listed, created, deleted, exported and versioned over HTTP under `/docs`.
 */

/** Document names: what the stock provider puts in the URL path unencoded (`room-<roomId>-notes` fits). */
export const docNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][\w.:-]*$/, 'document names are letters, digits, . _ : - (max 128)');

export const docPolicySchema = z.object({ exportAllowed: z.boolean() }).strict();
export type DocPolicy = z.infer<typeof docPolicySchema>;

/**
 * A title as sent: any string of bounded size here; the server normalises it (NFC, trimmed) and
 * checks it (`docTitleProblem`: 1–200 characters, no control characters) with its own code,
 * `INVALID_TITLE`, so a client can tell a bad title from other bad input.
 */
export const docTitleInput = z.string().max(4 * 200 + 100);

/**
 * `POST /docs`: a name, a title, or both. With a title only, the server picks the name: the title
 * itself when it is a valid, free name (compatibility with clients that address documents by
 * title), else `d-<random>`.
 */
export const createDocRequest = z
  .object({ name: docNameSchema.optional(), title: docTitleInput.optional(), exportAllowed: z.boolean().optional() })
  .strict()
  .refine((r) => r.name !== undefined || r.title !== undefined, 'a name or a title is required');
/** `PATCH /docs/:name` (owner or admin) */
export const updateDocRequest = z.object({ exportAllowed: z.boolean() }).strict();
/** `PUT /docs/:name/title` (whoever may write the document) */
export const renameDocRequest = z.object({ title: docTitleInput }).strict();
/** `POST /docs/:name/versions` */
export const saveVersionRequest = z.object({ label: z.string().trim().min(1).max(200) }).strict();

export const DOC_EXPORT_FORMATS = ['text', 'json'] as const;
export type DocExportFormat = (typeof DOC_EXPORT_FORMATS)[number];

export interface DocInfo {
  name: string;
  /**
   * What the document is called: its stored title, or for a document made before titles were
   * stored the title its `t.` name carries. Absent: show the name (a meeting's notes,
   * `room-<roomId>-notes`, are called by the meeting's name). Also absent for a guest where the
   * document's data-leak policy holds its content back from guests.
   */
  title?: string;
  /** Who last set the stored title, and when (absent without a stored title). */
  titledBy?: string;
  titledAt?: number;
  /** `sub` of the person who created it (first writer to open it, or `POST /docs`). */
  owner: string;
  createdAt: number;
  updatedAt: number;
  policy: DocPolicy;
  /** What the caller may do. */
  access: 'read' | 'write';
}

/**
 * `GET /docs?sort=`: most recently changed first (`updated`, the default), by title (the stored
 * title, else the name, the case of A–Z ignored, then code point order), or by name. Ties go by name. Anything else:
 * 400 INVALID_PAYLOAD.
 */
export const DOC_LIST_SORTS = ['updated', 'title', 'name'] as const;
export type DocListSort = (typeof DOC_LIST_SORTS)[number];

/** `GET /docs?sort=&after=&limit=` */
export interface DocListResponse {
  docs: DocInfo[];
  /**
   * Pass as `?after=` (with the same `sort`) for the next page; absent on the last page. A cursor
   * (after the last row), not an offset: documents created meanwhile never repeat a row. In `name`
   * order it is the last name; otherwise opaque.
   */
  next?: string;
}

/**
 * A document's title changed (socket.io `doc:title`): sent to the people who have the document
 * open (a `/yjs` connection to it, on any node) — never to guests its data-leak policy shuts out.
 * Every socket of such a person receives it (their other tabs' lists too).
 */
export interface DocTitleEvent {
  name: string;
  title: string;
  /** `sub` of who renamed it. */
  by: string;
  /** When (ms since the epoch; `titledAt` of the document's info). */
  at: number;
}

export interface DocServerEvents {
  'doc:title': (event: DocTitleEvent) => void;
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
