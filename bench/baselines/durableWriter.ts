/**
 * The durable mode of the chat and document baselines (`BASELINE_DURABLE_DIR=<folder>`): what they
 * are sent is committed to SQLite in that folder before they pass it on — WAL with synchronous=FULL,
 * as moim; on a writer thread, so no fsync blocks the event loop; in group commits of what arrived
 * meanwhile (one transaction each), started at most every `intervalMs` under load — moim's own
 * GroupCommit queue. The floor of any server that keeps what it relays, without anything else of
 * moim's. `BASELINE_DURABLE_IN_THREAD=1`
 * commits on the event loop instead (each commit's fsync blocks it; the design moim avoids), to
 * tell the cost of the thread hop from the cost of the commit.
 */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { GroupCommit } from '../../server/src/storage/GroupCommit.ts';

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
  const file = path.join(dir, 'baseline.sqlite');
  const inThread = process.env.BASELINE_DURABLE_IN_THREAD === '1' ? inThreadWriter(file, table) : undefined;
  const worker = inThread
    ? undefined
    : new Worker(WRITER, { eval: true, workerData: { file, ...table } }).on('error', (err) => {
        console.error('baseline writer failed', err);
        process.exit(1);
      });
  // one batch in flight at a time (GroupCommit's rule): its answer is the next message
  let answered: (() => void) | undefined;
  worker?.on('message', () => answered?.());
  let next = 0;
  // moim's own group commit queue, so the baseline batches exactly as moim does
  const queue = new GroupCommit<unknown[], true>({
    name: 'baseline store',
    intervalMs,
    commit: async (rows) => {
      if (inThread) inThread(rows);
      else
        await new Promise<void>((resolve) => {
          answered = resolve;
          worker?.postMessage({ id: ++next, rows });
        });
      return rows.map(() => true as const);
    },
  });
  return (row, done) =>
    queue.submit(row, (err) => {
      if (err === undefined) return done();
      console.error('baseline writer failed', err);
      process.exit(1);
    });
}

/** The writer thread's work on the event loop: one transaction per batch. */
function inThreadWriter(file: string, table: DurableTable): (rows: unknown[][]) => void {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec(table.schema);
  const insert = db.prepare(table.insert);
  return (rows) => {
    db.exec('BEGIN IMMEDIATE');
    for (const row of rows) insert.run(...(row as Parameters<typeof insert.run>));
    db.exec('COMMIT');
  };
}
