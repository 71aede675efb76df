/**
 * Worker thread of SqliteDocStore: appends document updates on its own SQLite connection, so the
 * fsync of a commit (WAL, synchronous=FULL) never blocks the main event loop. Each request is one
 * transaction; the reply comes after COMMIT returned, i.e. when the updates are durable.
 * Dependency-free on purpose (node:sqlite and node:worker_threads only).
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

interface AppendRequest {
  id: number;
  entries: Array<{ name: string; update: Uint8Array }>;
}

const port = parentPort;
if (!port) throw new Error('docAppendWorker must run in a worker thread');
const db = new DatabaseSync((workerData as { file: string }).file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec('PRAGMA busy_timeout = 5000');
const insert = db.prepare('INSERT INTO doc_updates (doc_name, data) VALUES (?, ?)');
const touch = db.prepare('UPDATE docs SET updated_at = ? WHERE name = ?');

port.on('message', (req: AppendRequest | 'close') => {
  if (req === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    const now = Date.now();
    const ids: number[] = [];
    const touched = new Set<string>();
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const e of req.entries) {
        ids.push(Number(insert.run(e.name, e.update).lastInsertRowid));
        touched.add(e.name);
      }
      for (const name of touched) touch.run(now, name);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    port.postMessage({ id: req.id, ids });
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).message });
  }
});
