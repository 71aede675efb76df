/**
 * The central manager's view against a real server, on a moved clock (Monday 7 January 2030,
 * 10:00 in Seoul): a person with an approved smart-work-centre day who comes online from the
 * centre's network (a socket bound to 127.0.0.2) before opening is checked in there; one with
 * approved home telework online from home is at home; at 10:00 an HQ person never seen is absent
 * (the site opened more than the late allowance ago) and one who comes online then is late; a person of another team is not
 * in the manager's view. Scopes: an admin sees the org, a manager their reports, a member
 * themself. The CSV export holds the same rows as the view (UTF-8 BOM, formula cells escaped,
 * no priority categories); pending approvals are counted for their approver.
 */
import type { DashboardView } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { startTestServer, type TestServer, type TestSocket } from '../server/src/testing/index.ts';
import { api as call, connectFrom, seoul, until, weekdays } from './telework-support.ts';

const DAY = '2030-01-07';
const clock = new ManualClock(seoul(DAY, 8, 50));
let server: TestServer;
const tokens = new Map<string, string>();
const token = (sub: string): string => tokens.get(sub) ?? '';
const sockets: TestSocket[] = [];

beforeAll(async () => {
  // every view computed afresh here; the shared live view has its own test below
  server = await startTestServer(
    { MOIM_TELEWORK_LATE_AFTER_MINUTES: '10', MOIM_TELEWORK_DASHBOARD_FRESH_MS: '0' },
    { clock },
  );
  tokens.set('admin', await server.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'acme' }));
  const people: Array<[string, string, string]> = [
    ['mgr', '관리자', 'hq'],
    ['amy', 'Amy', 'hq'],
    ['ben', 'Ben', 'hq'],
    ['cal', 'Cal', 'home'],
    ['dan', '=cmd()', 'hq'],
    ['out', 'Outsider', 'hq'],
  ];
  for (const [sub, name, site] of people)
    tokens.set(sub, await server.token({ name, sub, site, role: sub === 'mgr' ? 'manager' : 'member', org: 'acme' }));
  const admin = token('admin');
  const centre = {
    name: 'Sejong centre',
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: weekdays('09:00', '20:00'),
    networks: ['127.0.0.2/32'],
    kind: 'smart-work-centre',
  };
  expect((await call(server, 'PUT', '/telework/sites/swc', admin, centre)).status).toBe(201);
  const seat = { kind: 'seat', name: 'Desk', tier: null, capacity: 1 };
  for (const id of ['desk-1', 'desk-2'])
    expect((await call(server, 'PUT', `/telework/sites/swc/places/${id}`, admin, seat)).status).toBe(201);
  expect((await call(server, 'PUT', '/telework/directory/mgr', admin, { name: '관리자' })).status).toBe(201);
  for (const [sub, name] of people.slice(1, 5))
    expect(
      (await call(server, 'PUT', `/telework/directory/${sub}`, admin, { name, manager: 'mgr', team: 'policy' })).status,
    ).toBe(201);
  expect(
    (
      await call(server, 'PUT', '/telework/directory/out', admin, {
        name: 'Outsider',
        team: 'ops',
        priorityCategories: ['disability'],
      })
    ).status,
  ).toBe(201);
  // amy: an approved centre day with a seat; cal: approved home telework
  for (const [sub, type, siteId] of [
    ['amy', 'smart-work-centre', 'swc'],
    ['cal', 'home', 'home'],
  ] as const) {
    const applied = await call<{ request: { id: string } }>(server, 'POST', '/telework/requests', token(sub), {
      days: [DAY],
      type,
      siteId,
      tasks: ['Budget'],
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    expect((await call(server, 'POST', `/approvals/${applied.body.request.id}/approve`, token('mgr'), {})).status).toBe(
      200,
    );
  }
  await server.app.teleworkRequests.idle();
  const booked = await call(server, 'POST', '/telework/bookings', token('amy'), {
    siteId: 'swc',
    placeId: 'desk-1',
    start: new Date(seoul(DAY, 9)).toISOString(),
    end: new Date(seoul(DAY, 18)).toISOString(),
  });
  expect(booked.status, JSON.stringify(booked.body)).toBe(201);
  // dan asks for tomorrow: pending with the manager
  expect(
    (
      await call(server, 'POST', '/telework/requests', token('dan'), {
        days: ['2030-01-08'],
        type: 'home',
        siteId: 'home',
        tasks: ['Reading'],
      })
    ).status,
  ).toBe(201);
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
});

const view = (sub: string, q = '') => call<DashboardView>(server, 'GET', `/telework/dashboard${q}`, token(sub));

