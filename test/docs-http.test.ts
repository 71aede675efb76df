import {
  DOC_CLOSE,
  type DocInfo,
  type DocRestoreResponse,
  type DocVersionInfo,
  type DocVersionResponse,
} from '@moim/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import {
  api,
  closedWith,
  destroyAllClients,
  docRef,
  eventually,
  openDoc,
  storedText,
  synced,
  until,
} from './docs-support.ts';

let server: TestServer;
let owner: string;
let other: string;
let admin: string;
beforeAll(async () => {
  server = await startTestServer({ MOIM_DOC_VERSION_INTERVAL_MS: '0' });
  [owner, other, admin] = await Promise.all([
    server.token({ name: 'Owner', sub: 'owner-1' }),
    server.token({ name: 'Other', sub: 'other-1' }),
    server.token({ name: 'Admin', sub: 'admin-1', role: 'admin' }),
  ]);
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

const audit = async (action: string, target: string) =>
  (await server.app.stores.audit.list({ action, limit: 1000 })).filter((e) => e.target === target);

describe('documents over HTTP', () => {
  it('creates (409 twice, 403 without write, 400 bad name) and lists only what the caller may read', async () => {
    expect((await api(server, 'POST', '/docs', owner, { name: 'plan-a' })).status).toBe(201);
    expect((await api(server, 'POST', '/docs', owner, { name: 'plan-b', exportAllowed: false })).status).toBe(201);
    expect((await api(server, 'POST', '/docs', owner, { name: 'plan-c' })).status).toBe(201);
    const dup = await api<{ error: { code: string } }>(server, 'POST', '/docs', other, { name: 'plan-a' });
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect((await api(server, 'POST', '/docs', owner, { name: '../x' })).status).toBe(400);
    const reader = await server.token({
      name: 'Reader',
      grants: { docs: { 'plan-a': ['read'], 'plan-b': ['read', 'write'] } },
    });
    expect((await api(server, 'POST', '/docs', reader, { name: 'plan-z' })).status).toBe(403);

    const list = await api<{ docs: DocInfo[] }>(server, 'GET', '/docs?sort=name', reader);
    expect(list.body.docs.map((d) => [d.name, d.access])).toEqual([
      ['plan-a', 'read'],
      ['plan-b', 'write'],
    ]);
    const narrowed = await server.token({ name: 'Narrow', grants: { docs: { '*': ['read'], 'plan-c': [] } } });
    const names = (await api<{ docs: DocInfo[] }>(server, 'GET', '/docs', narrowed)).body.docs.map((d) => d.name);
    expect(names).toContain('plan-a');
    expect(names).not.toContain('plan-c');
    const page = await api<{ docs: DocInfo[]; next?: string }>(server, 'GET', '/docs?limit=1', owner);
    expect(page.body.docs).toHaveLength(1);
    const page2 = await api<{ docs: DocInfo[] }>(server, 'GET', `/docs?limit=1&after=${page.body.next}`, owner);
    expect(page2.body.docs[0]?.name).not.toBe(page.body.docs[0]?.name);
    expect((await api(server, 'GET', '/docs', 'garbage')).status).toBe(401);
    expect((await api<{ doc: DocInfo }>(server, 'GET', '/docs/plan-a', owner)).body.doc).toMatchObject({
      owner: 'owner-1',
      policy: { exportAllowed: true },
    });
  });

  it('exports text and JSON, refuses where the data-leak policy forbids it, and audits both', async () => {
    const w = openDoc(server.url, 'exp-ok', owner);
    await synced(w);
    w.text.insert(0, 'Quarterly plan');
    w.doc.getMap('meta').set('status', 'draft');
    const frag = w.doc.getXmlFragment('rich');
    const p = new Y.XmlElement('paragraph');
    p.insert(0, [new Y.XmlText('rich line')]);
    frag.insert(0, [p]);
    await eventually(async () => (await storedText(server, 'exp-ok')) === 'Quarterly plan');

    const text = await api<string>(server, 'GET', '/docs/exp-ok/export?format=text', owner);
    expect(text.status).toBe(200);
    expect(text.body).toContain('Quarterly plan');
    expect(text.body).toContain('rich line');
    const json = await api<{ content: Record<string, unknown> }>(
      server,
      'GET',
      '/docs/exp-ok/export?format=json',
      owner,
    );
    expect(json.body.content).toMatchObject({
      content: 'Quarterly plan',
      meta: { status: 'draft' },
      rich: '<paragraph>rich line</paragraph>',
    });
    expect(await audit('doc.export', 'exp-ok')).toHaveLength(2);

    const secret = openDoc(server.url, 'exp-secret', owner);
    await synced(secret);
    secret.text.insert(0, 'classified');
    const patched = await api(server, 'PATCH', '/docs/exp-secret', owner, { exportAllowed: false });
    expect(patched.status).toBe(200);
    expect((await api(server, 'PATCH', '/docs/exp-secret', other, { exportAllowed: true })).status).toBe(403);
    for (const format of ['text', 'json']) {
      const refused = await api<{ error: { code: string } }>(
        server,
        'GET',
        `/docs/exp-secret/export?format=${format}`,
        owner,
      );
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'POLICY_FORBIDS' } } });
    }
    // refused by the one data-leak policy check (policy/ContentPolicy.ts), before the service
    expect(await audit('policy.refused', 'exp-secret')).toHaveLength(2);
    const noGrant = await server.token({ name: 'Outsider', grants: { docs: {} } });
    expect((await api(server, 'GET', '/docs/exp-ok/export', noGrant)).status).toBe(403);
  });

  it('deletes by owner or admin only, closing connected clients with 4410, and audits it', async () => {
    const c = openDoc(server.url, 'del-me', owner);
    await synced(c);
    c.text.insert(0, 'temporary');
    await eventually(async () => (await storedText(server, 'del-me')) === 'temporary');
    await api(server, 'POST', '/docs/del-me/versions', owner, { label: 'v' });
    expect((await api(server, 'DELETE', '/docs/del-me', other)).status).toBe(403);
    const closed = closedWith(c);
    expect((await api(server, 'DELETE', '/docs/del-me', owner)).status).toBe(200);
    expect((await closed).code).toBe(DOC_CLOSE.GONE.code);
    expect(await server.app.stores.docs.get(docRef('del-me'))).toBeUndefined();
    expect((await server.app.stores.docs.loadContent(docRef('del-me'))).updates).toHaveLength(0);
    expect(await server.app.stores.docs.listVersions(docRef('del-me'), { limit: 10 })).toHaveLength(0);
    expect((await api(server, 'GET', '/docs/del-me', owner)).status).toBe(404);
    expect(await audit('doc.delete', 'del-me')).toHaveLength(1);

    await api(server, 'POST', '/docs', other, { name: 'del-admin' });
    expect((await api(server, 'DELETE', '/docs/del-admin', admin)).status).toBe(200);
    expect((await audit('doc.delete', 'del-admin'))[0]?.actor).toBe('admin-1');
  });
});

