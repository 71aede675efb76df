/**
 * Worker thread of SqliteDocStore: appends document updates (and commits compactions) on its own
 * SQLite connection, so the fsync of a commit (WAL, synchronous=FULL) never blocks the main event
 * loop. Each request is one transaction; the reply comes after COMMIT returned, i.e. when the
 * updates are durable. The WAL is checkpointed here too, right after a reply (walCheckpoint.ts).
 * Dependency-light on purpose (node:sqlite, node:worker_threads, docStateSql.ts and walCheckpoint.ts only).
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { BUMP_STATE_SEQ, DROP_MERGED_UPDATES, PUT_STATE } from './docStateSql.ts';
import { walCheckpointer } from './walCheckpoint.ts';

interface AppendRequest {
  id: number;
  entries: Array<{ org: string; name: string; update: Uint8Array }>;
}

interface CompactRequest {
  id: number;
  compact: { org: string; name: string; expectSeq: number; upToId: number; state: Uint8Array };
}

interface VersionRequest {
  id: number;
  version: {
    org: string;
    name: string;
    label: string;
    auto: 0 | 1;
    createdAt: number;
    createdBy: string;
    state: Uint8Array;
  };
}

const port = parentPort;
if (!port) throw new Error('docAppendWorker must run in a worker thread');
const db = new DatabaseSync((workerData as { file: string }).file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec('PRAGMA busy_timeout = 5000');
// documents are keyed by (org, name) everywhere (migration 0201_docs_org)
const insert = db.prepare('INSERT INTO doc_updates (doc_org, doc_name, data) VALUES (?, ?, ?)');
const touch = db.prepare('UPDATE docs SET updated_at = ? WHERE org = ? AND name = ?');
const bumpStateSeq = db.prepare(BUMP_STATE_SEQ);
const putState = db.prepare(PUT_STATE);
const insertVersion = db.prepare(
  'INSERT INTO doc_versions (doc_org, doc_name, label, auto, created_at, created_by, bytes, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
);
const dropMerged = db.prepare(DROP_MERGED_UPDATES);
const checkpoint = walCheckpointer(db);

function tx<T>(fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

function append(req: AppendRequest): number[] {
  const now = Date.now();
  return tx(() => {
    const ids: number[] = [];
    let last: { org: string; name: string } | undefined;
    const touched = new Map<string, { org: string; name: string }>();
    for (const e of req.entries) {
      ids.push(Number(insert.run(e.org, e.name, e.update).lastInsertRowid));
      if (e.name !== last?.name || e.org !== last.org) touched.set(JSON.stringify([e.org, e.name]), e);
      last = e;
    }
    for (const ref of touched.values()) touch.run(now, ref.org, ref.name);
    return ids;
  });
}

function compact(req: CompactRequest['compact']): boolean {
  return tx(() => {
    if (Number(bumpStateSeq.run(req.org, req.name, req.expectSeq).changes) !== 1) return false;
    putState.run(req.org, req.name, req.state);
    dropMerged.run(req.org, req.name, req.upToId);
    return true;
  });
}

function saveVersion(v: VersionRequest['version']): number {
  return tx(() =>
    Number(
      insertVersion.run(v.org, v.name, v.label, v.auto, v.createdAt, v.createdBy, v.state.byteLength, v.state)
        .lastInsertRowid,
    ),
  );
}

port.on('message', (req: AppendRequest | CompactRequest | VersionRequest | { id: number; ping: true } | 'close') => {
  if (req === 'close') {
    db.close();
    port.close();
    return;
  }
  if ('ping' in req) {
    // WriteWorker.warm: started before the process says it is ready
    port.postMessage({ id: req.id });
    return;
  }
  try {
    if ('compact' in req) port.postMessage({ id: req.id, ok: compact(req.compact) });
    else if ('version' in req) port.postMessage({ id: req.id, versionId: saveVersion(req.version) });
    else port.postMessage({ id: req.id, ids: append(req) });
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).message });
  }
  const failed = checkpoint();
  if (failed) port.postMessage({ id: 0, warning: failed });
});
