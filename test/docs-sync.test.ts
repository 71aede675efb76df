import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DOC_CLOSE } from '@moim/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { closedWith, destroyAllClients, docRef, openDoc, storedText, synced, token, until } from './docs-support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

describe('y-websocket endpoint with the stock WebsocketProvider', () => {
  it('two clients converge and a late joiner gets the full state', async () => {
    const [ta, tb, tc] = await Promise.all([token(server, 'Ann'), token(server, 'Bob'), token(server, 'Cy')]);
    const a = openDoc(server.url, 'converge', ta);
    const b = openDoc(server.url, 'converge', tb);
    await Promise.all([synced(a), synced(b)]);
    a.text.insert(0, 'Hello');
    b.text.insert(0, 'World ');
    a.doc.getMap('meta').set('title', 'Plan');
    await until(() => a.text.toString() === b.text.toString() && a.text.length === 11, {
      doc: b.doc,
      what: 'convergence',
    });
    await until(() => b.doc.getMap('meta').get('title') === 'Plan', { doc: b.doc });
    for (let i = 0; i < 50; i++) (i % 2 ? a : b).text.insert(0, String(i % 10));
    await until(() => a.text.length === 61 && a.text.toString() === b.text.toString(), {
      doc: a.doc,
      what: 'burst convergence',
    });

    const c = openDoc(server.url, 'converge', tc);
    await synced(c);
    await until(() => c.text.toString() === a.text.toString(), { doc: c.doc, what: 'late joiner state' });
    expect(c.doc.getMap('meta').get('title')).toBe('Plan');
    expect(await storedText(server, 'converge')).toBe(a.text.toString());
  });

  it('a large document opened by several clients at once: all get all of it, and one opening after a change gets the change', async () => {
    const tokens = await Promise.all(['Ann', 'Bob', 'Cy', 'Dee', 'Eve'].map((n) => token(server, n)));
    const a = openDoc(server.url, 'big-open', tokens[0]!);
    await synced(a);
    // past the size from which the server shares one encoding of the whole document
    a.text.insert(0, '가나다라마바사'.repeat(20_000));
    await until(() => a.text.length === 140_000, { doc: a.doc });
    const opening = [1, 2, 3].map((i) => openDoc(server.url, 'big-open', tokens[i]!));
    await Promise.all(opening.map((c) => synced(c)));
    for (const c of opening)
      await until(() => c.text.toString() === a.text.toString(), { doc: c.doc, what: 'whole document' });

    a.text.insert(0, 'changed: ');
    await until(() => opening[0]!.text.toString().startsWith('changed: '), { doc: opening[0]!.doc });
    const late = openDoc(server.url, 'big-open', tokens[4]!);
    await synced(late);
    await until(() => late.text.toString() === a.text.toString(), { doc: late.doc, what: 'the change' });
    expect(late.text.toString().startsWith('changed: ')).toBe(true);
  });

  it('awareness (cursor state) reaches the others and goes away when a client leaves', async () => {
    const [ta, tb] = await Promise.all([token(server, 'Ann'), token(server, 'Bob')]);
    const a = openDoc(server.url, 'aware', ta);
    const b = openDoc(server.url, 'aware', tb);
    await Promise.all([synced(a), synced(b)]);
    a.provider.awareness.setLocalStateField('cursor', { anchor: 3, head: 5 });
    a.provider.awareness.setLocalStateField('user', { name: 'Ann' });
    const seenByB = () =>
      b.provider.awareness.getStates().get(a.doc.clientID) as
        | { cursor?: { head: number }; user?: { name: string } }
        | undefined;
    await until(() => seenByB()?.cursor?.head === 5 && seenByB()?.user?.name === 'Ann', { what: 'awareness at B' });
    a.destroy();
    await until(() => !b.provider.awareness.getStates().has(a.doc.clientID), { what: 'awareness removal' });
  });

  it('a read-only client gets content and awareness, but its changes are refused and it is told', async () => {
    const tw = await token(server, 'Writer');
    const tr = await token(server, 'Reader', { ro: ['read'] });
    const w = openDoc(server.url, 'ro', tw);
    await synced(w);
    w.text.insert(0, 'official text');
    const r = openDoc(server.url, 'ro', tr);
    await synced(r);
    await until(() => r.text.toString() === 'official text', { doc: r.doc, what: 'reader content' });
    w.provider.awareness.setLocalStateField('user', { name: 'Writer' });
    await until(
      () =>
        (r.provider.awareness.getStates().get(w.doc.clientID) as { user?: unknown } | undefined)?.user !== undefined,
      { what: 'reader awareness' },
    );

    r.text.insert(0, 'VANDALISM ');
    await until(() => r.denied.length > 0, { what: 'permission denied message' });
    expect(r.denied[0]).toMatch(/read-only/);
    // the writer keeps writing; the reader's change never reaches it nor storage
    w.text.insert(w.text.length, '!');
    await until(() => r.text.toString().endsWith('!'), { doc: r.doc, what: 'reader still receives' });
    expect(w.text.toString()).toBe('official text!');
    expect(await storedText(server, 'ro')).toBe('official text!');
    // a fresh client sees the stored truth
    const check = openDoc(server.url, 'ro', tw);
    await synced(check);
    await until(() => check.text.toString() === 'official text!', { doc: check.doc });
    expect(r.provider.wsconnected).toBe(true);
  });

  it('refuses a client with no grant (4403), no token (4401) and a bad name (4404), and the provider stops retrying', async () => {
    const none = await token(server, 'Nobody', { other: ['read', 'write'] });
    const c = openDoc(server.url, 'secret', none);
    const closed = await closedWith(c);
    expect(closed.code).toBe(DOC_CLOSE.FORBIDDEN.code);
    expect(closed.reason).toMatch(/forbidden/);
    expect(c.provider.shouldConnect).toBe(false);

    const bad = openDoc(server.url, 'secret', 'not-a-jwt');
    expect((await closedWith(bad)).code).toBe(DOC_CLOSE.UNAUTHORIZED.code);
    const t = await token(server, 'Someone');
    const badName = openDoc(server.url, '..%2F..%2Fetc', t);
    expect((await closedWith(badName)).code).toBe(DOC_CLOSE.NOT_FOUND.code);
    expect(await server.app.stores.docs.get(docRef('secret'))).toBeUndefined();
  });

  it('limits the documents one person has open (4429)', async () => {
    const limited = await startTestServer({ MOIM_DOC_MAX_OPEN_PER_PERSON: '2' });
    try {
      const t = await limited.token({ name: 'Busy' });
      const a = openDoc(limited.url, 'lim-1', t);
      const b = openDoc(limited.url, 'lim-2', t);
      const a2 = openDoc(limited.url, 'lim-1', t); // same document again: no extra slot
      await Promise.all([synced(a), synced(b), synced(a2)]);
      const c = openDoc(limited.url, 'lim-3', t);
      const closed = await closedWith(c);
      expect(closed.code).toBe(DOC_CLOSE.TOO_MANY_DOCUMENTS.code);
      b.destroy();
      await until(() => limited.app.docs.loadedCount === 1, { what: 'unload of lim-2' });
      const d = openDoc(limited.url, 'lim-3', t);
      await synced(d);
    } finally {
      destroyAllClients();
      await limited.close();
    }
  });
});

