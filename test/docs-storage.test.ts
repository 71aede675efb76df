import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { sqliteMigrations } from '../server/src/storage/sqlite/migrations/index.ts';
import { SqliteDb } from '../server/src/storage/sqlite/SqliteDb.ts';
import { SqliteDocStore } from '../server/src/storage/sqlite/SqliteDocStore.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { destroyAllClients, docRef, openDoc, storedText, synced, until } from './docs-support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MOIM_DOC_COMPACT_EVERY: '10', MOIM_DOC_MAX_OPEN_PER_PERSON: '1000' });
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

describe('compaction', () => {
  it('merges appended updates while clients keep writing, and the content stays identical', async () => {
    const name = 'compact-live';
    const [ta, tb] = await Promise.all([server.token({ name: 'Ann' }), server.token({ name: 'Bob' })]);
    const a = openDoc(server.url, name, ta);
    const b = openDoc(server.url, name, tb);
    await Promise.all([synced(a), synced(b)]);
    const doc = await server.app.docs.loaded(docRef(name));
    if (!doc) throw new Error('document not loaded');
    const converged = () =>
      a.text.toString() === b.text.toString() &&
      Y.encodeStateVector(a.doc).toString() === Y.encodeStateVector(b.doc).toString();
    for (let round = 0; round < 10; round++) {
      for (let k = 0; k < 50; k++) {
        const i = round * 50 + k;
        const c = i % 2 ? a : b;
        if (i % 7 === 0 && c.text.length > 4) c.text.delete(1, 2);
        else c.text.insert(Math.floor(c.text.length / 2), `${i};`);
        if (i % 3 === 0) c.doc.getMap('m').set(`k${i % 5}`, i);
        if (k === 25) void doc.compact(); // an explicit compaction racing the automatic ones and the writes
        if (k % 5 === 0) await new Promise((r) => setImmediate(r));
      }
      await until(converged, { doc: a.doc, what: `convergence in round ${round}` });
    }
    await doc.flushed();
    const final = await doc.compact();
    expect(final === undefined || final.merged > 0).toBe(true);

    const rows = await server.app.stores.docs.loadContent(docRef(name));
    expect(rows.state).toBeDefined();
    expect(rows.stateSeq).toBeGreaterThanOrEqual(10); // at least one compaction per round of writes
    expect(rows.updates.length).toBe(0);
    expect(await storedText(server, name)).toBe(a.text.toString());
    const fresh = openDoc(server.url, name, ta);
    await synced(fresh);
    await until(() => fresh.text.toString() === a.text.toString(), { doc: fresh.doc, what: 'fresh client content' });
    expect(fresh.doc.getMap('m').toJSON()).toEqual(a.doc.getMap('m').toJSON());
  });

  it('deletes only the rows it merged: updates appended during a compaction survive it', async () => {
    const store = server.app.stores.docs;
    await store.create({ org: 'default', name: 'compact-race', owner: 'x', policy: { exportAllowed: true } });
    const src = new Y.Doc();
    const ups: Uint8Array[] = [];
    src.on('update', (u: Uint8Array) => ups.push(u));
    for (let i = 0; i < 6; i++) src.getText('content').insert(0, String(i));
    await store.appendUpdates(ups.slice(0, 3).map((update) => ({ org: 'default', name: 'compact-race', update })));
    const read = await store.loadContent(docRef('compact-race'));
    // two more arrive while the merge is computed
    await store.appendUpdates(ups.slice(3).map((update) => ({ org: 'default', name: 'compact-race', update })));
    const merged = Y.mergeUpdates(read.updates.map((u) => u.update));
    const last = read.updates.at(-1)?.id as number;
    expect(
      // a copy: the store may take the buffer it is given
      await store.commitCompaction(docRef('compact-race'), {
        expectSeq: read.stateSeq,
        upToId: last,
        state: merged.slice(),
      }),
    ).toBe(true);
    // a second compaction that read the old state loses, changing nothing
    expect(
      await store.commitCompaction(docRef('compact-race'), {
        expectSeq: read.stateSeq,
        upToId: last + 10,
        state: merged,
      }),
    ).toBe(false);
    const after = await store.loadContent(docRef('compact-race'));
    expect(after.updates.map((u) => u.id)).toEqual([last + 1, last + 2, last + 3]);
    expect(await storedText(server, 'compact-race')).toBe(src.getText('content').toString());
  });
});

