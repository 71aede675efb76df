import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../testing/tempDirs.ts';
import { sqliteMigrations } from './migrations/index.ts';
import { SqliteDb } from './SqliteDb.ts';
import { SqliteDocStore } from './SqliteDocStore.ts';

const tempDir = tempDirs('moim-doc-states-');
const dataDir = (): string => path.join(tempDir(), 'moim.sqlite');

const columns = (db: SqliteDb, table: string) =>
  db.all<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).map((c) => c.name);

describe("a document's compacted state on SQLite (migration 0213_doc_states)", () => {
  it('moves out of the document row, which every append touches: a data folder from before keeps it', async () => {
    const file = dataDir();
    const old = SqliteDb.open(file);
    old.migrate(sqliteMigrations.filter((m) => m.id < '0213'));
    const state = new Uint8Array(300_000).fill(7);
    old.run(
      "INSERT INTO docs (org, name, owner, created_at, updated_at, export_allowed, state, state_seq) VALUES ('acme', 'plan', 'ann', 1, 2, 1, ?, 4)",
      state,
    );
    old.run(
      "INSERT INTO docs (org, name, owner, created_at, updated_at, export_allowed) VALUES ('acme', 'empty', 'ann', 1, 2, 1)",
    );
    old.run("INSERT INTO doc_updates (doc_org, doc_name, data) VALUES ('acme', 'plan', ?)", new Uint8Array([1, 2, 3]));
    old.close();

    const db = SqliteDb.open(file);
    expect(db.migrate(sqliteMigrations)).toContain('0213_doc_states');
    expect(columns(db, 'docs')).not.toContain('state');
    expect(columns(db, 'docs')).toContain('state_seq');
    const store = new SqliteDocStore(db);
    try {
      const plan = await store.loadContent({ org: 'acme', name: 'plan' });
      expect(plan.stateSeq).toBe(4);
      expect(plan.state?.byteLength).toBe(300_000);
      expect(plan.updates.map((u) => [...u.update])).toEqual([[1, 2, 3]]);
      const empty = await store.loadContent({ org: 'acme', name: 'empty' });
      expect(empty).toEqual({ state: undefined, stateSeq: 0, updates: [] });
    } finally {
      await store.close();
      db.close();
    }
  });

  for (const where of ['append worker', 'in-thread'] as const)
    it(`compacts, refuses a stale compaction and deletes with the document (${where})`, async () => {
      const db = SqliteDb.open(where === 'append worker' ? dataDir() : ':memory:');
      db.migrate(sqliteMigrations);
      const store = new SqliteDocStore(db);
      try {
        const plan = { org: 'acme', name: 'plan' };
        const other = { org: 'globex', name: 'plan' };
        for (const ref of [plan, other]) await store.create({ ...ref, owner: 'ann', policy: { exportAllowed: true } });
        const [id] = await store.appendUpdates([{ ...plan, update: new Uint8Array([9]) }]);
        expect(await store.commitCompaction(plan, { expectSeq: 0, upToId: id!, state: new Uint8Array([1]) })).toBe(
          true,
        );
        // a second compaction that read the same state loses, and writes nothing
        expect(await store.commitCompaction(plan, { expectSeq: 0, upToId: id!, state: new Uint8Array([2]) })).toBe(
          false,
        );
        expect(await store.commitCompaction(plan, { expectSeq: 1, upToId: id!, state: new Uint8Array([3]) })).toBe(
          true,
        );
        expect(await store.loadContent(plan)).toEqual({ state: new Uint8Array([3]), stateSeq: 2, updates: [] });
        // the same name in another organisation is another document
        expect((await store.loadContent(other)).state).toBeUndefined();
        // an append leaves the state where it is
        await store.appendUpdates([{ ...plan, update: new Uint8Array([4]) }]);
        const after = await store.loadContent(plan);
        expect(after.state).toEqual(new Uint8Array([3]));
        expect(after.updates.map((u) => [...u.update])).toEqual([[4]]);

        expect(await store.delete(plan)).toBe(true);
        expect(db.get<{ n: number }>('SELECT COUNT(*) AS n FROM doc_states')?.n).toBe(0);
        // created again under the same name: nothing of the old one comes back
        await store.create({ ...plan, owner: 'ann', policy: { exportAllowed: true } });
        expect(await store.loadContent(plan)).toEqual({ state: undefined, stateSeq: 0, updates: [] });
      } finally {
        await store.close();
        db.close();
      }
    });
});
