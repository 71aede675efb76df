/** Document titles on SQLite (table doc_titles, migration 0210). */
import type { DocRef } from '../DocStore.ts';
import { DOC_TITLES_PER_QUERY, type DocTitleStore, type StoredDocTitle } from '../DocTitleStore.ts';
import type { SqliteDb } from './SqliteDb.ts';

interface Row {
  name: string;
  title: string;
  created_by: string;
  created_at: number;
  updated_by: string;
  updated_at: number;
}

const COLUMNS = 'name, title, created_by, created_at, updated_by, updated_at';

function toTitle(org: string, r: Row): StoredDocTitle {
  return {
    org,
    name: r.name,
    title: r.title,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedBy: r.updated_by,
    updatedAt: Number(r.updated_at),
  };
}

export class SqliteDocTitleStore implements DocTitleStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async get(ref: DocRef): Promise<StoredDocTitle | undefined> {
    const r = this.#db.get<Row>(`SELECT ${COLUMNS} FROM doc_titles WHERE org = ? AND name = ?`, ref.org, ref.name);
    return r ? toTitle(ref.org, r) : undefined;
  }

  async getMany(org: string, names: readonly string[]): Promise<Map<string, StoredDocTitle>> {
    const out = new Map<string, StoredDocTitle>();
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += DOC_TITLES_PER_QUERY) {
      const chunk = unique.slice(i, i + DOC_TITLES_PER_QUERY);
      const rows = this.#db.all<Row>(
        `SELECT ${COLUMNS} FROM doc_titles WHERE org = ? AND name IN (${chunk.map(() => '?').join(',')})`,
        org,
        ...chunk,
      );
      for (const r of rows) out.set(r.name, toTitle(org, r));
    }
    return out;
  }

  async set(ref: DocRef, title: string, by: string, at: number): Promise<StoredDocTitle> {
    const r = this.#db.get<Row>(
      `INSERT INTO doc_titles (org, name, title, created_by, created_at, updated_by, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (org, name) DO UPDATE SET title = excluded.title, updated_by = excluded.updated_by,
       updated_at = excluded.updated_at
       RETURNING ${COLUMNS}`,
      ref.org,
      ref.name,
      title,
      by,
      at,
      by,
      at,
    );
    if (!r) throw new Error('doc_titles: the upsert returned no row');
    return toTitle(ref.org, r);
  }

  async delete(ref: DocRef): Promise<boolean> {
    return this.#db.run('DELETE FROM doc_titles WHERE org = ? AND name = ?', ref.org, ref.name).changes > 0;
  }
}