describe('load and unload', () => {
  it('opening and closing many documents returns memory: the loaded count goes back to zero', async () => {
    const t = await server.token({ name: 'Many' });
    await until(() => server.app.docs.loadedCount === 0, { what: 'earlier documents unloaded' });
    for (let batch = 0; batch < 8; batch++) {
      const clients = Array.from({ length: 15 }, (_, i) => openDoc(server.url, `many-${batch}-${i}`, t));
      await Promise.all(clients.map(synced));
      for (const c of clients) c.text.insert(0, c.provider.roomname);
      expect(server.app.docs.loadedCount).toBeGreaterThanOrEqual(15);
      for (const c of clients) c.destroy();
    }
    await until(() => server.app.docs.loadedCount === 0, { what: 'every document unloaded', timeoutMs: 30_000 });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^moim_docs_loaded\{[^}]*\} 0$/m);
    expect(metrics).toMatch(/^moim_doc_connections\{[^}]*\} 0$/m);
    // what was written before the unload is there on the next open
    for (const name of ['many-0-0', 'many-7-14']) expect(await storedText(server, name)).toBe(name);
    const again = openDoc(server.url, 'many-3-4', t);
    await synced(again);
    await until(() => again.text.toString() === 'many-3-4', { doc: again.doc });
  });

  it('a client joining while the document unloads gets everything that was written', async () => {
    const t = await server.token({ name: 'Churn' });
    for (let i = 0; i < 20; i++) {
      const w = openDoc(server.url, 'churn', t);
      await synced(w);
      w.text.insert(w.text.length, `${i},`);
      const expected = w.text.toString();
      w.destroy(); // the document starts unloading…
      const r = openDoc(server.url, 'churn', t); // …and someone opens it at once
      await synced(r);
      await until(() => r.text.toString() === expected, { doc: r.doc, what: `content after churn ${i}` });
      r.destroy();
    }
  });
});

describe('organisations (migration 0201_docs_org)', () => {
  it('puts the documents made before it in org default, with their updates and versions; the same name in another org is another document', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moim-docs-org-'));
    const db = SqliteDb.open(path.join(dir, 'moim.sqlite'));
    try {
      db.migrate(sqliteMigrations.filter((m) => m.id < '0201'));
      const src = new Y.Doc();
      src.getText('content').insert(0, 'from before');
      const update = Y.encodeStateAsUpdate(src);
      db.run(
        "INSERT INTO docs (name, owner, created_at, updated_at, export_allowed) VALUES ('legacy', 'ann', 1, 2, 0)",
      );
      db.run("INSERT INTO doc_updates (doc_name, data) VALUES ('legacy', ?)", update);
      db.run(
        "INSERT INTO doc_versions (doc_name, label, auto, created_at, created_by, bytes, state) VALUES ('legacy', 'v1', 0, 3, 'ann', ?, ?)",
        update.byteLength,
        update,
      );
      expect(db.migrate(sqliteMigrations)).toContain('0201_docs_org');

      const store = new SqliteDocStore(db, { appendInWorker: false });
      const legacy = docRef('legacy');
      expect(await store.get(legacy)).toEqual({
        org: 'default',
        name: 'legacy',
        owner: 'ann',
        createdAt: 1,
        updatedAt: 2,
        policy: { exportAllowed: false },
      });
      expect((await store.loadContent(legacy)).updates.map((u) => u.update)).toEqual([update]);
      const [version] = await store.listVersions(legacy, { limit: 10 });
      expect(version).toMatchObject({ docName: 'legacy', label: 'v1' });
      expect((await store.getVersion(legacy, version?.id as number))?.state).toEqual(update);

      // acme has no `legacy`, and may make its own
      const acme = docRef('legacy', 'acme');
      expect(await store.get(acme)).toBeUndefined();
      expect(await store.listVersions(acme, { limit: 10 })).toEqual([]);
      expect(await store.getVersion(acme, version?.id as number)).toBeUndefined();
      expect((await store.create({ ...acme, owner: 'bob', policy: { exportAllowed: true } })).created).toBe(true);
      expect((await store.create({ ...acme, owner: 'eve', policy: { exportAllowed: true } })).created).toBe(false);
      await store.appendUpdates([{ ...acme, update }]);
      expect((await store.loadContent(acme)).updates).toHaveLength(1);
      expect((await store.loadContent(legacy)).updates).toHaveLength(1);
      expect((await store.list({ org: 'acme', limit: 10 })).map((r) => r.owner)).toEqual(['bob']);
      expect((await store.list({ org: 'default', limit: 10 })).map((r) => r.owner)).toEqual(['ann']);
      // deleting acme's leaves default's alone
      expect(await store.delete(acme)).toBe(true);
      expect(await store.get(legacy)).toBeDefined();
      expect((await store.loadContent(legacy)).updates).toHaveLength(1);
      await store.close();
      src.destroy();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
