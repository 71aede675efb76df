/**
 * What a Document is given by its owner: its limits (each a configuration row), its store and
 * group committer, its logger, and the hooks through which it reports refusals, stored updates,
 * idleness and its close.
 */
import type { Logger } from '../logger.ts';
import type { DocStore } from '../storage/DocStore.ts';
import type { DocMerger } from './DocMergeWorker.ts';
import type { Document } from './Document.ts';
import type { GroupCommitter } from './GroupCommitter.ts';

export interface DocumentLimits {
  /** Largest single message (MOIM_DOC_MAX_UPDATE_BYTES). */
  maxUpdateBytes: number;
  /** Largest stored size: compacted state + appended updates (MOIM_DOC_MAX_BYTES). */
  maxDocBytes: number;
  /** Compact after this many appended updates (MOIM_DOC_COMPACT_EVERY). */
  compactEvery: number;
  /** Automatic version at most this often while the document changes; 0 = off (MOIM_DOC_VERSION_INTERVAL_MS). */
  versionIntervalMs: number;
  /**
   * Awareness changes are collected and sent as one merged message per flush: on the next
   * `setImmediate` (0) or after at most this many ms (MOIM_DOC_AWARENESS_FLUSH_MS). @default 0
   */
  awarenessFlushMs?: number;
  /**
   * A renewal (a client re-announcing an unchanged state, which stock providers do every 15 s)
   * waits at most this long for the next flush, so a document's renewals go out together;
   * 0: like a change (MOIM_DOC_AWARENESS_RENEWAL_MS). Peers drop a state not renewed within 30 s,
   * so this stays well below the 15 s of slack. @default 2000
   */
  awarenessRenewalMs?: number;
  /**
   * Largest awareness state of one client, in bytes of its JSON (MOIM_DOC_AWARENESS_MAX_BYTES);
   * a larger one closes the connection with 4413. @default 8192
   */
  awarenessMaxBytes?: number;
  /**
   * Awareness client ids one connection may introduce (MOIM_DOC_AWARENESS_MAX_CLIENTS); a stock
   * provider uses one, and a read-only connection gets exactly one. @default 4
   */
  awarenessMaxClients?: number;
  /**
   * Updates with missing dependencies a connection may send in a row (each refused and answered
   * with sync step 1) before it is closed with 4400 (MOIM_DOC_MAX_PENDING_UPDATES). @default 8
   */
  maxPendingUpdates?: number;
}

export interface DocumentDeps {
  store: DocStore;
  committer: GroupCommitter;
  limits: DocumentLimits;
  log: Logger;
  /** Compaction merges off the event loop (one worker thread per node); in-thread without it. */
  merger?: DocMerger | undefined;
  /** Called for each refused or failed message (metrics). */
  onRefused?: (outcome: RefusedOutcome) => void;
  onStored?: (count: number) => void;
  /** No connection and no lease is left, and every write is committed: the owner may unload it. */
  onIdle?: (doc: Document) => void;
  /** Closed and released: the Y.Doc is destroyed. */
  onClose?: (doc: Document) => void;
}

export type RefusedOutcome = 'read_only' | 'malformed' | 'too_large' | 'storage_error' | 'pending' | 'awareness';
