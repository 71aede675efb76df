import { describe, expect, it } from 'vitest';
import { docListSql } from '../docListSql.ts';
import { sqliteMigrations } from './migrations/index.ts';
import { SqliteDb } from './SqliteDb.ts';

/** SQLite's plan of a document list page: the rows it names and whether it sorts them itself. */
function plan(
  db: SqliteDb,
  order: 'updated' | 'title' | 'name',
  after?: { name: string; updatedAt?: number; title?: string },
) {
  const { sql, params } = docListSql({ org: 'acme', order, limit: 50, ...(after ? { after } : {}) }, 'sqlite');
  return db
    .all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...(params as Array<string | number>))
    .map((r) => r.detail)
    .join('\n');
}

describe('a document list page on SQLite', () => {
  it('walks an index in every order, first page and later ones alike, and sorts nothing itself', () => {
    const db = SqliteDb.open(':memory:');
    db.migrate(sqliteMigrations);
    const pages = {
      updated: [undefined, { name: 'a', updatedAt: 5 }],
      title: [undefined, { name: 'a', title: 'Budget' }],
      name: [undefined, { name: 'a' }],
    } as const;
    const index = { updated: 'docs_org_updated', title: 'docs_org_list_title', name: 'sqlite_autoindex_docs_1' };
    for (const order of ['updated', 'title', 'name'] as const)
      for (const after of pages[order]) {
        const p = plan(db, order, after);
        expect(p, `${order} ${JSON.stringify(after)}`).toContain(index[order]);
        expect(p, `${order} ${JSON.stringify(after)}`).not.toContain('TEMP B-TREE');
      }
    db.close();
  });
});

describe("the title order's key on SQLite (migration 0216_docs_list_title_fold)", () => {
  it('folds the keys of a data folder from before, so capitals no longer come first', () => {
    const db = SqliteDb.open(':memory:');
    db.migrate(sqliteMigrations.filter((m) => m.id < '0216'));
    const insert =
      "INSERT INTO docs (org, name, owner, created_at, updated_at, list_title) VALUES ('acme', ?, 'ann', 1, 1, ?)";
    for (const [name, key] of [
      ['c', 'cherry'],
      ['b', 'Banana'],
      ['a', 'apple'],
      ['k', '가계부'],
    ])
      db.run(insert, name as string, key as string);
    expect(db.migrate(sqliteMigrations)).toContain('0216_docs_list_title_fold');
    const { sql, params } = docListSql({ org: 'acme', order: 'title', limit: 10 }, 'sqlite');
    const rows = db.all<{ name: string; list_title: string }>(sql, ...(params as Array<string | number>));
    expect(rows.map((r) => [r.name, r.list_title])).toEqual([
      ['a', 'apple'],
      ['b', 'banana'],
      ['c', 'cherry'],
      ['k', '가계부'],
    ]);
    db.close();
  });
});
