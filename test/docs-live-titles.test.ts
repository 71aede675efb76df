/**
 * A rename reaches open editors at once (`doc:title` on socket.io to the people whose `/yjs`
 * connections hold the document: never guests its policy shuts out, never another organisation),
 * and the document list's orders (`sort=updated|title|name`, cursors, default most recent first).
 */
import type { DocInfo, DocTitleEvent } from '@moim/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, nextEvent, startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { api, closedWith, destroyAllClients, openDoc, synced } from './docs-support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

type Err = { error: { code: string; message: string } };
const create = async (tok: string, body: unknown): Promise<DocInfo> => {
  const res = await api<{ doc: DocInfo }>(server, 'POST', '/docs', tok, body);
  expect(res.status).toBe(201);
  return res.body.doc;
};
const rename = async (tok: string, name: string, title: string): Promise<DocInfo> => {
  const res = await api<{ doc: DocInfo }>(server, 'PUT', `/docs/${encodeURIComponent(name)}/title`, tok, { title });
  expect(res.status).toBe(200);
  return res.body.doc;
};
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('a rename reaches the open editors at once', () => {
  it('everyone with the document open learns the new title; guests shut out, others and other orgs never', async () => {
    const kim = await server.person('kim', { org: 'live' });
    const lee = await server.person('lee', { org: 'live' });
    const park = await server.person('park', { org: 'live' }); // connected, but without the document open
    const doc = await create(kim.token, { title: '주간 보고' });
    const guest = await server.person('guest', { org: 'live', grants: { docs: { [doc.name]: ['read'] } } });
    // another organisation: the same name, open there
    const eve = await server.person('eve', { org: 'evil' });
    const evilCreated = await api(server, 'POST', '/docs', eve.token, { name: doc.name, title: 'evil' });
    expect(evilCreated.status).toBe(201);

    const editors = [
      openDoc(server.url, doc.name, lee.token),
      openDoc(server.url, doc.name, guest.token),
      openDoc(server.url, doc.name, eve.token),
    ];
    await Promise.all(editors.map(synced));
    const seen = {
      lee: collect<DocTitleEvent>(lee.socket, 'doc:title'),
      guest: collect<DocTitleEvent>(guest.socket, 'doc:title'),
      park: collect<DocTitleEvent>(park.socket, 'doc:title'),
      eve: collect<DocTitleEvent>(eve.socket, 'doc:title'),
    };

    // lee and the guest (guests allowed so far) have it open: both learn it, with who and when
    const leeLearns = nextEvent<DocTitleEvent>(lee.socket, 'doc:title');
    const guestLearns = nextEvent<DocTitleEvent>(guest.socket, 'doc:title');
    const renamed = await rename(kim.token, doc.name, '주간 보고 (최종) 📝');
    const told = await leeLearns;
    expect(told).toEqual({ name: doc.name, title: '주간 보고 (최종) 📝', by: kim.sub, at: renamed.titledAt });
    expect(await guestLearns).toEqual(told);

    // the policy shuts guests out: the guest's editor is closed, and the next rename does not reach them
    const guestClosed = closedWith(editors[1]!);
    const put = await fetch(`${server.url}/policies/doc/${doc.name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${kim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ guests: false }),
    });
    expect(put.status).toBe(200);
    expect((await guestClosed).code).toBe(4403);
    const leeAgain = nextEvent<DocTitleEvent>(lee.socket, 'doc:title', (e) => e.title === '인수 합병 계획');
    await rename(kim.token, doc.name, '인수 합병 계획');
    await leeAgain;
    await settle();
    expect(seen.lee.map((e) => e.title)).toEqual(['주간 보고 (최종) 📝', '인수 합병 계획']);
    expect(seen.guest.map((e) => e.title)).toEqual(['주간 보고 (최종) 📝']);
    // never someone without the document open, never another organisation's editor of the same name
    expect(seen.park).toEqual([]);
    expect(seen.eve).toEqual([]);
    // and evil's own rename reaches evil's editor only
    const eveLearns = nextEvent<DocTitleEvent>(eve.socket, 'doc:title');
    await rename(eve.token, doc.name, 'evil 2');
    expect((await eveLearns).title).toBe('evil 2');
    await settle();
    expect(seen.lee.map((e) => e.title)).toEqual(['주간 보고 (최종) 📝', '인수 합병 계획']);
  });

  it('the y-websocket editors see nothing new on /yjs (stock clients keep working)', async () => {
    const kim = await server.person('kim2', { org: 'live2' });
    const doc = await create(kim.token, { title: 'plain' });
    const editor = openDoc(server.url, doc.name, kim.token);
    await synced(editor);
    const learns = nextEvent<DocTitleEvent>(kim.socket, 'doc:title');
    await rename(kim.token, doc.name, 'plain 2');
    await learns;
    editor.text.insert(0, 'still editing');
    await settle();
    expect(editor.closes).toEqual([]);
    expect(editor.denied).toEqual([]);
    expect(editor.provider.wsconnected).toBe(true);
  });
});

describe('the document list orders', () => {
  const page = (tok: string, query: string) =>
    api<{ docs: DocInfo[]; next?: string } & Partial<Err>>(server, 'GET', `/docs?${query}`, tok);
  /** Every name of one order, in pages of `limit`, following `next`. */
  const walk = async (tok: string, sort: string, limit: number): Promise<string[]> => {
    const out: string[] = [];
    let after = '';
    for (let guard = 0; guard < 20; guard++) {
      const res = await page(tok, `limit=${limit}${sort ? `&sort=${sort}` : ''}${after}`);
      expect(res.status).toBe(200);
      out.push(...res.body.docs.map((d) => d.name));
      if (!res.body.next) return out;
      after = `&after=${encodeURIComponent(res.body.next)}`;
    }
    throw new Error('paging did not end');
  };

  it('most recently changed first by default; by title and by name on request; stable cursors; bad input refused', async () => {
    const ann = await server.token({ name: 'ann', sub: 'ann', org: 'sorting' });
    const made: string[] = [];
    for (const title of ['나무', 'Zebra', 'apple', 'Zebra']) {
      made.push((await create(ann, { title })).name);
      await new Promise((r) => setTimeout(r, 5));
    }
    const [namu, zebra1, apple, zebra2] = made as [string, string, string, string];
    // an edit makes the first one the most recently changed
    const editor = openDoc(server.url, namu, ann);
    await synced(editor);
    editor.text.insert(0, 'edited');
    const edited = async () => (await page(ann, 'limit=1')).body.docs[0]?.name === namu;
    for (let i = 0; i < 100 && !(await edited()); i++) await new Promise((r) => setTimeout(r, 50));

    const recent = [namu, zebra2, apple, zebra1];
    expect(await walk(ann, '', 100)).toEqual(recent);
    expect(await walk(ann, 'updated', 1)).toEqual(recent);
    expect(await walk(ann, 'updated', 3)).toEqual(recent);
    const listed = (await page(ann, 'sort=updated')).body.docs;
    expect(listed.map((d) => d.updatedAt)).toEqual([...listed.map((d) => d.updatedAt)].sort((a, b) => b - a));
    // by title (the case of A–Z ignored, else code point order: Hangul after Latin; equal titles by name)
    const zebras = [zebra1, zebra2].sort();
    expect(await walk(ann, 'title', 1)).toEqual([apple, ...zebras, namu]);
    expect(await walk(ann, 'title', 100)).toEqual([apple, ...zebras, namu]);
    expect(await walk(ann, 'name', 1)).toEqual([...made].sort());

    // a document created between two pages neither repeats nor shifts the next page
    const first = await page(ann, 'sort=title&limit=2');
    await create(ann, { title: 'Aardvark' }); // sorts before every row already listed
    const rest = await page(ann, `sort=title&limit=10&after=${encodeURIComponent(first.body.next ?? '')}`);
    expect([...first.body.docs, ...rest.body.docs].map((d) => d.name)).toEqual([apple, ...zebras, namu]);

    // validated at the edge
    for (const q of [
      'sort=newest',
      'sort=',
      'sort=__proto__',
      'sort=updated&after=x',
      'sort=updated&after=u.12.',
      'sort=updated&after=u.99999999999999999.a',
      `sort=updated&after=${encodeURIComponent(first.body.next ?? '')}`, // a title cursor
      'sort=title&after=t.%2B%2B.a',
      `sort=title&after=t.${'A'.repeat(2000)}.a`,
      `sort=name&after=${'a'.repeat(129)}`,
    ]) {
      const res = await page(ann, q);
      expect(res.status, q).toBe(400);
      expect(res.body.error?.code, q).toBe('INVALID_PAYLOAD');
    }
    // a rename is a change too: the oldest document moves to the top of the default order
    await new Promise((r) => setTimeout(r, 5));
    expect((await rename(ann, zebra1, 'Zebra, renamed')).title).toBe('Zebra, renamed');
    expect((await page(ann, 'limit=1')).body.docs[0]?.name).toBe(zebra1);

    // another organisation lists none of these
    const other = await server.token({ name: 'eve', sub: 'ann', org: 'sorting-other' });
    expect(await walk(other, 'title', 10)).toEqual([]);
  });
});
