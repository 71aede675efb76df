/** Document titles on PostgreSQL (table doc_titles, migration 0210), as on SQLite. */
import type { DocRef } from '../DocStore.ts';
import { DOC_TITLES_PER_QUERY, type DocTitleStore, type StoredDocTitle } from '../DocTitleStore.ts';
import type { PgDb } from './PgDb.ts';

interface Row {
  name: string;
  title: string;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
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

export class PgDocTitleStore implements DocTitleStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async get(ref: DocRef): Promise<StoredDocTitle | undefined> {
    const rows = await this.#db.query<Row>(`SELECT ${COLUMNS} FROM doc_titles WHERE org = $1 AND name = $2`, [
      ref.org,
      ref.name,
    ]);
    const r = rows[0];
    return r ? toTitle(ref.org, r) : undefined;
  }

  async getMany(org: string, names: readonly string[]): Promise<Map<string, StoredDocTitle>> {
    const out = new Map<string, StoredDocTitle>();
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += DOC_TITLES_PER_QUERY) {
      const rows = await this.#db.query<Row>(
        `SELECT ${COLUMNS} FROM doc_titles WHERE org = $1 AND name = ANY($2::text[])`,
        [org, unique.slice(i, i + DOC_TITLES_PER_QUERY)],
      );
      for (const r of rows) out.set(r.name, toTitle(org, r));
    }
    return out;
  }

  async set(ref: DocRef, title: string, by: string, at: number): Promise<StoredDocTitle> {
    const rows = await this.#db.query<Row>(
      `INSERT INTO doc_titles (org, name, title, created_by, created_at, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $4, $5)
       ON CONFLICT (org, name) DO UPDATE SET title = excluded.title, updated_by = excluded.updated_by,
       updated_at = excluded.updated_at
       RETURNING ${COLUMNS}`,
      [ref.org, ref.name, title, by, at],
    );
    const r = rows[0];
    if (!r) throw new Error('doc_titles: the upsert returned no row');
    return toTitle(ref.org, r);
  }

  async delete(ref: DocRef): Promise<boolean> {
    const rows = await this.#db.query('DELETE FROM doc_titles WHERE org = $1 AND name = $2 RETURNING name', [
      ref.org,
      ref.name,
    ]);
    return rows.length > 0;
  }
}
