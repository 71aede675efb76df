/**
 * The commit order of one document: its updates go to the group committer, and nothing about a
 * change leaves the server before its storage commit. A group commit's updates are broadcast as
 * one merged update, and callbacks wait until every update appended before them is committed and
 * broadcast (an answer to sync step 1, an HTTP read). Knows nothing of awareness or compaction.
 */
import * as Y from 'yjs';
import type { DocRef } from '../storage/DocStore.ts';
import type { DocConnection } from './DocConnection.ts';
import type { DocumentDeps } from './DocumentOptions.ts';

export interface DocCommitsHooks {
  /** True once the document is closed: committed updates are no longer broadcast. */
  isClosed: () => boolean;
  /** One group commit's updates, merged: send to every connection but `skip`; `count` updates in all. */
  onCommitted: (update: Uint8Array, skip: DocConnection | undefined, count: number) => void;
  /** The first storage failure: the live document must be thrown away (it holds unstored changes). */
  onStorageFailure: () => void;
  /** A batch was handled and its waiters released: the document may have become idle. */
  onSettled: () => void;
}

export class DocCommits {
  readonly #deps: DocumentDeps;
  /** The document's ref (one object, handed to every append). */
  readonly #ref: DocRef;
  readonly #hooks: DocCommitsHooks;
  /** Updates handed to the group committer, and how many of them finished (in order). */
  #appendSeq = 0;
  #committedSeq = 0;
  /** Committed updates not yet broadcast (one merged message per group commit). */
  #outbox: Array<{ update: Uint8Array; origin: DocConnection | undefined }> | undefined;
  #outboxScheduled = false;
  /** Callbacks waiting until every update appended before them is committed and broadcast. */
  #waiters: Array<{ seq: number; fn: () => void }> | undefined;
  #storageFailed = false;

  constructor(ref: DocRef, deps: DocumentDeps, hooks: DocCommitsHooks) {
    this.#ref = ref;
    this.#deps = deps;
    this.#hooks = hooks;
  }

  /** Is an update appended and not yet committed and broadcast? */
  get pending(): boolean {
    return this.#committedSeq < this.#appendSeq || (this.#outbox?.length ?? 0) > 0 || this.#outboxScheduled;
  }

  /** Append an update (of `origin`, undefined for the server's own) and broadcast it once committed. */
  append(update: Uint8Array, origin: DocConnection | undefined): void {
    const seq = ++this.#appendSeq;
    this.#deps.committer.append(this.#ref, update, (err) => {
      this.#committedSeq = seq;
      if (err) {
        this.#deps.onRefused?.('storage_error');
        if (!this.#storageFailed) {
          this.#storageFailed = true;
          this.#deps.log.error(
            { err, org: this.#ref.org, doc: this.#ref.name },
            'storing a document update failed; reloading the document',
          );
          this.#hooks.onStorageFailure();
        }
      } else {
        this.#deps.onStored?.(1);
        this.#outbox ??= [];
        this.#outbox.push({ update, origin });
      }
      // the committer calls back for a whole batch before any microtask runs: one flush per batch
      if (!this.#outboxScheduled) {
        this.#outboxScheduled = true;
        queueMicrotask(() => this.#flushOutbox());
      }
    });
  }

  /** Run `fn` once every update appended so far is committed and broadcast (now, when none is pending). */
  afterCommits(fn: () => void): void {
    if (!this.pending) {
      fn();
      return;
    }
    this.#waiters ??= [];
    this.#waiters.push({ seq: this.#appendSeq, fn });
  }

  whenCommitted(): Promise<void> {
    return new Promise((resolve) => this.afterCommits(resolve));
  }

  /** Broadcast what was committed (merged into one update), then release the waiters. */
  #flushOutbox(): void {
    this.#outboxScheduled = false;
    const batch = this.#outbox;
    this.#outbox = undefined;
    if (batch && batch.length > 0 && !this.#hooks.isClosed()) {
      const update =
        batch.length === 1 ? (batch[0] as { update: Uint8Array }).update : Y.mergeUpdates(batch.map((b) => b.update));
      // a sender already has its own changes; with several senders everyone gets the merge (duplicates are no-ops)
      const origins = new Set(batch.map((b) => b.origin));
      const skip = origins.size === 1 ? batch[0]?.origin : undefined;
      this.#hooks.onCommitted(update, skip, batch.length);
    }
    const waiters = this.#waiters;
    while (waiters && waiters.length > 0 && (waiters[0] as { seq: number }).seq <= this.#committedSeq) {
      const waiter = waiters.shift() as { fn: () => void };
      try {
        waiter.fn();
      } catch (err) {
        this.#deps.log.error({ err, org: this.#ref.org, doc: this.#ref.name }, 'document commit waiter failed');
      }
    }
    if (waiters?.length === 0) this.#waiters = undefined;
    this.#hooks.onSettled();
  }
}
