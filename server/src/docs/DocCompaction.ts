/**
 * Compaction of one document's storage, and its stored size: reading the stored content into a
 * Y.Doc (load), how many updates were appended since the last compaction, the merge of the stored
 * state and those updates into one state, and the approximate stored bytes the document size cap
 * is checked against. Knows nothing of clients.
 */
import * as Y from 'yjs';
import type { Logger } from '../logger.ts';
import type { DocRef, DocStore } from '../storage/DocStore.ts';
import type { DocMerger, MergeResult } from './DocMergeWorker.ts';
import type { DocumentDeps, DocumentLimits } from './DocumentOptions.ts';

/**
 * The merge of a compaction, on this thread (as docMergeThread.ts does it): a scratch Y.Doc with
 * garbage collection, so deleted content is dropped; updates that fail to apply are left out.
 */
export function mergeStored(state: Uint8Array | undefined, updates: readonly Uint8Array[]): MergeResult {
  const scratch = new Y.Doc({ gc: true });
  try {
    if (state) Y.applyUpdate(scratch, state);
    const skipped: MergeResult['skipped'] = [];
    updates.forEach((u, index) => {
      try {
        Y.applyUpdate(scratch, u);
      } catch (err) {
        // returned to the caller, which logs it with the document and the update's id
        skipped.push({ index, error: (err as Error).message });
      }
    });
    return { state: Y.encodeStateAsUpdate(scratch), skipped };
  } finally {
    scratch.destroy();
  }
}

/**
 * Read the stored state and updates into a fresh Y.Doc. A stored update that fails to apply is
 * skipped and logged. Returns the doc, the stored bytes and how many updates were appended.
 */
export async function loadStored(
  ref: DocRef,
  deps: Pick<DocumentDeps, 'store' | 'log'>,
): Promise<{ ydoc: Y.Doc; bytes: number; stateBytes: number; updates: number }> {
  const rows = await deps.store.loadContent(ref);
  const ydoc = new Y.Doc({ gc: true });
  let bytes = 0;
  const apply = (update: Uint8Array, what: string) => {
    bytes += update.byteLength;
    try {
      Y.applyUpdate(ydoc, update);
    } catch (err) {
      deps.log.error({ err, org: ref.org, doc: ref.name, what }, 'stored document update failed to apply; skipped');
    }
  };
  if (rows.state) apply(rows.state, 'state');
  for (const u of rows.updates) apply(u.update, `update ${u.id}`);
  return { ydoc, bytes, stateBytes: rows.state?.byteLength ?? 0, updates: rows.updates.length };
}

/**
 * A compaction rewrites the whole state: it waits until the updates appended since the last one
 * add up to this share of it, so a large document is not rewritten every `compactEvery` edits
 * (a 10 MB one: 10 MB written, and appends waiting behind it, for every 500 keystrokes). Each
 * compaction then writes at most 1 / share times the bytes its updates added; a small document
 * compacts every `compactEvery` updates as before.
 */
export const COMPACT_TAIL_SHARE = 1 / 8;

export class DocCompaction {
  readonly #ref: DocRef;
  readonly #store: DocStore;
  readonly #log: Logger;
  readonly #merger: DocMerger | undefined;
  /** `compactEvery`: compact after this many appended updates. */
  readonly #limits: Pick<DocumentLimits, 'compactEvery'>;
  /** Called when a compaction finished (done or failed): the document may have become idle. */
  readonly #onSettled: () => void;
  /** Stored bytes (state + appended updates), approximately. */
  #bytes: number;
  /** Bytes of the stored state (as loaded, then as the last compaction wrote it). */
  #stateBytes: number;
  /** Updates appended since the last compaction. */
  #uncompacted: number;
  #running: Promise<void> | undefined;

  constructor(opts: {
    ref: DocRef;
    store: DocStore;
    log: Logger;
    limits: Pick<DocumentLimits, 'compactEvery'>;
    /** Merges off the event loop (DocMergeWorker); without it, merges run here. */
    merger?: DocMerger | undefined;
    /** What was loaded: stored bytes, of which the state's, and appended updates. */
    bytes: number;
    stateBytes: number;
    uncompacted: number;
    onSettled: () => void;
  }) {
    this.#ref = opts.ref;
    this.#store = opts.store;
    this.#log = opts.log;
    this.#merger = opts.merger;
    this.#limits = opts.limits;
    this.#bytes = opts.bytes;
    this.#stateBytes = opts.stateBytes;
    this.#uncompacted = opts.uncompacted;
    this.#onSettled = opts.onSettled;
  }

  /** Stored bytes (state + appended updates), approximately. */
  get storedBytes(): number {
    return this.#bytes;
  }

  /** Set while a compaction runs; resolves (never rejects) when it finished. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** An update of `bytes` is being appended to storage. */
  addBytes(bytes: number): void {
    this.#bytes += bytes;
  }

  /**
   * `count` appended updates were committed: compact once `compactEvery` piled up and they add up
   * to `COMPACT_TAIL_SHARE` of the state (failures are logged).
   */
  noteCommitted(count: number): void {
    this.#uncompacted += count;
    if (this.#running || this.#uncompacted < this.#limits.compactEvery) return;
    if (this.#bytes - this.#stateBytes < this.#stateBytes * COMPACT_TAIL_SHARE) return;
    this.compact().catch((err: unknown) =>
      this.#log.error({ err, org: this.#ref.org, doc: this.#ref.name }, 'compaction failed'),
    );
  }

  /**
   * Merge the stored state and the appended updates into one state, and delete exactly the
   * updates merged, in one transaction. Updates appended meanwhile are left alone. The merge
   * runs on a scratch Y.Doc (so deleted content is garbage-collected), not on the live one.
   * Concurrent compactions are safe: the store commits only the one that read the current state.
   */
  compact(): Promise<{ merged: number; bytes: number } | undefined> {
    const run = this.#compactOnce();
    const tracked: Promise<void> = run.then(
      () => undefined,
      // the failure is the caller's (it gets `run`, and logs it): this copy only tracks completion
      () => undefined,
    );
    this.#running = tracked;
    void tracked.then(() => {
      if (this.#running === tracked) this.#running = undefined;
      this.#onSettled();
    });
    return run;
  }

  async #compactOnce(): Promise<{ merged: number; bytes: number } | undefined> {
    const { org, name } = this.#ref;
    const rows = await this.#store.loadContent(this.#ref);
    const last = rows.updates.at(-1);
    if (!last) return undefined;
    const updates = rows.updates.map((u) => u.update);
    const before = (rows.state?.byteLength ?? 0) + updates.reduce((a, u) => a + u.byteLength, 0);
    // on the merge worker when there is one: a large document's merge would stall every edit
    const { state, skipped } = this.#merger
      ? await this.#merger.merge(rows.state, updates)
      : mergeStored(rows.state, updates);
    for (const s of skipped)
      this.#log.error(
        { err: new Error(s.error), org, doc: name, update: rows.updates[s.index]?.id },
        'stored update failed to apply during compaction; skipped',
      );
    const bytes = state.byteLength; // the store may take the buffer
    const ok = await this.#store.commitCompaction(this.#ref, {
      expectSeq: rows.stateSeq,
      upToId: last.id,
      state,
    });
    if (!ok) return undefined;
    this.#uncompacted = Math.max(0, this.#uncompacted - rows.updates.length);
    this.#bytes = Math.max(bytes, this.#bytes - before + bytes);
    this.#stateBytes = bytes;
    this.#log.debug({ org, doc: name, merged: rows.updates.length, bytes }, 'document compacted');
    return { merged: rows.updates.length, bytes };
  }
}
