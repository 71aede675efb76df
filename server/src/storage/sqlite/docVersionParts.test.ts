import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../testing/tempDirs.ts';
import { sqliteMigrations } from './migrations/index.ts';
import { SqliteDb } from './SqliteDb.ts';
import { SqliteDocStore } from './SqliteDocStore.ts';

const tempDir = tempDirs('moim-doc-version-parts-');
const dataFile = (): string => path.join(tempDir(), 'moim.sqlite');

const PART = 64 * 1024;
const plan = { org: 'acme', name: 'plan' };
const notes = { org: 'acme', name: 'notes' };
const policy = { exportAllowed: true };
const count = (db: SqliteDb, sql: string) => db.get<{ n: number }>(sql)?.n;

async function withStore(file: string, fn: (store: SqliteDocStore, db: SqliteDb) => Promise<void>): Promise<void> {
  const db = SqliteDb.open(file);
  db.migrate(sqliteMigrations);
  const store = new SqliteDocStore(db, { versionPartBytes: PART });
  try {
    await fn(store, db);
  } finally {
    await store.close();
    db.close();
  }
}

describe('large document versions in parts (migration 0214_doc_version_parts, append worker)', () => {
  it('writes a version larger than a part in parts, reads it back whole, and commits other appends between them', async () => {
    await withStore(dataFile(), async (store, db) => {
      for (const ref of [plan, notes]) await store.create({ ...ref, owner: 'ann', policy });
      const state = new Uint8Array(randomBytes(20 * PART + 123));
      const kept = state.slice();
      const order: string[] = [];
      const saving = store.saveVersion({ doc: plan, label: 'big', auto: true, createdBy: 'ann', state }).then((v) => {
        order.push('version');
        return v;
      });
      // asked for after the version: committed while its parts are being written, not after them
      const appended = store
        .appendUpdates([{ ...notes, update: new Uint8Array([1, 2, 3]) }])
        .then(() => order.push('append'));
      const [version] = await Promise.all([saving, appended]);
      expect(order).toEqual(['append', 'version']);
      expect(version.bytes).toBe(kept.byteLength);
      // its buffer moved to the worker (transferred, not copied): the caller's array is empty now
      expect(state.byteLength).toBe(0);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_version_parts')).toBe(21);

      // a view into a larger buffer is copied: the buffer's other bytes stay the caller's
      const shared = new Uint8Array([1, 2, 7, 7, 3]);
      const small = await store.saveVersion({
        doc: plan,
        label: 'small',
        auto: false,
        createdBy: 'ann',
        state: shared.subarray(2, 4),
      });
      expect(shared).toEqual(new Uint8Array([1, 2, 7, 7, 3]));
      // the moved state handed over again is refused (it would be stored empty)
      await expect(
        store.saveVersion({ doc: plan, label: 'again', auto: true, createdBy: 'ann', state }),
      ).rejects.toThrow(/handed over already/);
      const listed = await store.listVersions(plan, { limit: 10 });
      expect(listed.map((v) => [v.label, v.bytes])).toEqual([
        ['small', 2],
        ['big', kept.byteLength],
      ]);
      const got = await store.getVersion(plan, version.id);
      expect(got?.version.label).toBe('big');
      expect(Buffer.from(got!.state).equals(Buffer.from(kept))).toBe(true);
      expect((await store.getVersion(plan, small.id))?.state).toEqual(new Uint8Array([7, 7]));
      // another organisation's document of the same name does not see it
      expect(await store.getVersion({ org: 'globex', name: 'plan' }, version.id)).toBeUndefined();

      expect(await store.delete(plan)).toBe(true);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_version_parts')).toBe(0);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_versions')).toBe(0);
    });
  });

  it('never shows a version whose parts are still being written, and drops one a crash left when it opens', async () => {
    const file = dataFile();
    await withStore(file, async (store, db) => {
      await store.create({ ...plan, owner: 'ann', policy });
      // what a process killed between two parts leaves behind
      const { lastInsertRowid: id } = db.run(
        "INSERT INTO doc_versions (doc_org, doc_name, label, auto, created_at, created_by, bytes, state, parts) VALUES ('acme', 'plan', 'cut', 1, 1, 'ann', ?, x'', -1)",
        2 * PART,
      );
      db.run('INSERT INTO doc_version_parts (version_id, n, data) VALUES (?, 0, ?)', id, new Uint8Array(PART));
      expect(await store.listVersions(plan, { limit: 10 })).toEqual([]);
      expect(await store.getVersion(plan, id)).toBeUndefined();
    });
    await withStore(file, async (_store, db) => {
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_versions')).toBe(0);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_version_parts')).toBe(0);
    });
  });

  it('waits for a version being written in parts before the worker closes', async () => {
    const file = dataFile();
    let id = 0;
    const state = new Uint8Array(randomBytes(8 * PART));
    await withStore(file, async (store) => {
      await store.create({ ...plan, owner: 'ann', policy });
      const saving = store.saveVersion({
        doc: plan,
        label: 'last',
        auto: true,
        createdBy: 'ann',
        state: state.slice(),
      });
      // closed while the parts are written: the version still lands whole
      const closing = store.close();
      id = (await saving).id;
      await closing;
    });
    await withStore(file, async (store) => {
      const got = await store.getVersion(plan, id);
      expect(Buffer.from(got!.state).equals(Buffer.from(state))).toBe(true);
    });
  });
});

