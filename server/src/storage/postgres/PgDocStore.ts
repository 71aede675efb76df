/** Documents (records, updates, compacted state, versions) on PostgreSQL: the DocStore of a cluster. */
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
import type { PgDb, PgTx } from './PgDb.ts';

const MAX_LIST = 1000;

/** A plain `Uint8Array` view of a BYTEA value (node-postgres gives a Buffer). */
export function bytesOf(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The advisory-lock key text of a document (locked with `hashtext`). */
const lockKey = (ref: DocRef): string => `${ref.org}/${ref.name}`;

/**
 * Take the per-document advisory transaction locks of these documents, in hash order (so two
 * transactions locking several documents cannot deadlock each other); released at COMMIT/ROLLBACK.
 * The title store takes it too (PgDocTitleStore).
 */
export async function lockDocs(tx: PgTx, refs: Iterable<DocRef>): Promise<void> {
  const keys = [...new Set([...refs].map(lockKey))];
  await tx.query(
    'SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(x) AS k FROM unnest($1::text[]) AS x ORDER BY 1) AS locks',
    [keys],
  );
}

/**
 * Documents on PostgreSQL, shared by every node of a cluster, keyed by (org, name) in every table:
 * no query reaches another organisation's rows.
 *
 * Every write of a document's content (append, compaction, delete) holds that document's advisory
 * transaction lock (`pg_advisory_xact_lock(hashtext(org || '/' || name))`). Two nodes therefore
 * never compact one document at once, and a document's update ids are handed out in commit order:
 * an update still uncommitted can never have an id below one already visible, so a compaction
 * that merged the updates it read up to `upToId` deletes exactly those. Its creation and the
 * title store's writes hold it too: the list's title key (`list_title`) is read from the title
 * when the document is created and written by the title store, and under READ COMMITTED a create
 * and a first title on two nodes would each see nothing of the other, leaving the name as key.
 */
export class PgDocStore implements DocStore {
  readonly #db: PgDb;
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(db: PgDb) {
    this.#db = db;
  }

  /** Refuse further writes and wait for those under way (the PgDb itself is closed by its owner). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
  }

  async get(ref: DocRef): Promise<DocRecord | undefined> {
    const row = await this.#db.one<DocRow>(`SELECT ${DOC_COLUMNS} FROM docs WHERE org = $1 AND name = $2`, [
      ref.org,
      ref.name,
    ]);
    return row && toRecord(row);
  }

  async create(input: DocRef & { owner: string; policy: DocPolicy }): Promise<{ record: DocRecord; created: boolean }> {
    return this.#write(async () => {
      const now = Date.now();
      const inserted = await this.#db.tx(async (tx) => {
        await lockDocs(tx, [input]);
        return tx.one<DocRow>(
          // the list's title key (ASCII letters folded to lower case: lower() under "C", as SQLite's):
          // a title given before the document existed, else the name
          `INSERT INTO docs (org, name, owner, created_at, updated_at, export_allowed, list_title)
           VALUES ($1, $2, $3, $4, $4, $5,
             lower(COALESCE((SELECT title FROM doc_titles WHERE org = $1 AND name = $2), $2) COLLATE "C"))
           ON CONFLICT (org, name) DO NOTHING RETURNING ${DOC_COLUMNS}`,
          [input.org, input.name, input.owner, now, input.policy.exportAllowed],
        );
      });
      if (inserted) return { record: toRecord(inserted), created: true };
      return { record: (await this.get(input)) as DocRecord, created: false };
    });
  }

  async setPolicy(ref: DocRef, policy: DocPolicy): Promise<DocRecord | undefined> {
    return this.#write(async () => {
      const row = await this.#db.one<DocRow>(
        `UPDATE docs SET export_allowed = $1 WHERE org = $2 AND name = $3 RETURNING ${DOC_COLUMNS}`,
        [policy.exportAllowed, ref.org, ref.name],
      );
      return row && toRecord(row);
    });
  }

  async list(q: DocListQuery): Promise<DocListRow[]> {
    if (q.names?.length === 0) return [];
    const { sql, params } = docListSql(q, 'pg');
    return (await this.#db.query<DocRow & { list_title?: string }>(sql, params)).map(toListRow);
  }

  async delete(ref: DocRef): Promise<boolean> {
    return this.#write(() =>
      this.#db.tx(async (tx) => {
        await lockDocs(tx, [ref]);
        const params = [ref.org, ref.name];
        await tx.query('DELETE FROM doc_updates WHERE doc_org = $1 AND doc_name = $2', params);
        await tx.query('DELETE FROM doc_versions WHERE doc_org = $1 AND doc_name = $2', params);
        return (await tx.query('DELETE FROM docs WHERE org = $1 AND name = $2 RETURNING 1 AS x', params)).length === 1;
      }),
    );
  }

  async loadContent(ref: DocRef): Promise<DocContentRows> {
    // one snapshot for both reads, so a compaction committing in between cannot pair the old
    // state with the updates left after it (which would lose the merged ones)
    return this.#db.tx(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const doc = await tx.one<{ state: Buffer | null; state_seq: string }>(
        'SELECT state, state_seq FROM docs WHERE org = $1 AND name = $2',
        [ref.org, ref.name],
      );
      const rows = await tx.query<{ id: string; data: Buffer }>(
        'SELECT id, data FROM doc_updates WHERE doc_org = $1 AND doc_name = $2 ORDER BY id',
        [ref.org, ref.name],
      );
      const updates = rows.map((r): StoredDocUpdate => ({ id: Number(r.id), update: bytesOf(r.data) }));
      return {
        state: doc?.state ? bytesOf(doc.state) : undefined,
        stateSeq: doc ? Number(doc.state_seq) : 0,
        updates,
      };
    });
  }

  async appendUpdates(entries: readonly (DocRef & { update: Uint8Array })[]): Promise<number[]> {
    if (entries.length === 0) return [];
    return this.#write(() =>
      this.#db.tx(async (tx) => {
        await lockDocs(tx, entries);
        // ids taken first and handed out in the order given, so ids[i] is entries[i]'s
        const taken = await tx.query<{ id: string }>(
          "SELECT nextval(pg_get_serial_sequence('doc_updates', 'id')) AS id FROM generate_series(1, $1)",
          [entries.length],
        );
        const ids = taken.map((r) => Number(r.id)).sort((a, b) => a - b);
        await tx.query(
          `INSERT INTO doc_updates (id, doc_org, doc_name, data)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[])`,
          [ids, entries.map((e) => e.org), entries.map((e) => e.name), entries.map((e) => e.update)],
        );
        const touched = new Map<string, DocRef>();
        for (const e of entries) touched.set(JSON.stringify([e.org, e.name]), e);
        const refs = [...touched.values()];
        await tx.query(
          `UPDATE docs SET updated_at = $1
           WHERE (org, name) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
          [Date.now(), refs.map((r) => r.org), refs.map((r) => r.name)],
        );
        return ids;
      }),
    );
  }

  async commitCompaction(
    ref: DocRef,
    input: { expectSeq: number; upToId: number; state: Uint8Array },
  ): Promise<boolean> {
    return this.#write(() =>
      this.#db.tx(async (tx) => {
        await lockDocs(tx, [ref]);
        const won = await tx.query(
          `UPDATE docs SET state = $1, state_seq = state_seq + 1
           WHERE org = $2 AND name = $3 AND state_seq = $4 RETURNING 1 AS x`,
          [input.state, ref.org, ref.name, input.expectSeq],
        );
        if (won.length !== 1) return false;
        await tx.query('DELETE FROM doc_updates WHERE doc_org = $1 AND doc_name = $2 AND id <= $3', [
          ref.org,
          ref.name,
          input.upToId,
        ]);
        return true;
      }),
    );
  }

  async saveVersion(input: DocVersionInput): Promise<StoredDocVersion> {
    return this.#write(async () => {
      const row = await this.#db.one<VersionRow>(
        `INSERT INTO doc_versions (doc_org, doc_name, label, auto, created_at, created_by, bytes, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${VERSION_COLUMNS}`,
        [
          input.doc.org,
          input.doc.name,
          input.label,
          input.auto,
          Date.now(),
          input.createdBy,
          input.state.byteLength,
          input.state,
        ],
      );
      if (!row) throw new Error(`saving a version of ${lockKey(input.doc)} returned no row`);
      return toVersion(row);
    });
  }

  async listVersions(ref: DocRef, q: { beforeId?: number; limit: number }): Promise<StoredDocVersion[]> {
    const rows = await this.#db.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM doc_versions WHERE doc_org = $1 AND doc_name = $2 AND id < $3
       ORDER BY id DESC LIMIT $4`,
      [ref.org, ref.name, q.beforeId ?? Number.MAX_SAFE_INTEGER, Math.min(Math.max(q.limit, 1), MAX_LIST)],
    );
    return rows.map(toVersion);
  }

  async getVersion(ref: DocRef, id: number): Promise<{ version: StoredDocVersion; state: Uint8Array } | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const row = await this.#db.one<VersionRow & { state: Buffer }>(
      `SELECT ${VERSION_COLUMNS}, state FROM doc_versions WHERE doc_org = $1 AND doc_name = $2 AND id = $3`,
      [ref.org, ref.name, id],
    );
    return row && { version: toVersion(row), state: bytesOf(row.state) };
  }

  /** Run a write unless closed, and remember it until it settles (close waits for it). */
  #write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreClosedError('document store'));
    const p = fn();
    this.#inflight.add(p);
    const forget = () => this.#inflight.delete(p);
    p.then(forget, forget);
    return p;
  }
}
