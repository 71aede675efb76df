/** Document titles on SQLite (table doc_titles, migration 0210); rows as on PostgreSQL (sqlRows.ts). */
import type { DocRef } from '../DocStore.ts';
import { type DocTitleStore, docTitleBatches, type StoredDocTitle } from '../DocTitleStore.ts';
import { DOC_TITLE_COLUMNS, type DocTitleRow, toDocTitle, upsertedDocTitle } from '../sqlRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

export class SqliteDocTitleStore implements DocTitleStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async get(ref: DocRef): Promise<StoredDocTitle | undefined> {
    const r = this.#db.get<DocTitleRow>(
      `SELECT ${DOC_TITLE_COLUMNS} FROM doc_titles WHERE org = ? AND name = ?`,
      ref.org,
      ref.name,
    );
    return r ? toDocTitle(ref.org, r) : undefined;
  }

  async getMany(org: string, names: readonly string[]): Promise<Map<string, StoredDocTitle>> {
    const out = new Map<string, StoredDocTitle>();
    for (const batch of docTitleBatches(names)) {
      const rows = this.#db.all<DocTitleRow>(
        `SELECT ${DOC_TITLE_COLUMNS} FROM doc_titles WHERE org = ? AND name IN (${batch.map(() => '?').join(',')})`,
        org,
        ...batch,
      );
      for (const r of rows) out.set(r.name, toDocTitle(org, r));
    }
    return out;
  }

  async set(ref: DocRef, title: string, by: string, at: number): Promise<StoredDocTitle> {
    return this.#db.tx(() => {
      // a rename is a change: the document moves up a list in "recently changed" order, and to its
      // new place in title order (its key: ASCII letters folded to lower case, as on PostgreSQL)
      this.#db.run(
        'UPDATE docs SET updated_at = MAX(updated_at, ?), list_title = lower(?) WHERE org = ? AND name = ?',
        at,
        title,
        ref.org,
        ref.name,
      );
      const r = this.#db.get<DocTitleRow>(
        `INSERT INTO doc_titles (org, name, title, created_by, created_at, updated_by, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (org, name) DO UPDATE SET title = excluded.title, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at
         RETURNING ${DOC_TITLE_COLUMNS}`,
        ref.org,
        ref.name,
        title,
        by,
        at,
        by,
        at,
      );
      return upsertedDocTitle(ref.org, r);
    });
  }

  async delete(ref: DocRef): Promise<boolean> {
    return this.#db.tx(() => {
      // without a title the document is listed by its name
      this.#db.run('UPDATE docs SET list_title = lower(name) WHERE org = ? AND name = ?', ref.org, ref.name);
      return this.#db.run('DELETE FROM doc_titles WHERE org = ? AND name = ?', ref.org, ref.name).changes > 0;
    });
  }
}
