/**
 * Worker thread of SqliteChatStore: commits batches of message appends and read receipts on its
 * own SQLite connection, so a commit's fsync (WAL, synchronous=FULL) never blocks the main event
 * loop. Each request is one transaction; the reply comes after COMMIT returned, i.e. when the
 * batch is durable (see chatWorkerOps.ts for what a batch does). The WAL is checkpointed here too,
 * right after a reply (walCheckpoint.ts).
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { applyChatWrites, type ChatWriteReply, type ChatWriteRequest } from './chatWorkerOps.ts';
import { walCheckpointer } from './walCheckpoint.ts';

const port = parentPort;
if (!port) throw new Error('chatWriteWorker must run in a worker thread');
const db = new DatabaseSync((workerData as { file: string }).file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec('PRAGMA foreign_keys = ON');
db.exec('PRAGMA busy_timeout = 5000');
const checkpoint = walCheckpointer(db);
const statements = new Map<string, StatementSync>();
const conn = {
  stmt(sql: string): StatementSync {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  },
  exec(sql: string): void {
    db.exec(sql);
  },
};

port.on('message', (req: ChatWriteRequest | { id: number; ping: true } | 'close') => {
  if (req === 'close') {
    statements.clear();
    db.close();
    port.close();
    return;
  }
  if ('ping' in req) {
    // WriteWorker.warm: started before the process says it is ready
    port.postMessage({ id: req.id });
    return;
  }
  let reply: ChatWriteReply;
  try {
    reply = { id: req.id, results: applyChatWrites(conn, req.ops) };
  } catch (err) {
    const errcode = (err as { errcode?: unknown }).errcode;
    reply = { id: req.id, error: (err as Error).message, ...(typeof errcode === 'number' ? { errcode } : {}) };
  }
  port.postMessage(reply);
  const failed = checkpoint();
  if (failed) port.postMessage({ id: 0, warning: failed });
});
