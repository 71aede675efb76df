/**
 * The DocStore contract, run unchanged against every backend (SQLite, PostgreSQL), plus what only
 * a shared database has to survive: two nodes compacting and appending to one document at once.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { DocListRow, DocRef, DocStore } from '../DocStore.ts';
import { coreMigrations } from '../postgres/migrations/core.ts';
import { docsMigrations } from '../postgres/migrations/docs.ts';
import { PgDb } from '../postgres/PgDb.ts';
import { PgDocStore } from '../postgres/PgDocStore.ts';
import { PgDocTitleStore } from '../postgres/PgDocTitleStore.ts';
import { StoreClosedError } from '../storageErrors.ts';
import { BACKENDS, dropSchema, type OpenedBackend, TEST_DATABASE_URL, uniqueSchema } from './backends.ts';

const policy = { exportAllowed: true };
const acme: DocRef = { org: 'acme', name: 'notes' };
const evil: DocRef = { org: 'evil', name: 'notes' };

/** `count` Yjs updates, each inserting its index into the text `content`. */
function updates(count: number, prefix = ''): { updates: Uint8Array[]; text: string } {
  const src = new Y.Doc();
  const out: Uint8Array[] = [];
  src.on('update', (u: Uint8Array) => out.push(u));
  for (let i = 0; i < count; i++) src.getText('content').insert(src.getText('content').length, `${prefix}${i};`);
  const text = src.getText('content').toString();
  src.destroy();
  return { updates: out, text };
}

/** The text a document's stored rows rebuild to. */
function textOf(rows: { state: Uint8Array | undefined; updates: { update: Uint8Array }[] }): string {
  const doc = new Y.Doc();
  if (rows.state) Y.applyUpdate(doc, rows.state);
  for (const u of rows.updates) Y.applyUpdate(doc, u.update);
  const text = doc.getText('content').toString();
  doc.destroy();
  return text;
}

