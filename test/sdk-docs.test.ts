import { connect, devToken, type MoimClient } from '@moim/client-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

/** Documents through the client SDK (stock y-websocket provider) against a real server. */
let server: TestServer;
const clients: MoimClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server.close();
});

async function client(name: string): Promise<MoimClient> {
  const c = await connect({
    url: server.url,
    transports: ['websocket'],
    getToken: async () => (await devToken(server.url, { name, site: 'hq', role: 'member', sub: name })).token,
  });
  clients.push(c);
  return c;
}

describe('client SDK documents', () => {
  it('two clients edit one document and converge; awareness reaches the other', async () => {
    const a = await client('ara');
    const b = await client('bora');
    const da = await a.docs.open('plan-2026');
    const db = await b.docs.open('plan-2026');
    await Promise.all([da.whenSynced(), db.whenSynced()]);
    da.doc.getText('body').insert(0, '안녕하세요 ');
    db.doc.getText('body').insert(0, 'Hello ');
    await expect.poll(() => da.doc.getText('body').toString(), { timeout: 10_000 }).toHaveLength(12);
    await expect
      .poll(() => db.doc.getText('body').toString(), { timeout: 10_000 })
      .toBe(da.doc.getText('body').toString());
    da.setUser({ name: 'Ara', color: '#d33' });
    await expect
      .poll(() => [...db.awareness.getStates().values()].some((s) => (s.user as { name?: string })?.name === 'Ara'), {
        timeout: 10_000,
      })
      .toBe(true);
  });

  it('resyncs edits made while its socket was down', async () => {
    const a = await client('cheol');
    const b = await client('dami');
    const da = await a.docs.open('notes-x');
    const db = await b.docs.open('notes-x');
    await Promise.all([da.whenSynced(), db.whenSynced()]);
    // A's document socket drops; A keeps typing offline; B types too
    da.provider.disconnect();
    da.doc.getText('t').insert(0, 'offline-A ');
    db.doc.getText('t').insert(0, 'online-B ');
    da.provider.connect();
    await da.whenSynced();
    const want = 'offline-A online-B '.length;
    await expect.poll(() => db.doc.getText('t').toString().length, { timeout: 10_000 }).toBe(want);
    await expect.poll(() => da.doc.getText('t').toString(), { timeout: 10_000 }).toBe(db.doc.getText('t').toString());
  });

  it('lists, versions and exports through the HTTP API; providers close with the client', async () => {
    const a = await client('eun');
    const d = await a.docs.open('report');
    await d.whenSynced();
    d.doc.getText('body').insert(0, 'v1');
    await expect.poll(async () => (await a.docs.export('report')).body, { timeout: 10_000 }).toBe('v1');
    const v = await a.docs.saveVersion('report', 'first');
    d.doc.getText('body').insert(2, ' and more');
    expect((await a.docs.versions('report')).versions.map((x) => x.id)).toContain(v.id);
    expect((await a.docs.version('report', v.id)).content.text).toContain('v1');
    expect((await a.docs.list()).docs.map((x) => x.name)).toContain('report');
    await a.close();
    expect(d.provider.shouldConnect).toBe(false);
    expect(d.provider.wsconnected).toBe(false);
    expect(a.docs.openNames).toEqual([]);
  });

  it('creates a document by title, renames it, and every reader lists the new title', async () => {
    const a = await client('geon');
    const b = await client('hana');
    const title =
      '2026년 하반기 원격 근무 운영 계획과 거점 사무실 좌석 예약 정책 개정안에 대한 부서별 의견 취합 및 검토 결과 보고서 (인사팀 공동 작성)';
    const created = await a.docs.createTitled(title);
    expect(created.name).toMatch(/^d-/);
    expect(created.title).toBe(title);
    const d = await b.docs.open(created.name);
    await d.whenSynced();
    expect((await b.docs.list()).docs.find((x) => x.name === created.name)?.title).toBe(title);
    const renamed = await b.docs.rename(created.name, '주간 보고');
    expect(renamed).toMatchObject({ name: created.name, title: '주간 보고', titledBy: 'hana' });
    expect((await a.docs.list()).docs.find((x) => x.name === created.name)?.title).toBe('주간 보고');
    expect((await a.docs.info(created.name)).title).toBe('주간 보고');
    await expect(a.docs.rename(created.name, ' ')).rejects.toMatchObject({ code: 'INVALID_TITLE' });
    const named = await a.docs.create('budget-2027', { title: '2027 예산' });
    expect(named).toMatchObject({ name: 'budget-2027', title: '2027 예산' });
  });

  it('an open document’s rename arrives as a `title` event; the list orders most recent first, pages by cursor', async () => {
    const a = await client('jin');
    const b = await client('kyung');
    const made = [];
    for (const title of ['가', '나', '다']) {
      made.push(await a.docs.createTitled(title));
      await new Promise((r) => setTimeout(r, 5));
    }
    const d = await b.docs.open(made[0]!.name);
    await d.whenSynced();
    const told: Array<{ name: string; title: string; by: string }> = [];
    b.docs.on('title', (e) => told.push(e));
    await a.docs.rename(made[0]!.name, '가 (개정)');
    await expect
      .poll(() => told, { timeout: 10_000 })
      .toEqual([expect.objectContaining({ name: made[0]!.name, title: '가 (개정)', by: 'jin' })]);
    // most recently changed first by default (the rename was the last change); by title on request, a page at a time
    expect((await b.docs.list()).docs.map((x) => x.title)).toEqual(['가 (개정)', '다', '나']);
    const first = await b.docs.list({ sort: 'title', limit: 2 });
    expect(first.docs.map((x) => x.title)).toEqual(['가 (개정)', '나']);
    const second = await b.docs.list({ sort: 'title', limit: 2, after: first.next! });
    expect(second.docs.map((x) => x.title)).toEqual(['다']);
    expect(second.next).toBeUndefined();
  });
});