describe('versions', () => {
  it('saves, lists, reads and restores a version as a new change on top', async () => {
    const a = openDoc(server.url, 'ver', owner);
    const b = openDoc(server.url, 'ver', other);
    await Promise.all([synced(a), synced(b)]);
    a.text.insert(0, 'The first draft.');
    a.doc.getMap('meta').set('stage', 1);
    a.doc.getArray('items').push(['one', 'two']);
    await until(() => b.text.toString() === 'The first draft.', { doc: b.doc });
    const saved = await api<{ version: DocVersionInfo }>(server, 'POST', '/docs/ver/versions', owner, {
      label: 'first draft',
    });
    expect(saved.status).toBe(201);
    expect(saved.body.version).toMatchObject({ label: 'first draft', auto: false, createdBy: 'owner-1' });

    // more editing after the version: replace, format, delete, add a new root
    b.text.delete(4, 5);
    b.text.insert(4, 'second');
    b.text.format(0, 3, { bold: true });
    b.doc.getMap('meta').set('stage', 2);
    b.doc.getMap('meta').set('reviewer', 'Other');
    b.doc.getArray('items').delete(0, 1);
    b.doc.getText('appendix').insert(0, 'added later');
    await until(() => a.text.toString() === 'The second draft.' && a.doc.getText('appendix').length > 0, {
      doc: a.doc,
    });
    const stateBefore = Y.encodeStateVector(a.doc);

    const list = await api<{ versions: DocVersionInfo[] }>(server, 'GET', '/docs/ver/versions', other);
    expect(list.body.versions.map((v) => v.label)).toEqual(['first draft']);
    const read = await api<DocVersionResponse>(server, 'GET', `/docs/ver/versions/${saved.body.version.id}`, other);
    expect(read.body.content.json).toEqual({ content: 'The first draft.', meta: { stage: 1 }, items: ['one', 'two'] });
    expect(read.body.content.text).toBe('The first draft.');
    expect((await api(server, 'GET', '/docs/ver/versions/99999', other)).status).toBe(404);

    const reader = await server.token({ name: 'RO', grants: { docs: { ver: ['read'] } } });
    expect((await api(server, 'POST', '/docs/ver/versions', reader, { label: 'x' })).status).toBe(403);
    expect((await api(server, 'POST', `/docs/ver/versions/${saved.body.version.id}/restore`, reader)).status).toBe(403);

    const restored = await api<DocRestoreResponse>(
      server,
      'POST',
      `/docs/ver/versions/${saved.body.version.id}/restore`,
      other,
    );
    expect(restored.status).toBe(200);
    // both live clients receive the restore like any other change
    for (const c of [a, b]) {
      await until(() => c.text.toString() === 'The first draft.', { doc: c.doc, what: 'restored text' });
      expect(c.doc.getMap('meta').toJSON()).toEqual({ stage: 1 });
      expect(c.doc.getArray('items').toArray()).toEqual(['one', 'two']);
      expect(c.doc.getText('appendix').toString()).toBe('');
      expect(c.text.toDelta()).toEqual([{ insert: 'The first draft.' }]); // formatting gone too
    }
    // history is not rewritten: the restore is a new change by a new client on top
    const stateAfter = Y.decodeStateVector(Y.encodeStateVector(a.doc));
    for (const [client, clock] of Y.decodeStateVector(stateBefore)) expect(stateAfter.get(client)).toBe(clock);
    expect(stateAfter.size).toBe(Y.decodeStateVector(stateBefore).size + 1);
    expect(await storedText(server, 'ver')).toBe('The first draft.');

    // the content before the restore was kept as a version, so the restore can be undone
    const versions = (await api<{ versions: DocVersionInfo[] }>(server, 'GET', '/docs/ver/versions', owner)).body
      .versions;
    expect(versions.map((v) => v.label)).toEqual(['before restoring first draft', 'first draft']);
    const backup = await api<DocVersionResponse>(server, 'GET', `/docs/ver/versions/${restored.body.backup.id}`, owner);
    expect(backup.body.content.json).toMatchObject({ content: 'The second draft.', appendix: 'added later' });
    await api(server, 'POST', `/docs/ver/versions/${restored.body.backup.id}/restore`, owner);
    await until(
      () => a.text.toString() === 'The second draft.' && a.doc.getText('appendix').toString() === 'added later',
      { doc: a.doc, what: 'undo of the restore' },
    );
    expect(await audit('doc.restore', 'ver')).toHaveLength(2);
  });

  it('restores a document that is not loaded', async () => {
    const c = openDoc(server.url, 'ver-cold', owner);
    await synced(c);
    c.text.insert(0, 'alpha');
    await eventually(async () => (await storedText(server, 'ver-cold')) === 'alpha');
    const v = (await api<{ version: DocVersionInfo }>(server, 'POST', '/docs/ver-cold/versions', owner, { label: 'a' }))
      .body.version;
    c.text.insert(5, ' beta');
    await eventually(async () => (await storedText(server, 'ver-cold')) === 'alpha beta');
    c.destroy();
    await until(() => server.app.docs.loadedCount === 0, { what: 'unload' });
    expect((await api(server, 'POST', `/docs/ver-cold/versions/${v.id}/restore`, owner)).status).toBe(200);
    expect(await storedText(server, 'ver-cold')).toBe('alpha');
    await until(() => server.app.docs.loadedCount === 0, { what: 'unload after the restore' });
  });

  it('saves versions automatically while a document changes', async () => {
    const auto = await startTestServer({ MOIM_DOC_VERSION_INTERVAL_MS: '200' });
    try {
      const t = await auto.token({ name: 'Auto' });
      const c = openDoc(auto.url, 'auto-ver', t);
      await synced(c);
      c.text.insert(0, 'one');
      await eventually(
        async () => (await auto.app.stores.docs.listVersions(docRef('auto-ver'), { limit: 10 })).length >= 1,
        {
          what: 'first automatic version',
        },
      );
      const [first] = await auto.app.stores.docs.listVersions(docRef('auto-ver'), { limit: 10 });
      expect(first).toMatchObject({ auto: true, createdBy: 'system' });
      c.text.insert(3, ' two');
      await eventually(
        async () => (await auto.app.stores.docs.listVersions(docRef('auto-ver'), { limit: 10 })).length >= 2,
        {
          what: 'second automatic version',
        },
      );
      const versions = await auto.app.stores.docs.listVersions(docRef('auto-ver'), { limit: 10 });
      const newest = await auto.app.stores.docs.getVersion(docRef('auto-ver'), versions[0]?.id as number);
      const d = new Y.Doc();
      Y.applyUpdate(d, newest?.state as Uint8Array);
      expect(d.getText('content').toString()).toBe('one two');
    } finally {
      destroyAllClients();
      await auto.close();
    }
  });
});