describe('persistence', () => {
  it('a server restart keeps every change the server broadcast', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-docs-restart-'));
    try {
      const first = await startTestServer({}, { dataDir });
      const [ta, tb] = await Promise.all([first.token({ name: 'Ann' }), first.token({ name: 'Bob' })]);
      const a = openDoc(first.url, 'keep', ta);
      const b = openDoc(first.url, 'keep', tb);
      await Promise.all([synced(a), synced(b)]);
      for (let i = 0; i < 100; i++) a.text.insert(a.text.length, `${i},`);
      b.doc.getArray('list').push([1, 2, 3]);
      // B has everything A wrote: the server broadcast it, so it was stored first
      await until(() => b.text.length === a.text.length && a.doc.getArray('list').length === 3, {
        doc: b.doc,
        what: 'broadcast',
      });
      const expected = a.text.toString();
      destroyAllClients();
      await first.close();

      const second = await startTestServer({}, { dataDir });
      try {
        const t = await second.token({ name: 'Cy' });
        const c = openDoc(second.url, 'keep', t);
        await synced(c);
        await until(() => c.text.toString() === expected, { doc: c.doc, what: 'state after restart' });
        expect(c.doc.getArray('list').toArray()).toEqual([1, 2, 3]);
      } finally {
        destroyAllClients();
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('creates the document record on first open by a writer, owned by them', async () => {
    const t = await server.token({ name: 'Founder', sub: 'founder-1' });
    const c = openDoc(server.url, 'room-abc-notes', t);
    await synced(c);
    const rec = await server.app.stores.docs.get(docRef('room-abc-notes'));
    expect(rec).toMatchObject({ name: 'room-abc-notes', owner: 'founder-1', policy: { exportAllowed: true } });
  });
});