describe('large compacted states in parts (migration 0215_doc_state_parts, append worker)', () => {
  const same = (a: Uint8Array | undefined, b: Uint8Array) => Buffer.from(a ?? []).equals(Buffer.from(b));

  it('switches to a state written in parts in the compaction’s last transaction, with other appends committed between its parts', async () => {
    await withStore(dataFile(), async (store, db) => {
      for (const ref of [plan, notes]) await store.create({ ...ref, owner: 'ann', policy });
      const [id] = await store.appendUpdates([{ ...plan, update: new Uint8Array([9]) }]);
      const big = new Uint8Array(randomBytes(20 * PART + 5));
      const order: string[] = [];
      const compacting = store.commitCompaction(plan, { expectSeq: 0, upToId: id!, state: big.slice() }).then((ok) => {
        order.push('compaction');
        return ok;
      });
      // asked for after the compaction, on the same and on another document: committed between its parts
      const appended = store
        .appendUpdates([
          { ...notes, update: new Uint8Array([1]) },
          { ...plan, update: new Uint8Array([2]) },
        ])
        .then(() => order.push('append'));
      expect((await Promise.all([compacting, appended]))[0]).toBe(true);
      expect(order).toEqual(['append', 'compaction']);
      const loaded = await store.loadContent(plan);
      expect(loaded.stateSeq).toBe(1);
      expect(same(loaded.state, big)).toBe(true);
      // the update merged into the state is gone, the one appended meanwhile stays
      expect(loaded.updates.map((u) => [...u.update])).toEqual([[2]]);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_state_parts')).toBe(21);

      // a compaction that read the same seq loses: the state and its parts stay, its own parts go
      const other = new Uint8Array(randomBytes(3 * PART));
      expect(await store.commitCompaction(plan, { expectSeq: 0, upToId: id!, state: other.slice() })).toBe(false);
      expect(same((await store.loadContent(plan)).state, big)).toBe(true);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_state_parts')).toBe(21);

      // a larger state again, then a small one: each switch removes the earlier state's parts
      const bigger = new Uint8Array(randomBytes(30 * PART));
      expect(await store.commitCompaction(plan, { expectSeq: 1, upToId: id!, state: bigger.slice() })).toBe(true);
      expect(same((await store.loadContent(plan)).state, bigger)).toBe(true);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_state_parts')).toBe(30);
      const small = new Uint8Array([4, 5, 6]);
      expect(await store.commitCompaction(plan, { expectSeq: 2, upToId: id!, state: small.slice() })).toBe(true);
      expect((await store.loadContent(plan)).state).toEqual(small);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_state_parts')).toBe(0);

      expect(await store.commitCompaction(plan, { expectSeq: 3, upToId: id!, state: big })).toBe(true);
      expect(await store.delete(plan)).toBe(true);
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_state_parts')).toBe(0);
    });
  });

  it('drops the parts of a compaction a crash cut short when it opens, and keeps the state in use', async () => {
    const file = dataFile();
    const big = new Uint8Array(randomBytes(4 * PART + 1));
    await withStore(file, async (store, db) => {
      await store.create({ ...plan, owner: 'ann', policy });
      expect(await store.commitCompaction(plan, { expectSeq: 0, upToId: 0, state: big.slice() })).toBe(true);
      // what a process killed between two parts of the next compaction leaves behind
      db.run(
        "INSERT INTO doc_state_parts (org, name, gen, n, data) VALUES ('acme', 'plan', 1, 0, ?)",
        new Uint8Array(PART),
      );
      expect(same((await store.loadContent(plan)).state, big)).toBe(true);
    });
    await withStore(file, async (store, db) => {
      expect(count(db, 'SELECT COUNT(*) AS n FROM doc_state_parts')).toBe(5);
      expect(same((await store.loadContent(plan)).state, big)).toBe(true);
    });
  });
});
