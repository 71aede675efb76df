/**
 * The write workers' WAL checkpoints (chatWriteWorker.ts, docAppendWorker.ts). SQLite's automatic
 * checkpoint runs inside the COMMIT that crosses its threshold (1,000 pages), on whichever
 * connection that is — the main thread's included — so one commit in every few hundred carried
 * the copy of the whole WAL into the database and its fsync: the p99 of commit times. A worker
 * instead checkpoints (PASSIVE: never waits for readers or writers) every `every` commits, right
 * after it posted its reply, so no commit anybody waits for does it and the WAL stays short enough
 * that the automatic one (left on as a safety net) rarely has anything to do.
 * Dependency-free on purpose (node:sqlite types only).
 */
import type { DatabaseSync } from 'node:sqlite';

/** Commits between two checkpoints: a few hundred WAL pages, a millisecond or two of copying. */
export const CHECKPOINT_EVERY = 64;

/**
 * Count a commit; every `every`th, checkpoint. Returns why a checkpoint failed (the database was
 * busy, the disk full…) for the worker to report; the next one retries, so nothing is lost.
 */
export function walCheckpointer(db: DatabaseSync, every = CHECKPOINT_EVERY): () => string | undefined {
  let commits = 0;
  return () => {
    if (++commits < every) return undefined;
    commits = 0;
    try {
      db.exec('PRAGMA wal_checkpoint(PASSIVE)');
      return undefined;
    } catch (err) {
      return `WAL checkpoint failed (the next one retries): ${(err as Error).message}`;
    }
  };
}
