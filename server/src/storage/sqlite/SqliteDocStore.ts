/** Documents (records, updates, compacted state, versions) on SQLite: the DocStore of a single node. */
import { isMarkedAsUntransferable } from 'node:worker_threads';
import type { DocPolicy } from '@moim/protocol';
import type {
  DocContentRows,
  DocListQuery,
  DocListRow,
  DocRecord,
  DocRef,
  DocStore,
  DocVersionInput,
  StoredDocUpdate,
  StoredDocVersion,
} from '../DocStore.ts';
import { docListSql } from '../docListSql.ts';
import {
  DOC_COLUMNS,
  type DocRow,
  toDocListRow as toListRow,
  toDocRecord as toRecord,
  toDocVersion as toVersion,
  VERSION_COLUMNS,
  type VersionRow,
} from '../sqlRows.ts';
import { StoreClosedError } from '../storageErrors.ts';
import {
  BUMP_STATE_SEQ,
  DROP_MERGED_UPDATES,
  DROP_ORPHAN_STATE_PARTS,
  DROP_STATE_PARTS,
  PUT_STATE,
  STATE_PARTS,
} from './docStateSql.ts';
import {
  DROP_DOC_VERSION_PARTS,
  DROP_UNFINISHED_VERSIONS,
  INSERT_VERSION,
  joinParts,
  VERSION_PARTS,
  WRITING_IDS,
} from './docVersionParts.ts';
import type { SqliteDb, SqlValue } from './SqliteDb.ts';
import { WriteWorker } from './WriteWorker.ts';

/** What the append worker answers. */
interface WorkerReply {
  id: number;
  error?: string;
  ids?: number[];
  ok?: boolean;
  /** A saved version's row id. */
  versionId?: number;
}

/**
 * Documents on SQLite, keyed by (org, name) in every table: each organisation has its own
 * namespace of documents and no query reaches another's rows. Appends go through a worker thread with its own connection (see
 * docAppendWorker.ts) so a commit's fsync does not stall the event loop; everything else runs on
 * the shared connection. An in-memory database appends in-thread, as does a file one with
 * `appendInWorker: false` (MOIM_SQLITE_WRITE_THREADS=false: each commit's fsync on the event loop). A version or compacted state
 * larger than `versionPartBytes` is written by the worker in parts (docVersionParts.ts,
 * docStateSql.ts).
 */
export class SqliteDocStore implements DocStore {
  readonly #db: SqliteDb;
  readonly #worker: WriteWorker<WorkerReply> | undefined;
  #closed = false;

