/**
 * Group commit: the one queue every store uses to put many small writes into one transaction
 * (chat appends and receipts, document updates; SQLite and PostgreSQL alike).
 *
 * Writes submitted in the same turn of the event loop (every frame the loop read in one poll) are
 * committed together on the next `setImmediate`, so a burst costs one fsync instead of one each
 * and a lone write waits for no timer. While a commit is in flight, new writes queue for the next
 * one; under load, `intervalMs` paces commits so batches grow. Settle callbacks run synchronously
 * one after the other, in submission order, once the batch committed or failed — so a caller sees
 * a whole batch before any microtask runs (documents broadcast it as one merged message).
 */
import type { Logger } from '../logger.ts';
import { StoreClosedError } from './storageErrors.ts';

/** Called once the write's transaction committed (`err` undefined, `result` set) or failed. */
export type Settle<Result> = (err: unknown, result?: Result) => void;

export interface GroupCommitOptions<Op, Result> {
  /** What the queue commits, for errors (`chat store`, `document store`). */
  name: string;
  /** Commit `ops` in one transaction; one result per op, in order. A throw fails the whole batch. */
  commit(ops: Op[]): Promise<Result[]>;
  /** Most writes in one transaction. @default 512 */
  maxBatch?: number | undefined;
  /** Under load, start a commit at most this often (ms). @default 0 */
  intervalMs?: number | undefined;
  /** The error each write of a failed batch gets (once per batch). @default the commit's own error */
  failure?: ((err: unknown) => unknown) | undefined;
  /** Told after each committed batch (for metrics). */
  onCommit?: ((writes: number, seconds: number) => void) | undefined;
  /** Where a settle callback that throws is reported (else a process warning). */
  log?: Logger | undefined;
}

interface Pending<Op, Result> {
  op: Op;
  settle: Settle<Result>;
}

export class GroupCommit<Op, Result> {
  readonly #opts: GroupCommitOptions<Op, Result>;
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  #queue: Pending<Op, Result>[] = [];
  #scheduled = false;
  #running = false;
  #closed = false;
  #lastCommit = Number.NEGATIVE_INFINITY;
  #idle: Array<() => void> = [];

  constructor(opts: GroupCommitOptions<Op, Result>) {
    this.#opts = opts;
    this.#maxBatch = opts.maxBatch ?? 512;
    this.#intervalMs = opts.intervalMs ?? 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queue `op` for the next commit; `settle` runs once its batch committed or failed. Throws StoreClosedError after `close()`. */
  submit(op: Op, settle: Settle<Result>): void {
    if (this.#closed) throw new StoreClosedError(this.#opts.name);
    this.#queue.push({ op, settle });
    if (!this.#scheduled && !this.#running) {
      this.#scheduled = true;
      setImmediate(this.#start);
    }
  }

  /** `submit` as a promise: resolves with the op's result once committed. */
  write(op: Op): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.submit(op, (err, result) => (err === undefined ? resolve(result as Result) : reject(err)));
    });
  }

  /** Resolves when everything submitted so far is committed (or failed). */
  flush(): Promise<void> {
    if (!this.#scheduled && !this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Refuse new writes, then commit what is queued. */
  close(): Promise<void> {
    this.#closed = true;
    return this.flush();
  }

  #start = (): void => {
    this.#scheduled = false;
    this.#running = true;
    void this.#drain();
  };

  /** One batch at a time: what queues while a commit is in flight goes into the next one. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const wait = this.#lastCommit + this.#intervalMs - performance.now();
      if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
      this.#lastCommit = performance.now();
      const batch = this.#queue.splice(0, this.#maxBatch);
      const started = performance.now();
      let results: Result[] | undefined;
      let error: unknown;
      try {
        results = await this.#opts.commit(batch.map((p) => p.op));
        this.#opts.onCommit?.(batch.length, (performance.now() - started) / 1000);
      } catch (err) {
        error = this.#opts.failure ? this.#opts.failure(err) : (err ?? new Error(`${this.#opts.name} commit failed`));
      }
      batch.forEach((p, i) => {
        const result = results?.[i];
        if (error === undefined && result === undefined)
          this.#settle(p, new Error(`${this.#opts.name} commit answered short`));
        else this.#settle(p, error, result);
      });
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Run one write's callback; a callback that throws is reported and must not stop the others of its batch. */
  #settle(p: Pending<Op, Result>, err: unknown, result?: Result): void {
    try {
      p.settle(err, result);
    } catch (thrown) {
      if (this.#opts.log) this.#opts.log.error({ err: thrown, store: this.#opts.name }, 'group commit callback failed');
      else process.emitWarning(`${this.#opts.name}: group commit callback failed: ${String(thrown)}`);
    }
  }
}
