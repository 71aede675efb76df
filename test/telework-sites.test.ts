/**
 * Telework sites and places over HTTP against a real server: admins of an org manage them,
 * every member reads them, another org never sees them, bad input is INVALID_PAYLOAD (never a
 * 500), every change is in the audit log, and an org's first request seeds `hq` and `home`.
 */
import type { Place, Site, SiteListResponse, SiteResponse } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
let admin: string;
let member: string;
let otherAdmin: string;
beforeAll(async () => {
  server = await startTestServer();
  [admin, member, otherAdmin] = await Promise.all([
    server.token({ name: 'Admin', sub: 'tw-admin', role: 'admin', org: 'acme' }),
    server.token({ name: 'Member', sub: 'tw-member', role: 'member', org: 'acme' }),
    server.token({ name: 'Evil', sub: 'tw-evil', role: 'admin', org: 'evil' }),
  ]);
});
afterAll(() => server.close());

type ErrorAnswer = { error: { code: string; message: string } };

async function api<T = unknown>(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const hours = (open: string, close: string): Site['openingHours'] => [
  null,
  { open, close },
  { open, close },
  { open, close },
  { open, close },
  { open, close },
  { open: '10:00', close: '14:00' },
];
const centre = {
  name: 'Gangnam smart-work centre',
  address: '123 Teheran-ro, Seoul',
  timeZone: 'Asia/Seoul',
  openingHours: hours('08:00', '22:00'),
  networks: ['10.20.0.0/16', '203.0.113.0/24', '2001:db8:20::/48'],
  kind: 'smart-work-centre',
} as const;
const desk = { kind: 'seat', name: 'Desk 1', tier: null, capacity: 1 } as const;
const board = { kind: 'meeting-room', name: 'Board room', tier: 'immersive', capacity: 12 } as const;

describe('telework sites and places over HTTP', () => {
  it('seeds hq and home on an org’s first request, and only once', async () => {
    const fresh = await server.token({ name: 'Fresh', sub: 'tw-fresh', role: 'admin', org: 'fresh' });
    const list = await api<SiteListResponse>('GET', '/telework/sites', fresh);
    expect(list.status).toBe(200);
    expect(list.body.sites.map((s) => [s.id, s.kind, s.timeZone])).toEqual([
      ['home', 'home', 'Asia/Seoul'],
      ['hq', 'hq', 'Asia/Seoul'],
    ]);
    const hq = list.body.sites.find((s) => s.id === 'hq');
    expect(hq?.openingHours).toEqual([null, ...Array(5).fill({ open: '09:00', close: '18:00' }), null]);
    expect((await api('DELETE', '/telework/sites/hq', fresh)).status).toBe(200);
    expect((await api('DELETE', '/telework/sites/home', fresh)).status).toBe(200);
    expect((await api<SiteListResponse>('GET', '/telework/sites', fresh)).body.sites).toEqual([]);
  });

  it('lets an admin create a smart-work centre with networks and places; members read it', async () => {
    const created = await api<{ site: Site; created: boolean }>('PUT', '/telework/sites/swc-gangnam', admin, centre);
    expect(created).toEqual({ status: 201, body: { site: { id: 'swc-gangnam', ...centre }, created: true } });
    const seat = await api<{ place: Place }>('PUT', '/telework/sites/swc-gangnam/places/desk-1', admin, desk);
    expect(seat).toMatchObject({ status: 201, body: { place: { id: 'desk-1', siteId: 'swc-gangnam', ...desk } } });
    expect((await api('PUT', '/telework/sites/swc-gangnam/places/board', admin, board)).status).toBe(201);
    // PUT again replaces
    const renamed = { ...board, name: 'Big board room', capacity: 20 };
    expect(await api('PUT', '/telework/sites/swc-gangnam/places/board', admin, renamed)).toMatchObject({
      status: 200,
      body: { created: false, place: { capacity: 20 } },
    });

    const list = await api<SiteListResponse>('GET', '/telework/sites', member);
    expect(list.body.sites.map((s) => s.id)).toEqual(['home', 'hq', 'swc-gangnam']);
    const read = await api<SiteResponse>('GET', '/telework/sites/swc-gangnam', member);
    expect(read.status).toBe(200);
    expect(read.body.site).toEqual({ id: 'swc-gangnam', ...centre });
    expect(read.body.places).toEqual([
      { id: 'board', siteId: 'swc-gangnam', ...renamed },
      { id: 'desk-1', siteId: 'swc-gangnam', ...desk },
    ]);
    const moved = await api('PUT', '/telework/sites/swc-gangnam', admin, { ...centre, name: 'Gangnam SWC' });
    expect(moved).toMatchObject({ status: 200, body: { created: false, site: { name: 'Gangnam SWC' } } });
  });

  it('refuses members every change (FORBIDDEN) and changes nothing', async () => {
    await api('PUT', '/telework/sites/swc-member', admin, centre);
    const attempts: Array<[string, string, unknown?]> = [
      ['PUT', '/telework/sites/swc-member', { ...centre, name: 'Mine now' }],
      ['PUT', '/telework/sites/swc-new', centre],
      ['DELETE', '/telework/sites/swc-member'],
      ['PUT', '/telework/sites/swc-member/places/desk-9', desk],
      ['DELETE', '/telework/sites/swc-gangnam/places/desk-1'],
    ];
    for (const [method, path, body] of attempts) {
      const res = await api<ErrorAnswer>(method, path, member, body);
      expect(res, `${method} ${path}`).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    }
    expect((await api<SiteResponse>('GET', '/telework/sites/swc-member', member)).body.site.name).toBe(centre.name);
    expect((await api('GET', '/telework/sites/swc-new', member)).status).toBe(404);
  });

  it('shows another organisation nothing (NOT_FOUND) and lets it change nothing', async () => {
    await api('PUT', '/telework/sites/swc-private', admin, centre);
    await api('PUT', '/telework/sites/swc-private/places/desk-1', admin, desk);
    const list = await api<SiteListResponse>('GET', '/telework/sites', otherAdmin);
    expect(list.body.sites.map((s) => s.id)).toEqual(['home', 'hq']);
    for (const [method, path, body] of [
      ['GET', '/telework/sites/swc-private'],
      ['DELETE', '/telework/sites/swc-private'],
      ['DELETE', '/telework/sites/swc-private/places/desk-1'],
      ['PUT', '/telework/sites/swc-private/places/desk-2', desk],
    ] as Array<[string, string, unknown?]>) {
      const res = await api<ErrorAnswer>(method, path, otherAdmin, body);
      expect(res, `${method} ${path}`).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    }
    // the same id in the other org is the other org's own site
    expect((await api('PUT', '/telework/sites/swc-private', otherAdmin, { ...centre, name: 'Evil' })).status).toBe(201);
    const mine = await api<SiteResponse>('GET', '/telework/sites/swc-private', member);
    expect(mine.body.site.name).toBe(centre.name);
    expect(mine.body.places.map((p) => p.id)).toEqual(['desk-1']);
  });

  it('answers invalid zones, networks, hours, places and ids with INVALID_PAYLOAD, never a 500', async () => {
    const bad: Array<[string, unknown]> = [
      ['/telework/sites/swc-x', { ...centre, timeZone: 'Mars/Olympus_Mons' }],
      ['/telework/sites/swc-x', { ...centre, timeZone: '+09:00' }],
      ['/telework/sites/swc-x', { ...centre, timeZone: 'x'.repeat(200) }],
      ['/telework/sites/swc-x', { ...centre, networks: ['10.0.0.0/33'] }],
      ['/telework/sites/swc-x', { ...centre, networks: ['10.0.0.1'] }],
      ['/telework/sites/swc-x', { ...centre, networks: ['300.1.1.0/24'] }],
      ['/telework/sites/swc-x', { ...centre, networks: ['2001:db8::/129'] }],
      ['/telework/sites/swc-x', { ...centre, networks: Array(65).fill('10.0.0.0/8') }],
      ['/telework/sites/swc-x', { ...centre, openingHours: hours('18:00', '09:00') }],
      ['/telework/sites/swc-x', { ...centre, openingHours: hours('09:00', '09:00') }],
      ['/telework/sites/swc-x', { ...centre, openingHours: hours('09:00', '24:00') }],
      ['/telework/sites/swc-x', { ...centre, openingHours: hours('9:00', '18:00') }],
      ['/telework/sites/swc-x', { ...centre, openingHours: [null, null] }],
      ['/telework/sites/swc-x', { ...centre, kind: 'castle' }],
      ['/telework/sites/swc-x', { ...centre, name: '' }],
      ['/telework/sites/swc-x', { ...centre, name: 'n'.repeat(101) }],
      ['/telework/sites/swc-x', { ...centre, extra: 1 }],
      ['/telework/sites/swc-x', { ...centre, id: 'swc-y' }],
      // a literal `__proto__:` would set the prototype, not a key: send it as JSON text
      ['/telework/sites/swc-x', JSON.stringify(centre).replace(/^\{/, '{"__proto__":{"admin":true},')],
      ['/telework/sites/swc-x', '{"name": '],
      ['/telework/sites/__proto__', centre],
      ['/telework/sites/constructor', centre],
      ['/telework/sites/prototype', centre],
      ['/telework/sites/Upper', centre],
      ['/telework/sites/swc-gangnam/places/__proto__', desk],
      ['/telework/sites/swc-gangnam/places/constructor', desk],
      ['/telework/sites/constructor/places/desk-1', desk],
      ['/telework/sites/swc-gangnam/places/desk-x', { ...desk, tier: 'standard' }],
      ['/telework/sites/swc-gangnam/places/room-x', { ...board, tier: null }],
      ['/telework/sites/swc-gangnam/places/room-x', { ...board, capacity: 0 }],
      ['/telework/sites/swc-gangnam/places/room-x', { ...board, capacity: 501 }],
      ['/telework/sites/swc-gangnam/places/room-x', { ...board, capacity: 2.5 }],
      ['/telework/sites/swc-gangnam/places/room-x', { ...board, siteId: 'hq' }],
    ];
    for (const [path, body] of bad) {
      const res = await api<ErrorAnswer>('PUT', path, admin, body);
      expect(res, `${path} ${JSON.stringify(body)?.slice(0, 80)}`).toMatchObject({
        status: 400,
        body: { error: { code: 'INVALID_PAYLOAD' } },
      });
    }
    for (const path of ['/telework/sites/__proto__', '/telework/sites/constructor', '/telework/sites/hasOwnProperty']) {
      for (const method of ['GET', 'DELETE']) {
        const res = await api<ErrorAnswer>(method, path, admin);
        expect(res, `${method} ${path}`).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PAYLOAD' } } });
      }
    }
    expect((await api('GET', '/telework/sites/swc-x', admin)).status).toBe(404);
    expect((await api('GET', '/telework/sites/swc-gangnam/places/constructor', admin)).status).toBe(405);
  });

  it('deletes a site with its places; NOT_FOUND for what does not exist', async () => {
    await api('PUT', '/telework/sites/swc-gone', admin, centre);
    await api('PUT', '/telework/sites/swc-gone/places/desk-1', admin, desk);
    expect(await api('DELETE', '/telework/sites/swc-gone/places/desk-1', admin)).toEqual({
      status: 200,
      body: { deleted: true },
    });
    expect((await api<ErrorAnswer>('DELETE', '/telework/sites/swc-gone/places/desk-1', admin)).status).toBe(404);
    await api('PUT', '/telework/sites/swc-gone/places/desk-2', admin, desk);
    expect((await api('DELETE', '/telework/sites/swc-gone', admin)).status).toBe(200);
    expect((await api<ErrorAnswer>('GET', '/telework/sites/swc-gone', admin)).body.error.code).toBe('NOT_FOUND');
    expect((await api<ErrorAnswer>('DELETE', '/telework/sites/swc-gone', admin)).status).toBe(404);
    // the place went with its site: the same site made again starts empty
    await api('PUT', '/telework/sites/swc-gone', admin, centre);
    expect((await api<SiteResponse>('GET', '/telework/sites/swc-gone', admin)).body.places).toEqual([]);
    const noSite = await api<ErrorAnswer>('PUT', '/telework/sites/swc-never/places/desk-1', admin, desk);
    expect(noSite).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('records every change in the audit log, with its org and actor', async () => {
    await api('PUT', '/telework/sites/swc-audit', admin, centre);
    await api('PUT', '/telework/sites/swc-audit', admin, { ...centre, name: 'Renamed' });
    await api('PUT', '/telework/sites/swc-audit/places/board', admin, board);
    await api('PUT', '/telework/sites/swc-audit/places/board', admin, { ...board, capacity: 3 });
    await api('DELETE', '/telework/sites/swc-audit/places/board', admin);
    await api('DELETE', '/telework/sites/swc-audit', admin);
    const entries = (await server.app.stores.audit.list({ actor: 'tw-admin', limit: 1000 })).filter(
      (e) => e.target === 'swc-audit' || e.target === 'swc-audit/board',
    );
    expect(entries.map((e) => [e.action, e.target])).toEqual([
      ['telework.site.create', 'swc-audit'],
      ['telework.site.replace', 'swc-audit'],
      ['telework.place.create', 'swc-audit/board'],
      ['telework.place.replace', 'swc-audit/board'],
      ['telework.place.delete', 'swc-audit/board'],
      ['telework.site.delete', 'swc-audit'],
    ]);
    for (const e of entries) expect(e.detail).toMatchObject({ org: 'acme' });
    const seeds = await server.app.stores.audit.list({ action: 'telework.seed', limit: 100 });
    expect(seeds.map((e) => e.target).sort()).toEqual(['acme', 'evil', 'fresh']);
    // refused attempts changed nothing, so they are not logged as changes
    expect(
      await server.app.stores.audit.list({ actor: 'tw-member', action: 'telework.site.create', limit: 10 }),
    ).toEqual([]);
  });
});
