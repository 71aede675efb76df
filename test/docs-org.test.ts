import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DocRef } from '../server/src/storage/DocStore.ts';
import { call, startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { api, destroyAllClients, docRef, eventually, openDoc, storedText, synced, until } from './docs-support.ts';

/**
 * Issue 11, item 5 (documents): a person of org `evil` listed `acme`'s documents, exported their
 * text, read, saved and restored versions and edited the live document over `/yjs`. Every
 * organisation now has its own namespace of documents: the same name in another organisation is
 * another document, and nothing of `acme`'s is reachable with an `evil` token.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

const ACME = docRef('plan', 'acme');

/** Wait until the stored content of `ref` is `text`. */
const storedAs = (ref: DocRef, text: string): Promise<void> =>
  eventually(async () => (await storedText(server, ref)) === text, { what: `${ref.org}/${ref.name} stored` });

/** Everything of acme's `plan` an outsider could have changed. */
async function acmeSnapshot() {
  const [record, versions, text, audit] = await Promise.all([
    server.app.stores.docs.get(ACME),
    server.app.stores.docs.listVersions(ACME, { limit: 100 }),
    storedText(server, ACME),
    server.app.stores.audit.list({ limit: 1000 }),
  ]);
  return { record, versions, text, restores: audit.filter((e) => e.action === 'doc.restore').length };
}

describe('documents are scoped by organisation (issue 11, item 5)', () => {
  it('every /docs route and /yjs refuse or miss acme’s document for a person of evil; acme’s data is unchanged', async () => {
    const acme = await server.token({ name: 'Alice', sub: 'alice', org: 'acme' });
    const alice = openDoc(server.url, 'plan', acme);
    await synced(alice);
    alice.text.insert(0, 'acme secret plan');
    await storedAs(ACME, 'acme secret plan');
    const saved = await api<{ version: { id: number } }>(server, 'POST', '/docs/plan/versions', acme, { label: 'v1' });
    expect(saved.status).toBe(201);
    const versionId = saved.body.version.id;
    expect(await storedText(server, ACME)).toBe('acme secret plan');
    const before = await acmeSnapshot();
    expect(before.record).toMatchObject({ org: 'acme', name: 'plan', owner: 'alice' });

    // an admin of evil with wildcard grants, the same `sub` as acme's owner: still someone else
    const evil = await server.token({ name: 'Mallory', sub: 'alice', org: 'evil', role: 'admin' });
    const routes = server.app.router.routes().filter((r) => r.pattern === '/docs' || r.pattern.startsWith('/docs/'));
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const bodyFor = (method: string, pattern: string): unknown => {
      if (method === 'POST' && pattern === '/docs') return undefined; // creating is tested below
      if (method === 'PATCH') return { exportAllowed: false };
      if (method === 'PUT' && pattern.endsWith('/title')) return { title: '악의적인 제목' };
      if (method === 'POST' && pattern.endsWith('/versions')) return { label: 'evil' };
      return undefined;
    };
    const tried: string[] = [];
    for (const { method, pattern } of routes) {
      if (method === 'POST' && pattern === '/docs') continue;
      const path = pattern.replace(':name', 'plan').replace(':id', String(versionId));
      const res = await api<{ docs?: Array<{ name: string }>; error?: { code: string } }>(
        server,
        method,
        path,
        evil,
        bodyFor(method, pattern),
      );
      tried.push(`${method} ${pattern}`);
      if (method === 'GET' && pattern === '/docs') {
        expect(res.status).toBe(200);
        expect(res.body.docs?.map((d) => d.name)).not.toContain('plan');
        continue;
      }
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error?.code, `${method} ${path}`).toBe('NOT_FOUND');
    }
    expect(tried).toContain('GET /docs/:name/export');
    expect(tried).toContain('POST /docs/:name/versions/:id/restore');
    expect(tried).toContain('PUT /docs/:name/title');

    // over /yjs, evil's `plan` is evil's own (empty) document: its edits never reach acme's
    const mallory = openDoc(server.url, 'plan', evil);
    await synced(mallory);
    expect(mallory.text.toString()).toBe('');
    mallory.text.insert(0, 'evil was here');
    const evilRef = docRef('plan', 'evil');
    await storedAs(evilRef, 'evil was here');
    alice.text.insert(alice.text.length, '!');
    await until(() => mallory.text.toString() === 'evil was here' && alice.text.toString() === 'acme secret plan!', {
      what: 'separate documents',
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(alice.text.toString()).toBe('acme secret plan!');
    expect(mallory.text.toString()).toBe('evil was here');

    // a document evil creates over HTTP is evil's own too, and acme's versions stay out of reach
    const created = await api(server, 'POST', '/docs', evil, { name: 'plan-b' });
    expect(created.status).toBe(201);
    expect(await server.app.stores.docs.get(docRef('plan-b', 'acme'))).toBeUndefined();
    const version = await api(server, 'GET', `/docs/plan/versions/${versionId}`, evil);
    expect(version.status).toBe(404);
    const restore = await api(server, 'POST', `/docs/plan/versions/${versionId}/restore`, evil);
    expect(restore.status).toBe(404);
    const listed = await api<{ docs: Array<{ name: string; owner: string }> }>(server, 'GET', '/docs', evil);
    expect(listed.body.docs.map((d) => d.name).sort()).toEqual(['plan', 'plan-b']);
    expect(listed.body.docs.every((d) => d.owner === 'alice')).toBe(true); // evil's own "alice"

    // acme's record, versions and content are exactly as before (plus Alice's own '!')
    await storedAs(ACME, 'acme secret plan!');
    const after = await acmeSnapshot();
    expect(after.record).toEqual({ ...before.record, updatedAt: after.record?.updatedAt });
    expect(after.versions).toEqual(before.versions);
    expect(after.text).toBe('acme secret plan!');
    expect(after.restores).toBe(before.restores);
    // and acme still sees only its own
    const acmeList = await api<{ docs: Array<{ name: string }> }>(server, 'GET', '/docs', acme);
    expect(acmeList.body.docs.map((d) => d.name)).toEqual(['plan']);
  });

  it('a grant never crosses organisations: a token naming acme’s document reaches its own org’s only', async () => {
    const owner = await server.token({ name: 'Owner', sub: 'owner', org: 'acme' });
    const o = openDoc(server.url, 'budget', owner);
    await synced(o);
    o.text.insert(0, 'numbers');
    // a read-only grant on `budget` in evil: no such document there (404), and /yjs is read-only on evil's
    const reader = await server.token({ name: 'Peek', org: 'evil', grants: { docs: { budget: ['read'] } } });
    expect((await api(server, 'GET', '/docs/budget', reader)).status).toBe(404);
    expect((await api(server, 'GET', '/docs/budget/export', reader)).status).toBe(404);
    const peek = openDoc(server.url, 'budget', reader);
    await synced(peek);
    await new Promise((r) => setTimeout(r, 200));
    expect(peek.text.toString()).toBe('');
    expect(await server.app.stores.docs.get(docRef('budget', 'evil'))).toBeUndefined();
  });

  it('a video room’s notes document lives in the organisation of the room', async () => {
    const acme = await server.token({ name: 'Host', sub: 'host', org: 'acme' });
    const socket = await server.connect(acme);
    try {
      const room = await call<{ roomId: string; docName: string }>(socket, 'room:create', { tier: 'standard' });
      const notes = openDoc(server.url, room.docName, acme);
      await synced(notes);
      notes.text.insert(0, 'agenda');
      await storedAs(docRef(room.docName, 'acme'), 'agenda');
      expect(await server.app.stores.docs.get(docRef(room.docName, 'acme'))).toMatchObject({ owner: 'host' });
      expect(await server.app.stores.docs.get(docRef(room.docName))).toBeUndefined();
      // someone of another organisation who learns the name gets an empty document of their own
      const outsider = openDoc(server.url, room.docName, await server.token({ name: 'Out', org: 'evil' }));
      await synced(outsider);
      await new Promise((r) => setTimeout(r, 200));
      expect(outsider.text.toString()).toBe('');
    } finally {
      socket.disconnect();
    }
  });
});
