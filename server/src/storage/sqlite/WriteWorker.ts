import { Worker } from 'node:worker_threads';
import { closeWorkerThread } from '../../lib/workerThreads.ts';
import { storageError } from '../storageErrors.ts';
import type { SqliteDb } from './SqliteDb.ts';

/**
 * The main thread's side of a SQLite write worker (chatWriteWorker.ts, docAppendWorker.ts): one
 * request → one transaction there → one reply `{ id, …, error? }`; `{ id: 0, warning }` reports
 * something that failed between requests (a WAL checkpoint) as a process warning. Started on first
 * use; keeps the process alive only while a request is pending; a worker that dies fails every
 * pending request and is started afresh by the next one.
 */
export class WriteWorker<Reply extends { id: number; error?: string; errcode?: number }> {
  readonly #url: URL;
  readonly #file: string;
  /** Names the worker in errors: "<name> exited (1)". */
  readonly #name: string;
  /** Put before an error the worker replied with ('' keeps its message as it is). */
  readonly #errorPrefix: string;
  /** More of the worker's `workerData`, next to `file`. */
  readonly #settings: Record<string, unknown>;
  #worker: Worker | undefined;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();

  constructor(opts: {
    url: URL;
    file: string;
    name: string;
    errorPrefix?: string;
    settings?: Record<string, unknown>;
  }) {
    this.#url = opts.url;
    this.#file = opts.file;
    this.#name = opts.name;
    this.#errorPrefix = opts.errorPrefix ?? '';
    this.#settings = opts.settings ?? {};
  }

  /**
   * A worker on `db`'s file, or undefined when `enabled` is false or the database is in memory
   * (another connection would not see it): the store then writes on `db` itself.
   */
  static forDatabase<R extends { id: number; error?: string; errcode?: number }>(
    db: SqliteDb,
    enabled: boolean,
    opts: { url: URL; name: string; errorPrefix?: string; settings?: Record<string, unknown> },
  ): WriteWorker<R> | undefined {
    return enabled && db.file ? new WriteWorker<R>({ ...opts, file: db.file }) : undefined;
  }

  /** `transfer`: buffers of `body` that move to the worker (detached here) instead of being copied. */
  request(body: Record<string, unknown>, transfer: readonly ArrayBuffer[] = []): Promise<Reply> {
    const worker = this.#start();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...body }, transfer);
    });
  }

  /**
   * Start the worker now and wait until it answers (its module loaded, its connection open), at
   * most `timeoutMs`: the first write of a fresh process must not wait for a thread to boot. A
   * worker that fails to start fails this (and starts afresh on the next request).
   */
  async warm(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.request({ ping: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.#name} did not start within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ask the worker to close its connection and wait for it to exit (pending requests first). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    await closeWorkerThread(worker);
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#url, { workerData: { ...this.#settings, file: this.#file } });
    worker.unref();
    worker.on('message', (msg: Reply | { id: 0; warning: string }) => {
      if ('warning' in msg) {
        process.emitWarning(`${this.#name}: ${msg.warning}`);
        return;
      }
      const req = this.#pending.get(msg.id);
      if (!req) return;
      this.#pending.delete(msg.id);
      if (this.#pending.size === 0) worker.unref();
      if (msg.error === undefined) req.resolve(msg);
      else {
        // the worker's error crossed as text (and its SQLite code, where the worker sends it):
        // a full disk becomes STORAGE_FULL here, like on the main thread's connection
        const err = Object.assign(new Error(`${this.#errorPrefix}${msg.error}`), { errcode: msg.errcode });
        req.reject(storageError(err) as Error);
      }
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const req of this.#pending.values()) req.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`${this.#name} exited (${code})`)));
    this.#worker = worker;
    return worker;
  }
}
