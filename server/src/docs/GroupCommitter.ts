import type { DocStore } from '../storage/DocStore.ts';

interface Pending {
  name: string;
  update: Uint8Array;
  resolve: (id: number) => void;
  reject: (err: unknown) => void;
}

/** At most this many updates in one transaction. */
const MAX_BATCH = 500;

/**
 * Group commit of document updates. Updates appended in the same turn of the event loop (every
 * WebSocket frame the loop read in one poll) are committed in one transaction on the next
 * `setImmediate`, so a burst costs one fsync instead of one each, and a lone update waits for
 * no timer. While a commit is in flight (an async store), new updates queue for the next one.
 * Each `append` resolves, in order, once its transaction committed.
 */
export class GroupCommitter {
  readonly #store: DocStore;
  readonly #onCommit: ((updates: number, seconds: number) => void) | undefined;
  #queue: Pending[] = [];
  #scheduled = false;
  #running: Promise<void> | undefined;

  constructor(store: DocStore, opts: { onCommit?: (updates: number, seconds: number) => void } = {}) {
    this.#store = store;
    this.#onCommit = opts.onCommit;
  }

  append(name: string, update: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ name, update, resolve, reject });
      if (!this.#scheduled && !this.#running) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#running = this.#drain();
        });
      }
    });
  }

  /** Resolves when everything appended so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.#running || this.#scheduled || this.#queue.length > 0) {
      if (this.#running) await this.#running;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #drain(): Promise<void> {
    // yield once so `#running` is set before the loop can finish (and clear it)
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const started = performance.now();
      try {
        const ids = await this.#store.appendUpdates(batch.map(({ name, update }) => ({ name, update })));
        this.#onCommit?.(batch.length, (performance.now() - started) / 1000);
        for (const [i, p] of batch.entries()) p.resolve(ids[i] as number);
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.#running = undefined;
  }
}
