/**
 * The durable mode of the chat and document baselines (`BASELINE_DURABLE_DIR=<folder>`): what they
 * are sent is committed to SQLite in that folder before they pass it on — WAL with synchronous=FULL,
 * as moim; on a writer thread, so no fsync blocks the event loop; in group commits of what arrived
 * meanwhile (one transaction each), started at most every `intervalMs` under load. The floor of any
 * server that keeps what it relays, without anything else of moim's.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** The writer thread: creates the table, then one transaction per batch, answered after COMMIT. */
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec(workerData.schema);
const insert = db.prepare(workerData.insert);
parentPort.on('message', ({ id, rows }) => {
  db.exec('BEGIN IMMEDIATE');
  for (const row of rows) insert.run(...row);
  db.exec('COMMIT');
  parentPort.postMessage(id);
});
`;

export interface DurableTable {
  /** CREATE TABLE (and indexes) for what is kept. */
  schema: string;
  /** The INSERT of one row, with one `?` per value of the rows given to the writer. */
  insert: string;
}

/**
 * The writer of `BASELINE_DURABLE_DIR`, or undefined when it is not set (in memory only, as the
 * baseline servers run by default). `keep(row, done)` calls `done` once `row` is committed; rows are
 * committed, and their `done` called, in the order they were given.
 */
export function durableWriter(
  table: DurableTable,
  intervalMs: number,
): ((row: unknown[], done: () => void) => void) | undefined {
  const dir = process.env.BASELINE_DURABLE_DIR;
  if (!dir) return undefined;
  const worker = new Worker(WRITER, {
    eval: true,
    workerData: { file: path.join(dir, 'baseline.sqlite'), ...table },
  });
  worker.on('error', (err) => {
    console.error('baseline writer failed', err);
    process.exit(1);
  });
  let queue: Array<{ row: unknown[]; done: () => void }> = [];
  let inFlight: typeof queue | undefined;
  let scheduled = false;
  let last = Number.NEGATIVE_INFINITY;
  let next = 0;
  const start = (): void => {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    const wait = last + intervalMs - performance.now();
    if (wait >= 1) {
      scheduled = true;
      setTimeout(start, wait);
      return;
    }
    last = performance.now();
    inFlight = queue;
    queue = [];
    worker.postMessage({ id: ++next, rows: inFlight.map((q) => q.row) });
  };
  worker.on('message', () => {
    const done = inFlight ?? [];
    inFlight = undefined;
    for (const q of done) q.done();
    start();
  });
  return (row, done) => {
    queue.push({ row, done });
    if (!scheduled && !inFlight) {
      scheduled = true;
      setImmediate(start);
    }
  };
}