describe('the manager’s dashboard', () => {
  it('shows who is where against their plan: at the centre from its network, at home, absent, late', async () => {
    // before opening: amy from the centre's network, cal from home
    sockets.push(await connectFrom(server, token('amy'), '127.0.0.2'));
    sockets.push(await connectFrom(server, token('cal'), '127.0.0.1'));
    await until(
      async () => (await view('mgr')).body,
      (b) => b.totals?.checkedIn === 2,
    );
    // 10:00: dan comes in late, ben never does
    clock.set(seoul(DAY, 10));
    sockets.push(await connectFrom(server, token('dan'), '127.0.0.1'));
    const v = await until(
      async () => (await view('mgr')).body,
      (b) => b.totals?.checkedIn === 3,
    );
    expect(v.day).toBe(DAY);
    expect(v.scope).toBe('team');
    const rows = Object.fromEntries(v.people.map((p) => [p.sub, p]));
    expect(Object.keys(rows).sort()).toEqual(['amy', 'ben', 'cal', 'dan', 'mgr']);
    expect(rows.amy).toMatchObject({
      expectedSiteId: 'swc',
      expectedType: 'smart-work-centre',
      checkedInSiteId: 'swc',
      source: 'network',
      online: true,
    });
    expect(rows.cal).toMatchObject({
      expectedSiteId: 'home',
      expectedType: 'home',
      checkedInSiteId: 'home',
      online: true,
    });
    expect(rows.ben).toMatchObject({ expectedSiteId: 'hq', expectedType: 'office', status: 'absent', online: false });
    expect(rows.dan).toMatchObject({ expectedSiteId: 'hq', status: 'late', checkedInSiteId: 'hq', online: true });
    expect(v.totals).toMatchObject({
      people: 5,
      expected: 5,
      checkedIn: 3,
      late: 1,
      absent: 2,
      online: 3,
      pendingApprovals: 1,
    });
    const swc = v.sites.find((s) => s.id === 'swc');
    expect(swc).toMatchObject({ expected: 1, checkedIn: 1, seats: 2, booked: 1 });
    expect(v.teams.find((t) => t.team === 'policy')).toMatchObject({ people: 4, checkedIn: 3 });
  });

  it('scopes: an admin sees the org, a member only themself; another team’s person is not the manager’s', async () => {
    const all = (await view('admin')).body;
    expect(all.scope).toBe('org');
    expect(all.people.map((p) => p.sub).sort()).toEqual(['amy', 'ben', 'cal', 'dan', 'mgr', 'out']);
    expect(all.totals.pendingApprovals).toBe(1);
    const self = (await view('ben')).body;
    expect(self.scope).toBe('self');
    expect(self.people.map((p) => p.sub)).toEqual(['ben']);
    expect(self.totals.pendingApprovals).toBe(0);
    expect((await view('mgr', '?day=2030-13-01')).body.error?.code).toBe('INVALID_PAYLOAD');
    expect((await view('mgr', '?day=2030-01-07&x=1')).body.error?.code).toBeUndefined();
    // Saturday: nobody is expected at the office
    const saturday = (await view('mgr', '?day=2030-01-12')).body;
    expect(saturday.totals.expected).toBe(0);
    expect(saturday.people.every((p) => p.status === 'off')).toBe(true);
  });

  it('exports the same rows as CSV with a BOM, formula cells escaped and no priority categories', async () => {
    const res = await fetch(`${server.url}/telework/dashboard.csv?day=${DAY}`, {
      headers: { authorization: `Bearer ${token('admin')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes.slice(3));
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('day,sub,name,team,expectedSite,expectedType,checkedInSite,source,checkedInAt,status,online');
    const json = (await view('admin', `?day=${DAY}`)).body;
    expect(lines.length - 1).toBe(json.people.length);
    expect(text).toContain(",dan,'=cmd(),");
    expect(text).toContain('관리자');
    expect(text).not.toContain('disability');
    const member = await fetch(`${server.url}/telework/dashboard.csv`, {
      headers: { authorization: `Bearer ${token('ben')}` },
    });
    expect((await member.text()).trimEnd().split('\r\n')).toHaveLength(2);
  });
});

describe('the shared live view', () => {
  it('is computed once per scope and second, and answered from that meanwhile', async () => {
    const live = await startTestServer({ MOIM_TELEWORK_DASHBOARD_FRESH_MS: '1000' });
    try {
      const admin = await live.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'live' });
      const member = await live.token({ name: 'Mia', sub: 'mia', org: 'live' });
      const at = async (token: string) =>
        (await call<DashboardView>(live, 'GET', '/telework/dashboard', token)).body.at;
      const first = await at(admin);
      expect(await at(admin)).toBe(first);
      // another scope is another view
      const mine = await call<DashboardView>(live, 'GET', '/telework/dashboard', member);
      expect(mine.body.scope).toBe('self');
      await new Promise((r) => setTimeout(r, 1100));
      // older than a second: answered as it was while it is computed again, then the new one
      await expect.poll(() => at(admin), { timeout: 5000, interval: 50 }).not.toBe(first);
    } finally {
      await live.close();
    }
  });
});