describe.each(BACKENDS)('DocStore contract on $name', (backend) => {
  let opened: OpenedBackend;
  let docs: DocStore;
  beforeEach(async () => {
    opened = await backend.open();
    docs = opened.stores.docs;
  });
  afterEach(() => opened.close());
  /** A version of acme's document saved by ann. */
  const saveAnnVersion = (label: string, state: Uint8Array) =>
    docs.saveVersion({ doc: acme, label, auto: false, createdBy: 'ann', state });

  it('creates a record once, reads it back, changes its policy', async () => {
    expect(await docs.get(acme)).toBeUndefined();
    const first = await docs.create({ ...acme, owner: 'ann', policy: { exportAllowed: false } });
    expect(first.created).toBe(true);
    expect(first.record).toMatchObject({ org: 'acme', name: 'notes', owner: 'ann', policy: { exportAllowed: false } });
    expect(first.record.createdAt).toBe(first.record.updatedAt);
    expect(typeof first.record.createdAt).toBe('number');
    const again = await docs.create({ ...acme, owner: 'bob', policy });
    expect(again).toEqual({ record: first.record, created: false });
    expect(await docs.get(acme)).toEqual(first.record);
    expect((await docs.setPolicy(acme, { exportAllowed: true }))?.policy).toEqual({ exportAllowed: true });
    expect((await docs.get(acme))?.policy.exportAllowed).toBe(true);
    expect(await docs.setPolicy({ org: 'acme', name: 'missing' }, policy)).toBeUndefined();
  });

  it('keeps organisations apart: acme/notes and evil/notes are two documents', async () => {
    await docs.create({ ...acme, owner: 'ann', policy });
    expect(await docs.get(evil)).toBeUndefined();
    expect((await docs.create({ ...evil, owner: 'eve', policy })).created).toBe(true);
    const { updates: ups, text } = updates(2);
    await docs.appendUpdates(ups.map((update) => ({ ...acme, update })));
    expect((await docs.loadContent(evil)).updates).toEqual([]);
    expect(textOf(await docs.loadContent(acme))).toBe(text);
    const v = await saveAnnVersion('v1', ups[0] as Uint8Array);
    expect(await docs.listVersions(evil, { limit: 10 })).toEqual([]);
    expect(await docs.getVersion(evil, v.id)).toBeUndefined();
    expect((await docs.list({ org: 'evil', limit: 10 })).map((r) => r.owner)).toEqual(['eve']);
    expect((await docs.list({ org: 'acme', limit: 10 })).map((r) => r.owner)).toEqual(['ann']);
    // a compaction of evil's cannot touch acme's updates
    const evilRows = await docs.loadContent(evil);
    const acmeRows = await docs.loadContent(acme);
    const lastAcmeId = acmeRows.updates.at(-1)?.id as number;
    expect(
      await docs.commitCompaction(evil, {
        expectSeq: evilRows.stateSeq,
        upToId: lastAcmeId,
        state: new Uint8Array([0, 0]),
      }),
    ).toBe(true);
    expect((await docs.loadContent(acme)).updates).toHaveLength(2);
    expect(await docs.delete(evil)).toBe(true);
    expect(await docs.get(acme)).toBeDefined();
    expect(textOf(await docs.loadContent(acme))).toBe(text);
    expect(await docs.getVersion(acme, v.id)).toBeDefined();
  });

  it('lists one organisation by name, ascending, after a name, by names, up to a limit', async () => {
    for (const name of ['b', 'a', 'constructor', 'c', 'B'])
      await docs.create({ org: 'acme', name, owner: 'ann', policy });
    await docs.create({ org: 'other', name: 'a0', owner: 'x', policy });
    const names = async (q: Parameters<DocStore['list']>[0]) => (await docs.list(q)).map((r) => r.name);
    expect(await names({ org: 'acme', limit: 10 })).toEqual(['B', 'a', 'b', 'c', 'constructor']);
    expect(await names({ org: 'acme', after: { name: 'a' }, limit: 2 })).toEqual(['b', 'c']);
    expect(await names({ org: 'acme', names: ['c', 'a', 'zz', 'a0'], limit: 10 })).toEqual(['a', 'c']);
    expect(await names({ org: 'acme', names: ['c', 'a', 'constructor'], after: { name: 'a' }, limit: 1 })).toEqual([
      'c',
    ]);
    expect(await names({ org: 'acme', names: [], limit: 10 })).toEqual([]);
    expect(await names({ org: 'nobody', limit: 10 })).toEqual([]);
  });

  it('lists most recently changed first and by title (else name), ties by name, in pages that start after a row', async () => {
    const tick = () => new Promise((r) => setTimeout(r, 3));
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await docs.create({ org: 'acme', name, owner: 'ann', policy });
      await tick();
    }
    await docs.create({ org: 'other', name: 'zz', owner: 'x', policy });
    const { updates: ups } = updates(3);
    for (const [i, name] of ['c', 'a', 'e'].entries()) {
      await docs.appendUpdates([{ org: 'acme', name, update: ups[i] as Uint8Array }]);
      await tick();
    }
    const titles = opened.stores.docTitles;
    await titles.set({ org: 'acme', name: 'a' }, '나무', 'ann', 1);
    await titles.set({ org: 'acme', name: 'b' }, 'Zebra', 'ann', 1);
    await titles.set({ org: 'acme', name: 'c' }, 'apple', 'ann', 1);
    await titles.set({ org: 'acme', name: 'e' }, 'Zebra', 'ann', 1);
    await titles.set({ org: 'other', name: 'zz' }, 'Aaa', 'x', 1);

    /** Every row of one order, walked in pages of `limit`, each starting after the previous page's last row. */
    const walk = async (order: 'updated' | 'title' | 'name', limit: number, only?: string[]) => {
      const out: DocListRow[] = [];
      for (let guard = 0; guard < 10; guard++) {
        const last = out.at(-1);
        const page = await docs.list({
          org: 'acme',
          order,
          limit,
          ...(only ? { names: only } : {}),
          ...(last
            ? { after: { name: last.name, updatedAt: last.updatedAt, title: last.listTitle ?? last.name } }
            : {}),
        });
        out.push(...page);
        if (page.length < limit) return out;
      }
      throw new Error('paging did not end');
    };
    // most recently changed first: e, a, c were edited last (in that order from the newest), then d, b (created)
    const updated = await walk('updated', 10);
    expect(updated.map((r) => r.name)).toEqual(['e', 'a', 'c', 'd', 'b']);
    expect(updated.map((r) => r.updatedAt)).toEqual([...updated.map((r) => r.updatedAt)].sort((x, y) => y - x));
    for (const limit of [1, 2, 3])
      expect((await walk('updated', limit)).map((r) => r.name)).toEqual(['e', 'a', 'c', 'd', 'b']);
    // by title, the case of ASCII letters ignored, else in code point order (the same on every
    // backend: Hangul after Latin); no title: the name; equal keys: by name
    const byTitle = await walk('title', 10);
    expect(byTitle.map((r) => [r.name, r.listTitle])).toEqual([
      ['c', 'apple'],
      ['d', 'd'],
      ['b', 'zebra'],
      ['e', 'zebra'],
      ['a', '나무'],
    ]);
    for (const limit of [1, 2])
      expect((await walk('title', limit)).map((r) => r.name)).toEqual(['c', 'd', 'b', 'e', 'a']);
    expect((await walk('name', 2)).map((r) => r.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // ties in updatedAt go by name: a page boundary inside a tie loses nothing
    const tied = await docs.list({
      org: 'acme',
      order: 'updated',
      limit: 10,
      after: { name: 'a', updatedAt: Number(updated[2]?.updatedAt) },
    });
    expect(tied.map((r) => r.name)).toEqual(
      updated
        .filter(
          (r) => r.updatedAt < Number(updated[2]?.updatedAt) || (r.updatedAt === updated[2]?.updatedAt && r.name > 'a'),
        )
        .map((r) => r.name),
    );
    // only some names, in each order
    expect((await walk('updated', 1, ['b', 'c', 'zz'])).map((r) => r.name)).toEqual(['c', 'b']);
    expect((await walk('title', 1, ['a', 'c', 'zz'])).map((r) => r.name)).toEqual(['c', 'a']);
    // capitals no longer come first: Banana between apple and cherry, whatever the case
    await titles.set({ org: 'acme', name: 'b' }, 'Banana', 'ann', 2);
    await titles.set({ org: 'acme', name: 'e' }, 'CHERRY', 'ann', 2);
    // only A–Z are folded, on every backend alike: É stays, after the ASCII letters
    await titles.set({ org: 'acme', name: 'd' }, 'Éclair', 'ann', 2);
    expect((await walk('title', 2)).map((r) => [r.name, r.listTitle])).toEqual([
      ['c', 'apple'],
      ['b', 'banana'],
      ['e', 'cherry'],
      ['d', 'Éclair'],
      ['a', '나무'],
    ]);
    expect(await docs.list({ org: 'acme', order: 'title', names: [], limit: 10 })).toEqual([]);
    // never another organisation's rows
    expect((await docs.list({ org: 'other', order: 'title', limit: 10 })).map((r) => [r.name, r.listTitle])).toEqual([
      ['zz', 'aaa'],
    ]);
  });

  it('keeps the title order with the document: a title given before it exists, a rename, a title removed', async () => {
    const titles = opened.stores.docTitles;
    const byTitle = async () =>
      (await docs.list({ org: 'acme', order: 'title', limit: 10 })).map((r) => [r.name, r.listTitle]);
    // a title stored before its document (the title store allows it): the document is listed under it
    await titles.set({ org: 'acme', name: 'm' }, 'Budget', 'ann', 1);
    await docs.create({ org: 'acme', name: 'm', owner: 'ann', policy });
    await docs.create({ org: 'acme', name: 'k', owner: 'ann', policy });
    expect(await byTitle()).toEqual([
      ['m', 'budget'],
      ['k', 'k'],
    ]);
    // renamed: moves to its new place; its title removed: listed by its name again
    await titles.set({ org: 'acme', name: 'm' }, '예산', 'ann', 2);
    expect(await byTitle()).toEqual([
      ['k', 'k'],
      ['m', '예산'],
    ]);
    await titles.set({ org: 'acme', name: 'k' }, 'Zz', 'ann', 3);
    expect(await titles.delete({ org: 'acme', name: 'm' })).toBe(true);
    expect(await byTitle()).toEqual([
      ['m', 'm'],
      ['k', 'zz'],
    ]);
    // another organisation's document of the same name keeps its own key
    await docs.create({ org: 'other', name: 'k', owner: 'x', policy });
    expect((await docs.list({ org: 'other', order: 'title', limit: 10 })).map((r) => r.listTitle)).toEqual(['k']);
  });

  it('appends updates of several documents in one call, in order, with growing ids, and bumps updatedAt', async () => {
    const a = await docs.create({ ...acme, owner: 'ann', policy });
    const b = await docs.create({ org: 'acme', name: 'plan', owner: 'ann', policy });
    expect(await docs.appendUpdates([])).toEqual([]);
    await new Promise((r) => setTimeout(r, 5));
    const { updates: ups } = updates(5);
    const [u0, u1, u2, u3, u4] = ups as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const ids = await docs.appendUpdates([
      { ...acme, update: u0 },
      { org: 'acme', name: 'plan', update: u1 },
      { ...acme, update: u2 },
    ]);
    expect(ids).toHaveLength(3);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    const later = await docs.appendUpdates([
      { ...acme, update: u3 },
      { ...acme, update: u4 },
    ]);
    expect(later[0]).toBeGreaterThan(ids[2] as number);
    const rows = await docs.loadContent(acme);
    expect(rows.state).toBeUndefined();
    expect(rows.stateSeq).toBe(0);
    expect(rows.updates.map((u) => u.id)).toEqual([ids[0], ids[2], ...later]);
    expect(rows.updates.map((u) => u.update)).toEqual([u0, u2, u3, u4]);
    expect(rows.updates[0]?.update).toBeInstanceOf(Uint8Array);
    expect((await docs.loadContent({ org: 'acme', name: 'plan' })).updates).toEqual([{ id: ids[1], update: u1 }]);
    expect((await docs.get(acme))?.updatedAt).toBeGreaterThan(a.record.updatedAt);
    expect((await docs.get({ org: 'acme', name: 'plan' }))?.updatedAt).toBeGreaterThan(b.record.updatedAt);
  });

  it('compacts: the state replaces exactly the updates up to upToId; a stale compaction changes nothing', async () => {
    await docs.create({ ...acme, owner: 'ann', policy });
    const { updates: ups, text } = updates(6);
    await docs.appendUpdates(ups.slice(0, 3).map((update) => ({ ...acme, update })));
    const read = await docs.loadContent(acme);
    // two more arrive while the merge is computed
    const late = await docs.appendUpdates(ups.slice(3, 5).map((update) => ({ ...acme, update })));
    const merged = Y.mergeUpdates(read.updates.map((u) => u.update));
    const upToId = read.updates.at(-1)?.id as number;
    // a copy: the store may take the buffer it is given (SQLite's append worker does)
    expect(await docs.commitCompaction(acme, { expectSeq: read.stateSeq, upToId, state: merged.slice() })).toBe(true);
    const after = await docs.loadContent(acme);
    expect(after.stateSeq).toBe(read.stateSeq + 1);
    expect(after.state).toEqual(merged);
    expect(after.updates.map((u) => u.id)).toEqual(late);

    // a second compaction that read the old state loses and changes nothing
    expect(
      await docs.commitCompaction(acme, {
        expectSeq: read.stateSeq,
        upToId: upToId + 100,
        state: new Uint8Array([0, 0]),
      }),
    ).toBe(false);
    expect(await docs.loadContent(acme)).toEqual(after);

    const [last] = await docs.appendUpdates([{ ...acme, update: ups[5] as Uint8Array }]);
    const all = await docs.loadContent(acme);
    expect(textOf(all)).toBe(text);
    const state = Y.mergeUpdates([all.state as Uint8Array, ...all.updates.map((u) => u.update)]);
    expect(
      await docs.commitCompaction(acme, { expectSeq: all.stateSeq, upToId: last as number, state: state.slice() }),
    ).toBe(true);
    const final = await docs.loadContent(acme);
    expect(final).toMatchObject({ stateSeq: read.stateSeq + 2, updates: [] });
    expect(textOf(final)).toBe(text);
    // a compaction of a document that does not exist wins nothing
    expect(await docs.commitCompaction({ org: 'acme', name: 'none' }, { expectSeq: 0, upToId: 1e9, state })).toBe(
      false,
    );
  });

  it('saves versions and lists them newest first, by pages', async () => {
    await docs.create({ ...acme, owner: 'ann', policy });
    const { updates: ups } = updates(4);
    const saved = [];
    for (const [i, state] of ups.entries())
      saved.push(
        await docs.saveVersion({
          doc: acme,
          label: `v${i}`,
          auto: i % 2 === 0,
          createdBy: 'ann',
          state: state.slice(),
        }),
      );
    expect(saved[0]).toMatchObject({
      docName: 'notes',
      label: 'v0',
      auto: true,
      createdBy: 'ann',
      bytes: ups[0]?.byteLength,
    });
    expect(typeof saved[0]?.createdAt).toBe('number');
    const ids = saved.map((v) => v.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const page1 = await docs.listVersions(acme, { limit: 3 });
    expect(page1).toEqual([...saved].reverse().slice(0, 3));
    const page2 = await docs.listVersions(acme, { beforeId: page1.at(-1)?.id as number, limit: 3 });
    expect(page2).toEqual([saved[0]]);
    const got = await docs.getVersion(acme, saved[2]?.id as number);
    expect(got?.version).toEqual(saved[2]);
    expect(got?.state).toEqual(ups[2]);
    expect(got?.state).toBeInstanceOf(Uint8Array);
    expect(await docs.getVersion(acme, 1e12)).toBeUndefined();
  });

  it('deletes a document: its record, updates, state and versions', async () => {
    await docs.create({ ...acme, owner: 'ann', policy });
    const { updates: ups } = updates(3);
    const ids = await docs.appendUpdates(ups.map((update) => ({ ...acme, update })));
    await docs.commitCompaction(acme, {
      expectSeq: 0,
      upToId: ids[0] as number,
      state: (ups[0] as Uint8Array).slice(),
    });
    const v = await saveAnnVersion('v', ups[0] as Uint8Array);
    expect(await docs.delete(acme)).toBe(true);
    expect(await docs.get(acme)).toBeUndefined();
    expect(await docs.loadContent(acme)).toEqual({ state: undefined, stateSeq: 0, updates: [] });
    expect(await docs.listVersions(acme, { limit: 10 })).toEqual([]);
    expect(await docs.getVersion(acme, v.id)).toBeUndefined();
    expect(await docs.delete(acme)).toBe(false);
    // made again, it starts empty
    expect((await docs.create({ ...acme, owner: 'bob', policy })).created).toBe(true);
    expect(await docs.loadContent(acme)).toEqual({ state: undefined, stateSeq: 0, updates: [] });
  });

  it('refuses appends once closed', async () => {
    await docs.create({ ...acme, owner: 'ann', policy });
    await docs.close();
    await expect(docs.appendUpdates([{ ...acme, update: updates(1).updates[0] as Uint8Array }])).rejects.toBeInstanceOf(
      StoreClosedError,
    );
  });
});

describe('PostgreSQL: two nodes on one database', () => {
  const schema = uniqueSchema('docs2');
  let dbs: PgDb[] = [];
  let a: PgDocStore;
  let b: PgDocStore;
  beforeAll(async () => {
    dbs = [await PgDb.open({ url: TEST_DATABASE_URL, schema }), await PgDb.open({ url: TEST_DATABASE_URL, schema })];
    await Promise.all(dbs.map((db) => db.migrate([...coreMigrations, ...docsMigrations])));
    a = new PgDocStore(dbs[0] as PgDb);
    b = new PgDocStore(dbs[1] as PgDb);
  });
  afterAll(async () => {
    await Promise.all(dbs.map((db) => db.close()));
    await dropSchema(schema);
  });

  it('of two compactions of one document from the same state, exactly one wins', async () => {
    const ref = { org: 'acme', name: 'race' };
    await a.create({ ...ref, owner: 'ann', policy });
    const { updates: ups } = updates(10);
    await a.appendUpdates(ups.map((update) => ({ ...ref, update })));
    const appended = [...ups];
    for (let round = 0; round < 5; round++) {
      const [ra, rb] = await Promise.all([a.loadContent(ref), b.loadContent(ref)]);
      const merge = (r: typeof ra) =>
        Y.mergeUpdates([...(r.state ? [r.state] : []), ...r.updates.map((u) => u.update)]);
      const results = await Promise.all([
        a.commitCompaction(ref, { expectSeq: ra.stateSeq, upToId: ra.updates.at(-1)?.id ?? 0, state: merge(ra) }),
        b.commitCompaction(ref, { expectSeq: rb.stateSeq, upToId: rb.updates.at(-1)?.id ?? 0, state: merge(rb) }),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const after = await a.loadContent(ref);
      expect(after.stateSeq).toBe(round + 1);
      expect(textOf(after)).toBe(textOf({ state: undefined, updates: appended.map((update) => ({ update })) }));
      const more = updates(1, `r${round}-`).updates[0] as Uint8Array;
      appended.push(more);
      await b.appendUpdates([{ ...ref, update: more }]);
    }
  });

  it('loses no update while both nodes append and compact one document at once', async () => {
    const ref = { org: 'acme', name: 'busy' };
    await a.create({ ...ref, owner: 'ann', policy });
    const writer = (store: PgDocStore, who: string) => async () => {
      const doc = new Y.Doc();
      for (let i = 0; i < 40; i++) {
        const before = Y.encodeStateVector(doc);
        doc.getMap('m').set(`${who}${i}`, i);
        await store.appendUpdates([{ ...ref, update: Y.encodeStateAsUpdate(doc, before) }]);
      }
      doc.destroy();
    };
    let writing = true;
    const compactor = (store: PgDocStore) => async () => {
      while (writing) {
        const rows = await store.loadContent(ref);
        const last = rows.updates.at(-1)?.id;
        if (last === undefined) continue;
        const state = Y.mergeUpdates([...(rows.state ? [rows.state] : []), ...rows.updates.map((u) => u.update)]);
        await store.commitCompaction(ref, { expectSeq: rows.stateSeq, upToId: last, state });
      }
    };
    const compactions = Promise.all([compactor(a)(), compactor(b)()]);
    await Promise.all([writer(a, 'a')(), writer(b, 'b')(), writer(a, 'c')()]);
    writing = false;
    await compactions;
    const rows = await b.loadContent(ref);
    expect(rows.stateSeq).toBeGreaterThan(0);
    const doc = new Y.Doc();
    if (rows.state) Y.applyUpdate(doc, rows.state);
    for (const u of rows.updates) Y.applyUpdate(doc, u.update);
    expect(doc.getMap('m').size).toBe(120);
    doc.destroy();
  });

  it("folds the title order's keys of a database from before (migration 0216), A–Z only", async () => {
    const schema2 = uniqueSchema('docsfold');
    const db = await PgDb.open({ url: TEST_DATABASE_URL, schema: schema2 });
    try {
      const all = [...coreMigrations, ...docsMigrations];
      await db.migrate(all.filter((m) => m.id < '0216'));
      for (const [name, key] of [
        ['c', 'cherry'],
        ['b', 'Banana'],
        ['a', 'apple'],
        ['e', 'Éclair'],
      ])
        await db.query(
          "INSERT INTO docs (org, name, owner, created_at, updated_at, list_title) VALUES ('acme', $1, 'ann', 1, 1, $2)",
          [name, key],
        );
      await db.migrate(all);
      const rows = await new PgDocStore(db).list({ org: 'acme', order: 'title', limit: 10 });
      // as SQLite's lower(): the É stays (code point order puts it after the ASCII letters)
      expect(rows.map((r) => [r.name, r.listTitle])).toEqual([
        ['a', 'apple'],
        ['b', 'banana'],
        ['c', 'cherry'],
        ['e', 'Éclair'],
      ]);
    } finally {
      await db.close();
      await dropSchema(schema2);
    }
  });

  it('lists a document by the title set on one node while the other node creates it', async () => {
    // the two statements race under READ COMMITTED unless they take the document's lock: the
    // create's look-up of a title and the title's update of the document's row each saw nothing
    const titles = [new PgDocTitleStore(dbs[0] as PgDb), new PgDocTitleStore(dbs[1] as PgDb)];
    const refs = Array.from({ length: 150 }, (_, i) => ({ org: 'acme', name: `first-title-${i}` }));
    await Promise.all(
      refs.flatMap((ref, i) => [
        (i % 2 ? a : b).create({ ...ref, owner: 'ann', policy }),
        (titles[i % 2] as PgDocTitleStore).set(ref, `Title ${i}`, 'ann', 1_000 + i),
      ]),
    );
    const rows = await (dbs[0] as PgDb).query<{ name: string; list_title: string }>(
      "SELECT name, list_title FROM docs WHERE org = 'acme' AND name LIKE 'first-title-%'",
    );
    expect(rows).toHaveLength(refs.length);
    const wrong = rows.filter((r) => r.list_title !== `title ${r.name.slice('first-title-'.length)}`);
    expect(wrong.map((r) => `${r.name}: ${r.list_title}`)).toEqual([]);
  });
});