  /** `versionPartBytes`: larger versions and compacted states are written in parts of this size. @default VERSION_PART_BYTES (1 MiB) */
  constructor(db: SqliteDb, opts: { appendInWorker?: boolean; versionPartBytes?: number } = {}) {
    this.#db = db;
    // versions and compacted states a crash left half-written (nothing else writes yet: the worker
    // starts on first use)
    this.#db.tx(() => {
      for (const sql of DROP_UNFINISHED_VERSIONS) this.#db.run(sql);
      this.#db.run(DROP_ORPHAN_STATE_PARTS);
    });
    this.#worker = WriteWorker.forDatabase(db, opts.appendInWorker ?? true, {
      url: new URL('./docAppendWorker.ts', import.meta.url),
      name: 'document append worker',
      errorPrefix: 'document append worker: ',
      settings: opts.versionPartBytes === undefined ? {} : { versionPartBytes: opts.versionPartBytes },
    });
  }

  /** Start the append worker thread now (before the process is ready), waiting at most `timeoutMs`. */
  async warm(timeoutMs: number): Promise<void> {
    await this.#worker?.warm(timeoutMs);
  }

  /** Stop the append worker (after the last append resolved). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker?.close();
  }

  async get(ref: DocRef): Promise<DocRecord | undefined> {
    const row = this.#db.get<DocRow>(`SELECT ${DOC_COLUMNS} FROM docs WHERE org = ? AND name = ?`, ref.org, ref.name);
    return row && toRecord(row);
  }

  async create(input: DocRef & { owner: string; policy: DocPolicy }): Promise<{ record: DocRecord; created: boolean }> {
    const now = Date.now();
    const { changes } = this.#db.run(
      // the list's title key (ASCII letters folded to lower case): a title given before the
      // document existed, else the name
      `INSERT INTO docs (org, name, owner, created_at, updated_at, export_allowed, list_title)
       VALUES (?, ?, ?, ?, ?, ?, lower(COALESCE((SELECT title FROM doc_titles WHERE org = ? AND name = ?), ?)))
       ON CONFLICT (org, name) DO NOTHING`,
      input.org,
      input.name,
      input.owner,
      now,
      now,
      input.policy.exportAllowed ? 1 : 0,
      input.org,
      input.name,
      input.name,
    );
    const record = (await this.get(input)) as DocRecord;
    return { record, created: changes === 1 };
  }

  async setPolicy(ref: DocRef, policy: DocPolicy): Promise<DocRecord | undefined> {
    this.#db.run(
      'UPDATE docs SET export_allowed = ? WHERE org = ? AND name = ?',
      policy.exportAllowed ? 1 : 0,
      ref.org,
      ref.name,
    );
    return this.get(ref);
  }

  async list(q: DocListQuery): Promise<DocListRow[]> {
    if (q.names?.length === 0) return [];
    const { sql, params } = docListSql(q, 'sqlite');
    return this.#db.all<DocRow & { list_title?: string }>(sql, ...(params as SqlValue[])).map(toListRow);
  }

  async delete(ref: DocRef): Promise<boolean> {
    return this.#db.tx(() => {
      this.#db.run('DELETE FROM doc_updates WHERE doc_org = ? AND doc_name = ?', ref.org, ref.name);
      this.#db.run(DROP_DOC_VERSION_PARTS, ref.org, ref.name);
      this.#db.run('DELETE FROM doc_versions WHERE doc_org = ? AND doc_name = ?', ref.org, ref.name);
      this.#db.run(DROP_STATE_PARTS, ref.org, ref.name, -1);
      this.#db.run('DELETE FROM doc_states WHERE org = ? AND name = ?', ref.org, ref.name);
      return this.#db.run('DELETE FROM docs WHERE org = ? AND name = ?', ref.org, ref.name).changes === 1;
    });
  }

  async loadContent(ref: DocRef): Promise<DocContentRows> {
    // one read snapshot, so the state and the updates are from the same moment (a deferred read:
    // it never waits on the append worker's write lock, which would sleep on the event loop)
    return this.#db.read(() => {
      const doc = this.#db.get<{
        state: Uint8Array | null;
        parts: number | null;
        gen: number | null;
        state_seq: number;
      }>(
        `SELECT s.state, s.parts, s.gen, d.state_seq FROM docs d LEFT JOIN doc_states s ON s.org = d.org AND s.name = d.name
         WHERE d.org = ? AND d.name = ?`,
        ref.org,
        ref.name,
      );
      // a large state is in parts (docStateSql.ts), read in the same snapshot
      let state = doc?.state ?? undefined;
      if (doc?.parts && doc.parts > 0) {
        const parts = this.#db.all<{ data: Uint8Array }>(STATE_PARTS, ref.org, ref.name, doc.gen);
        if (parts.length !== doc.parts)
          throw new Error(`document ${ref.name}: its state has ${parts.length} of ${doc.parts} parts`);
        state = joinParts(parts.map((p) => p.data));
      }
      const updates = this.#db
        .all<{ id: number; data: Uint8Array }>(
          'SELECT id, data FROM doc_updates WHERE doc_org = ? AND doc_name = ? ORDER BY id',
          ref.org,
          ref.name,
        )
        .map((r): StoredDocUpdate => ({ id: r.id, update: r.data }));
      return { state, stateSeq: doc?.state_seq ?? 0, updates };
    });
  }

  async appendUpdates(entries: readonly (DocRef & { update: Uint8Array })[]): Promise<number[]> {
    if (entries.length === 0) return [];
    if (this.#closed) throw new StoreClosedError('document store');
    if (this.#worker) {
      const plain = entries.map(({ org, name, update }) => ({ org, name, update }));
      return (await this.#worker.request({ entries: plain })).ids ?? [];
    }
    const now = Date.now();
    return this.#db.tx(() => {
      const ids: number[] = [];
      const touched = new Map<string, DocRef>();
      for (const e of entries) {
        ids.push(
          this.#db.run('INSERT INTO doc_updates (doc_org, doc_name, data) VALUES (?, ?, ?)', e.org, e.name, e.update)
            .lastInsertRowid,
        );
        touched.set(JSON.stringify([e.org, e.name]), e);
      }
      for (const ref of touched.values())
        this.#db.run('UPDATE docs SET updated_at = ? WHERE org = ? AND name = ?', now, ref.org, ref.name);
      return ids;
    });
  }

  async commitCompaction(
    ref: DocRef,
    input: { expectSeq: number; upToId: number; state: Uint8Array },
  ): Promise<boolean> {
    // in the worker too: its fsync must not block the main thread, and it queues behind the appends
    if (this.#worker && !this.#closed)
      return (
        (await this.#worker.request({ compact: { org: ref.org, name: ref.name, ...input } }, ownBuffer(input.state)))
          .ok === true
      );
    return this.#db.tx(() => {
      if (this.#db.run(BUMP_STATE_SEQ, ref.org, ref.name, input.expectSeq).changes !== 1) return false;
      this.#db.run(PUT_STATE, ref.org, ref.name, input.state);
      this.#db.run(DROP_STATE_PARTS, ref.org, ref.name, -1);
      this.#db.run(DROP_MERGED_UPDATES, ref.org, ref.name, input.upToId);
      return true;
    });
  }

  async saveVersion(input: DocVersionInput): Promise<StoredDocVersion> {
    const now = Date.now();
    const bytes = input.state.byteLength; // before the worker may take the buffer
    // in the worker when there is one: the commit's fsync would stall the event loop (the
    // automatic versions of busy documents come every MOIM_DOC_VERSION_INTERVAL_MS)
    const lastInsertRowid =
      this.#worker && !this.#closed ? await this.#saveVersionInWorker(input, now) : this.#insertVersion(input, now);
    return {
      id: lastInsertRowid,
      docName: input.doc.name,
      label: input.label,
      auto: input.auto,
      createdAt: now,
      createdBy: input.createdBy,
      bytes,
    };
  }

  async #saveVersionInWorker(input: DocVersionInput, now: number): Promise<number> {
    const { doc, label, auto, createdBy, state } = input;
    const reply = await this.#worker!.request(
      { version: { org: doc.org, name: doc.name, label, auto: auto ? 1 : 0, createdAt: now, createdBy, state } },
      ownBuffer(state),
    );
    if (reply.versionId === undefined) throw new Error('document append worker: the version was not saved');
    return reply.versionId;
  }

  #insertVersion(input: DocVersionInput, now: number): number {
    const { lastInsertRowid } = this.#db.run(
      INSERT_VERSION,
      input.doc.org,
      input.doc.name,
      input.label,
      input.auto ? 1 : 0,
      now,
      input.createdBy,
      input.state.byteLength,
      input.state,
      0,
    );
    return lastInsertRowid;
  }

  async listVersions(ref: DocRef, q: { beforeId?: number; limit: number }): Promise<StoredDocVersion[]> {
    return this.#db
      .all<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM doc_versions WHERE doc_org = ? AND doc_name = ? AND id < ?
         AND id NOT IN (${WRITING_IDS}) ORDER BY id DESC LIMIT ?`,
        ref.org,
        ref.name,
        q.beforeId ?? Number.MAX_SAFE_INTEGER,
        Math.min(Math.max(q.limit, 1), 1000),
      )
      .map(toVersion);
  }

  async getVersion(ref: DocRef, id: number): Promise<{ version: StoredDocVersion; state: Uint8Array } | undefined> {
    // one read snapshot: the row and its parts of the same moment
    return this.#db.read(() => {
      const row = this.#db.get<VersionRow & { state: Uint8Array; parts: number }>(
        `SELECT ${VERSION_COLUMNS}, state, parts FROM doc_versions WHERE doc_org = ? AND doc_name = ? AND id = ? AND parts >= 0`,
        ref.org,
        ref.name,
        id,
      );
      if (!row) return undefined;
      const state =
        row.parts > 0
          ? joinParts(
              this.#db.all<{ data: Uint8Array }>(VERSION_PARTS, id).map((p) => p.data),
              Number(row.bytes),
            )
          : row.state;
      return { version: toVersion(row), state };
    });
  }
}

/**
 * The buffer to move to the append worker with `state`: its own whole buffer (a freshly encoded
 * state, as the documents pass), else none and it is copied (a view into a larger or shared one,
 * or a buffer Node keeps, such as its Buffer pool). A state handed over before is refused: its
 * buffer moved, and writing it again would store an empty state.
 */
function ownBuffer(state: Uint8Array): ArrayBuffer[] {
  const buffer = state.buffer;
  if (!(buffer instanceof ArrayBuffer)) return [];
  if (buffer.detached) throw new Error('document store: this state was handed over already (its buffer moved)');
  return state.byteOffset === 0 && state.byteLength === buffer.byteLength && !isMarkedAsUntransferable(buffer)
    ? [buffer]
    : [];
}
