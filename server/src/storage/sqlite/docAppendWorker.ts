/**
 * Worker thread of SqliteDocStore: appends document updates (and commits compactions) on its own
 * SQLite connection, so the fsync of a commit (WAL, synchronous=FULL) never blocks the main event
 * loop. Each request is one transaction — but a version larger than one part, written in parts with
 * the queued requests committed between them (docVersionParts.ts); the reply comes after COMMIT
 * returned, i.e. when the updates are durable. The WAL is checkpointed here too, right after a
 * reply (walCheckpoint.ts). Dependency-light on purpose (node:sqlite, node:worker_threads,
 * docStateSql.ts, docVersionParts.ts and walCheckpoint.ts only).
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { BUMP_STATE_SEQ, DROP_MERGED_UPDATES, PUT_STATE } from './docStateSql.ts';
import {
  DROP_VERSION,
  DROP_VERSION_PARTS,
  FINISH_VERSION,
  INSERT_VERSION,
  INSERT_VERSION_PART,
  VERSION_PART_BYTES,
  WRITING,
} from './docVersionParts.ts';
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
const data = workerData as { file: string; versionPartBytes?: number };
/** A larger version is written in parts of this size, one transaction each (docVersionParts.ts). */
const partBytes = data.versionPartBytes ?? VERSION_PART_BYTES;
const db = new DatabaseSync(data.file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec('PRAGMA busy_timeout = 5000');
// documents are keyed by (org, name) everywhere (migration 0201_docs_org)
const insert = db.prepare('INSERT INTO doc_updates (doc_org, doc_name, data) VALUES (?, ?, ?)');
const touch = db.prepare('UPDATE docs SET updated_at = ? WHERE org = ? AND name = ?');
const bumpStateSeq = db.prepare(BUMP_STATE_SEQ);
const putState = db.prepare(PUT_STATE);
const insertVersion = db.prepare(INSERT_VERSION);
const insertPart = db.prepare(INSERT_VERSION_PART);
const finishVersion = db.prepare(FINISH_VERSION);
const dropParts = db.prepare(DROP_VERSION_PARTS);
const dropVersion = db.prepare(DROP_VERSION);
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

const EMPTY = new Uint8Array(0);

function insertVersionRow(v: VersionRequest['version'], state: Uint8Array, parts: number): number {
  const { org, name, label, auto, createdAt, createdBy } = v;
  return Number(
    insertVersion.run(org, name, label, auto, createdAt, createdBy, v.state.byteLength, state, parts).lastInsertRowid,
  );
}

/** Whatever requests are queued run (and commit) before this resolves: a turn of the event loop. */
const letQueuedRun = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A version in one transaction when it fits one part; else its row (unseen while `parts` is
 * WRITING), then each part in a transaction of its own with the queued appends committed between
 * two, then the row marked written. A failure removes what was written.
 */
async function saveVersion(v: VersionRequest['version']): Promise<number> {
  if (v.state.byteLength <= partBytes) return tx(() => insertVersionRow(v, v.state, 0));
  const id = tx(() => insertVersionRow(v, EMPTY, WRITING));
  try {
    let n = 0;
    for (let at = 0; at < v.state.byteLength; at += partBytes, n++) {
      await letQueuedRun();
      tx(() => insertPart.run(id, n, v.state.subarray(at, at + partBytes)));
      report(checkpoint());
    }
    await letQueuedRun();
    tx(() => finishVersion.run(n, id));
    return id;
  } catch (err) {
    try {
      tx(() => {
        dropParts.run(id);
        dropVersion.run(id);
      });
    } catch (cleanup) {
      // the store removes unfinished versions when it next opens
      report(`could not remove a half-written version ${id}: ${(cleanup as Error).message}`);
    }
    throw err;
  }
}

/** Versions being written in parts: `close` waits for them. */
const writing = new Set<Promise<unknown>>();

function report(warning: string | undefined): void {
  if (warning) port?.postMessage({ id: 0, warning });
}

port.on('message', (req: AppendRequest | CompactRequest | VersionRequest | { id: number; ping: true } | 'close') => {
  if (req === 'close') {
    void Promise.allSettled(writing).then(() => {
      db.close();
      port.close();
    });
    return;
  }
  if ('ping' in req) {
    // WriteWorker.warm: started before the process says it is ready
    port.postMessage({ id: req.id });
    return;
  }
  if ('version' in req) {
    const saving = saveVersion(req.version).then(
      (versionId) => port.postMessage({ id: req.id, versionId }),
      (err: unknown) => port.postMessage({ id: req.id, error: (err as Error).message }),
    );
    writing.add(saving);
    void saving.finally(() => {
      writing.delete(saving);
      report(checkpoint());
    });
    return;
  }
  try {
    if ('compact' in req) port.postMessage({ id: req.id, ok: compact(req.compact) });
    else port.postMessage({ id: req.id, ids: append(req) });
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).message });
  }
  report(checkpoint());
});
