import type { DocListSort, DocPolicy, DocVersionInfo } from '@moim/protocol';

/**
 * Where a document lives. Every organisation has its own namespace of documents: `acme/notes` and
 * `evil/notes` are two documents, and nothing of one is reachable through the other.
 */
export interface DocRef {
  /** The `org` claim of the tokens that may reach it ('default' for tokens that name none). */
  org: string;
  name: string;
}

/** A document's record (its content lives in its compacted state plus appended updates). */
export interface DocRecord extends DocRef {
  owner: string;
  createdAt: number;
  updatedAt: number;
  policy: DocPolicy;
}

/**
 * The orders of a document list (`DocListSort` of the wire contract): most recently changed first
 * (`updated`, the HTTP list's default), by title (the stored title, else the name; A–Z folded to lower
 * case, then code point order, on every backend), by name. Ties go by name, so each order is total and a page can start after any row.
 */
export type DocListOrder = DocListSort;

/** Where a page starts: after this row (exclusive), in the order's terms (its key and its name). */
export interface DocListAfter {
  name: string;
  /** `updated` order: the row's `updatedAt`. */
  updatedAt?: number;
  /** `title` order: the row's `listTitle`. */
  title?: string;
}

export interface DocListQuery {
  org: string;
  /** Default `name`. */
  order?: DocListOrder;
  after?: DocListAfter;
  /** Only these names (at most 1000). */
  names?: readonly string[];
  limit: number;
}

/** A listed record; in `title` order with the key it sorted by (its stored title, else its name). */
export interface DocListRow extends DocRecord {
  listTitle?: string;
}

/** One appended Yjs update of a document. Ids grow per store (not per document). */
export interface StoredDocUpdate {
  id: number;
  update: Uint8Array;
}

/** Everything needed to rebuild a document: its compacted state and the updates appended since. */
export interface DocContentRows {
  /** Merged state (a Yjs update), or undefined when never compacted. */
  state: Uint8Array | undefined;
  /** Increments on every compaction; `commitCompaction` compares it (optimistic concurrency). */
  stateSeq: number;
  updates: StoredDocUpdate[];
}

/** A stored version's record is what the HTTP API lists (see `DocVersionInfo` in @moim/protocol). */
export type StoredDocVersion = DocVersionInfo;

export interface DocVersionInput {
  doc: DocRef;
  label: string;
  auto: boolean;
  createdBy: string;
  /**
   * The full document state at that moment (a Yjs update). The store may take its buffer (see
   * `commitCompaction`): pass a state nothing else reads afterwards.
   */
  state: Uint8Array;
}

/**
 * Storage of shared documents: records, an append-only log of updates per document, a compacted
 * state, and named versions. Async and free of SQL dialect so PostgreSQL can implement it too.
 * "Stored" means committed durably (SQLite WAL with synchronous=FULL) when the promise resolves.
 * Every operation names its document by `DocRef` (organisation and name): a query never reaches
 * another organisation's rows.
 */
export interface DocStore {
  get(ref: DocRef): Promise<DocRecord | undefined>;
  /** Insert the record if it does not exist. `created` says whether this call created it. */
  create(input: DocRef & { owner: string; policy: DocPolicy }): Promise<{ record: DocRecord; created: boolean }>;
  setPolicy(ref: DocRef, policy: DocPolicy): Promise<DocRecord | undefined>;
  /** Records of one organisation in `order` (`docListSql`), after `after` (exclusive), at most `limit` (≤ 1000). */
  list(query: DocListQuery): Promise<DocListRow[]>;
  /** Delete the record, its updates, its state and its versions. False when it did not exist. */
  delete(ref: DocRef): Promise<boolean>;

  /** The compacted state and every update appended since, in id order. */
  loadContent(ref: DocRef): Promise<DocContentRows>;
  /**
   * Append updates of one or several documents in one transaction (group commit), in the order
   * given, and bump each document's `updatedAt`. Resolves when durably committed; returns the ids.
   */
  appendUpdates(entries: readonly (DocRef & { update: Uint8Array })[]): Promise<number[]>;
  /**
   * Replace the state with `state` (which merges the previous state and every update with
   * id ≤ `upToId`) and delete exactly those updates, in one transaction — only if the state is
   * still at `expectSeq`. False when another compaction won (nothing changed). The store may
   * take `state`'s buffer (a large state moves to SQLite's writer thread instead of being copied
   * twice), leaving the caller's array empty: read what you need of it before the call.
   */
  commitCompaction(ref: DocRef, input: { expectSeq: number; upToId: number; state: Uint8Array }): Promise<boolean>;

  saveVersion(input: DocVersionInput): Promise<StoredDocVersion>;
  /** Newest first. */
  listVersions(ref: DocRef, query: { beforeId?: number; limit: number }): Promise<StoredDocVersion[]>;
  getVersion(ref: DocRef, id: number): Promise<{ version: StoredDocVersion; state: Uint8Array } | undefined>;
  /** Release what the store holds besides the shared connection (e.g. a writer thread). */
  close(): Promise<void>;
}
