/**
 * Merges of a document's stored state and updates (compaction) on a worker thread
 * (docMergeThread.ts), so a large document's merge never stalls the event loop that relays
 * edits. One thread for the node, started when created (it boots while the node starts; `warm`
 * waits for it), asked
 * one merge at a time in order; a thread that dies fails its pending merges and is started afresh
 * by the next one. Knows nothing of storage.
 */
import { Worker } from 'node:worker_threads';
import { closeWorkerThread } from '../lib/workerThreads.ts';
import type { Logger } from '../logger.ts';

export interface MergeResult {
  state: Uint8Array;
  /** Updates (by index in the request) that failed to apply and were left out, with the reason. */
  skipped: Array<{ index: number; error: string }>;
}

/** What DocCompaction needs: the merged state of `state` + `updates`. */
export interface DocMerger {
  merge(state: Uint8Array | undefined, updates: readonly Uint8Array[]): Promise<MergeResult>;
}

interface Reply {
  id: number;
  state?: Uint8Array;
  skipped?: MergeResult['skipped'];
  error?: string;
}

export class DocMergeWorker implements DocMerger {
  readonly #log: Logger;
  #worker: Worker | undefined;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (err: Error) => void }>();
  #closed = false;

  constructor(log: Logger) {
    this.#log = log;
    this.#start();
  }

  merge(state: Uint8Array | undefined, updates: readonly Uint8Array[]): Promise<MergeResult> {
    if (this.#closed) return Promise.reject(new Error('document merge worker closed'));
    const worker = this.#start();
    const id = this.#next++;
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref();
      // copies (not transfers): the caller's rows stay usable
      worker.postMessage({ id, state, updates: [...updates] });
    }).then((r) => ({ state: r.state ?? new Uint8Array(), skipped: r.skipped ?? [] }));
  }

  /**
   * Wait until the thread answers (its module and Yjs loaded), at most `timeoutMs`: it boots while
   * the node starts, and the node says it is ready only after, so that boot never competes with the
   * first edits for the CPU. A thread that did not answer in time is noted by the caller, not fatal.
   */
  async warm(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    const worker = this.#start();
    const id = this.#next++;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<Reply>((resolve, reject) => {
          this.#pending.set(id, { resolve, reject });
          worker.ref();
          worker.postMessage({ id, ping: true });
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`document merge worker did not start within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      // a late answer finds nothing to resolve; the thread stays referenced only while merges are pending
      if (this.#pending.delete(id) && this.#pending.size === 0) worker.unref();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    await closeWorkerThread(worker);
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./docMergeThread.ts', import.meta.url));
    worker.unref();
    worker.on('message', (msg: Reply) => {
      const req = this.#pending.get(msg.id);
      if (!req) return;
      this.#pending.delete(msg.id);
      if (this.#pending.size === 0) worker.unref();
      if (msg.error === undefined) req.resolve(msg);
      else req.reject(new Error(`document merge worker: ${msg.error}`));
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      if (!this.#closed) this.#log.error({ err }, 'document merge worker failed; merges start it afresh');
      for (const req of this.#pending.values()) req.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.#pending.size > 0 || !this.#closed) fail(new Error(`document merge worker exited (${code})`));
    });
    this.#worker = worker;
    return worker;
  }
}
