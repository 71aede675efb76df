/**
 * Worker thread of SqliteDocStore: appends document updates (and commits compactions) on its own
 * SQLite connection, so the fsync of a commit (WAL, synchronous=FULL) never blocks the main event
 * loop. Each request is one transaction — but a version or compacted state larger than one part,
 * written in parts with the queued requests committed between them (docVersionParts.ts,
 * docStateSql.ts); the reply comes after COMMIT returned, i.e. when the updates are durable. The
 * WAL is checkpointed here too, right after a reply (walCheckpoint.ts). Dependency-light on purpose
 * (node:sqlite, node:worker_threads, docStateSql.ts, docVersionParts.ts and walCheckpoint.ts only).
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import {
  BUMP_STATE_SEQ,
  DROP_MERGED_UPDATES,
  DROP_STATE_PARTS,
  DROP_STATE_PARTS_OF,
  INSERT_STATE_PART,
  PUT_STATE,
  PUT_STATE_IN_PARTS,
} from './docStateSql.ts';
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
/** A larger version or state is written in parts of this size, one transaction each (docVersionParts.ts). */
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
const putStateInParts = db.prepare(PUT_STATE_IN_PARTS);
const dropStateParts = db.prepare(DROP_STATE_PARTS);
const dropStatePartsOf = db.prepare(DROP_STATE_PARTS_OF);
const insertStatePart = db.prepare(INSERT_STATE_PART);
/** Generations of states written in parts: unique across this worker's life and its restarts. */
let nextGen = Date.now() * 1000;
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

/**
 * Bump the seq if it is still the one the compaction read (else write nothing), put the state,
 * drop the merged updates — in one transaction. A state larger than one part is first written in
 * parts under a new generation, each in a transaction of its own with the queued requests committed
 * between them; the last transaction switches the row to it (or, having lost, removes the parts).
 */
async function compact(req: CompactRequest['compact']): Promise<boolean> {
  const { org, name, expectSeq, upToId, state } = req;
  if (state.byteLength <= partBytes)
    return tx(() => {
      if (Number(bumpStateSeq.run(org, name, expectSeq).changes) !== 1) return false;
      putState.run(org, name, state);
      dropStateParts.run(org, name, -1);
      dropMerged.run(org, name, upToId);
      return true;
    });
  const gen = nextGen++;
  try {
    const n = await writeParts(state, (i, part) => insertStatePart.run(org, name, gen, i, part));
    return tx(() => {
      // lost: another compaction moved the seq; its state stays, these parts go
      if (Number(bumpStateSeq.run(org, name, expectSeq).changes) !== 1) {
        dropStatePartsOf.run(org, name, gen);
        return false;
      }
      putStateInParts.run(org, name, n, gen);
      dropStateParts.run(org, name, gen); // the earlier state's parts, if it had any
      dropMerged.run(org, name, upToId);
      return true;
    });
  } catch (err) {
    try {
      tx(() => dropStatePartsOf.run(org, name, gen));
    } catch (cleanup) {
      // the store removes parts no state points at when it next opens
      report(`could not remove the parts of an unfinished compaction of ${name}: ${(cleanup as Error).message}`);
    }
    throw err;
  }
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
 * `state` in parts of `partBytes`, each inserted by `insert` in a transaction of its own, the queued
 * requests run before each and before the caller's last transaction. Resolves with the number of parts.
 */
async function writeParts(state: Uint8Array, insert: (n: number, part: Uint8Array) => void): Promise<number> {
  let n = 0;
  for (let at = 0; at < state.byteLength; at += partBytes, n++) {
    await letQueuedRun();
    tx(() => insert(n, state.subarray(at, at + partBytes)));
    report(checkpoint());
  }
  await letQueuedRun();
  return n;
}

/**
 * A version in one transaction when it fits one part; else its row (unseen while `parts` is
 * WRITING), then each part in a transaction of its own with the queued appends committed between
 * two, then the row marked written. A failure removes what was written.
 */
async function saveVersion(v: VersionRequest['version']): Promise<number> {
  if (v.state.byteLength <= partBytes) return tx(() => insertVersionRow(v, v.state, 0));
  const id = tx(() => insertVersionRow(v, EMPTY, WRITING));
  try {
    const n = await writeParts(v.state, (i, part) => insertPart.run(id, i, part));
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

/** Versions and compactions being written (in parts): `close` waits for them. */
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
  if ('version' in req || 'compact' in req) {
    // a large one is written in parts (the requests queued meanwhile run between them): answered when done
    const done = (
      'version' in req
        ? saveVersion(req.version).then((versionId) => ({ versionId }))
        : compact(req.compact).then((ok) => ({ ok }))
    ).then(
      (answer) => port.postMessage({ id: req.id, ...answer }),
      (err: unknown) => port.postMessage({ id: req.id, error: (err as Error).message }),
    );
    writing.add(done);
    void done.finally(() => {
      writing.delete(done);
      report(checkpoint());
    });
    return;
  }
  try {
    port.postMessage({ id: req.id, ids: append(req) });
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).message });
  }
  report(checkpoint());
});
