/** Document titles on PostgreSQL (table doc_titles, migration 0210); rows as on SQLite (sqlRows.ts). */
import type { DocRef } from '../DocStore.ts';
import { type DocTitleStore, docTitleBatches, type StoredDocTitle } from '../DocTitleStore.ts';
import { DOC_TITLE_COLUMNS, type DocTitleRow, toDocTitle, upsertedDocTitle } from '../sqlRows.ts';
import type { PgDb } from './PgDb.ts';
import { lockDocs } from './PgDocStore.ts';

export class PgDocTitleStore implements DocTitleStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async get(ref: DocRef): Promise<StoredDocTitle | undefined> {
    const rows = await this.#db.query<DocTitleRow>(
      `SELECT ${DOC_TITLE_COLUMNS} FROM doc_titles WHERE org = $1 AND name = $2`,
      [ref.org, ref.name],
    );
    const r = rows[0];
    return r ? toDocTitle(ref.org, r) : undefined;
  }

  async getMany(org: string, names: readonly string[]): Promise<Map<string, StoredDocTitle>> {
    const out = new Map<string, StoredDocTitle>();
    for (const batch of docTitleBatches(names)) {
      const rows = await this.#db.query<DocTitleRow>(
        `SELECT ${DOC_TITLE_COLUMNS} FROM doc_titles WHERE org = $1 AND name = ANY($2::text[])`,
        [org, batch],
      );
      for (const r of rows) out.set(r.name, toDocTitle(org, r));
    }
    return out;
  }

  async set(ref: DocRef, title: string, by: string, at: number): Promise<StoredDocTitle> {
    // a rename is a change: the document moves up a list in "recently changed" order, and to its
    // new place in title order (one statement)
    // under the document's lock, as its creation (PgDocStore), so a document created on another
    // node at this moment either reads this title or is there for this update of its key
    const rows = await this.#db.tx(async (tx) => {
      await lockDocs(tx, [ref]);
      return tx.query<DocTitleRow>(
        `WITH touched AS (UPDATE docs SET updated_at = GREATEST(updated_at, $5), list_title = lower($3 COLLATE "C")
           WHERE org = $1 AND name = $2)
         INSERT INTO doc_titles (org, name, title, created_by, created_at, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $4, $5)
         ON CONFLICT (org, name) DO UPDATE SET title = excluded.title, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at
         RETURNING ${DOC_TITLE_COLUMNS}`,
        [ref.org, ref.name, title, by, at],
      );
    });
    return upsertedDocTitle(ref.org, rows[0]);
  }

  async delete(ref: DocRef): Promise<boolean> {
    // without a title the document is listed by its name (one statement)
    const rows = await this.#db.tx(async (tx) => {
      await lockDocs(tx, [ref]);
      return tx.query(
        `WITH reset AS (UPDATE docs SET list_title = lower(name COLLATE "C") WHERE org = $1 AND name = $2)
         DELETE FROM doc_titles WHERE org = $1 AND name = $2 RETURNING name`,
        [ref.org, ref.name],
      );
    });
    return rows.length > 0;
  }
}
