import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startTestServer, type TestServer } from '../server/src/testing.ts';
import { destroyAllClients, openDoc, storedText, synced, until } from './docs-support.ts';

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
    const doc = await server.app.docs.loaded(name);
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

    const rows = await server.app.stores.docs.loadContent(name);
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
    await store.create({ name: 'compact-race', owner: 'x', policy: { exportAllowed: true } });
    const src = new Y.Doc();
    const ups: Uint8Array[] = [];
    src.on('update', (u: Uint8Array) => ups.push(u));
    for (let i = 0; i < 6; i++) src.getText('content').insert(0, String(i));
    await store.appendUpdates(ups.slice(0, 3).map((update) => ({ name: 'compact-race', update })));
    const read = await store.loadContent('compact-race');
    // two more arrive while the merge is computed
    await store.appendUpdates(ups.slice(3).map((update) => ({ name: 'compact-race', update })));
    const merged = Y.mergeUpdates(read.updates.map((u) => u.update));
    const last = read.updates.at(-1)?.id as number;
    expect(
      await store.commitCompaction('compact-race', { expectSeq: read.stateSeq, upToId: last, state: merged }),
    ).toBe(true);
    // a second compaction that read the old state loses, changing nothing
    expect(
      await store.commitCompaction('compact-race', { expectSeq: read.stateSeq, upToId: last + 10, state: merged }),
    ).toBe(false);
    const after = await store.loadContent('compact-race');
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
