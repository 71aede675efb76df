import type { DocRef, DocStore } from '../storage/DocStore.ts';

/** Called once the update's transaction committed (no error) or failed. */
export type CommitCallback = (err: unknown | undefined) => void;

interface Pending {
  doc: DocRef;
  update: Uint8Array;
  done: CommitCallback;
}

/** At most this many updates in one transaction. */
const MAX_BATCH = 1000;

/**
 * Group commit of document updates. Updates appended in the same turn of the event loop (every
 * WebSocket frame the loop read in one poll) are committed in one transaction on the next
 * `setImmediate`, so a burst costs one fsync instead of one each, and a lone update waits for
 * no timer. While a commit is in flight (an async store), new updates queue for the next one.
 * Callbacks run synchronously one after the other, in append order, when the transaction
 * committed — so a document sees a whole batch before any microtask runs and can broadcast it
 * as one merged message.
 */
export class GroupCommitter {
  readonly #store: DocStore;
  readonly #onCommit: ((updates: number, seconds: number) => void) | undefined;
  #queue: Pending[] = [];
  #scheduled = false;
  #running = false;
  #idle: Array<() => void> = [];

  constructor(store: DocStore, opts: { onCommit?: (updates: number, seconds: number) => void } = {}) {
    this.#store = store;
    this.#onCommit = opts.onCommit;
  }

  append(doc: DocRef, update: Uint8Array, done: CommitCallback): void {
    this.#queue.push({ doc, update, done });
    if (!this.#scheduled && !this.#running) {
      this.#scheduled = true;
      setImmediate(this.#start);
    }
  }

  /** Resolves when everything appended so far is committed (or failed). */
  flush(): Promise<void> {
    if (!this.#scheduled && !this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #start = (): void => {
    this.#scheduled = false;
    this.#running = true;
    void this.#drain();
  };

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const started = performance.now();
      let error: unknown;
      try {
        await this.#store.appendUpdates(batch.map(({ doc, update }) => ({ org: doc.org, name: doc.name, update })));
        this.#onCommit?.(batch.length, (performance.now() - started) / 1000);
      } catch (err) {
        error = err ?? new Error('commit failed');
      }
      for (const p of batch) {
        try {
          p.done(error);
        } catch {
          // a document's callback must not stop the others
        }
      }
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
