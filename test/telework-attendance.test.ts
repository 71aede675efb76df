/**
 * Telework attendance against a real server on a ManualClock, with real sockets: the first
 * connection of a working day opens the person's day (late after opening + 10 minutes), the last
 * disconnect closes it and a reconnect the same day reopens it; moving the clock past the site's
 * closing time closes a forgotten day at that time, flagged `auto-closed`, and the next day starts
 * a new record (at its opening for a connection still open, or on its next activity); a public
 * holiday records nothing; a day at another site than the approved plan's is flagged, and an
 * approved working day without attendance is listed as absent. Who reads whose days: a member only their own, a manager their team's
 * (by the token's teams, or their reports in the org directory), an admin everyone.
 */
import type { AttendanceDay, AttendanceResponse } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { call, startTestServer, type TestServer, type TestSocket } from '../server/src/testing/index.ts';
import { type Answer, api, connectFrom, iso, seoul, until } from './telework-support.ts';

const WED = '2030-01-09';
const THU = '2030-01-10';
const JOB = 'telework.attendance';

let server: TestServer;
let clock: ManualClock;
let admin: string;
const sockets: TestSocket[] = [];

async function start(): Promise<void> {
  clock = new ManualClock(seoul(WED, 8));
  server = await startTestServer({}, { clock });
  admin = await server.token({ name: 'Admin', sub: 'at-admin', role: 'admin', org: 'acme' });
}
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  await server.close();
});

const person = (sub: string, extra: Record<string, unknown> = {}) =>
  server.token({ name: sub, sub, role: 'member', org: 'acme', site: 'hq', ...extra });
const connect = async (token: string): Promise<TestSocket> => {
  const s = await connectFrom(server, token, '127.0.0.1');
  sockets.push(s);
  return s;
};
const days = (token: string, from = WED, to = WED, sub?: string): Promise<Answer<AttendanceResponse>> =>
  api<AttendanceResponse>(
    server,
    'GET',
    `/telework/attendance?from=${from}&to=${to}${sub === undefined ? '' : `&sub=${encodeURIComponent(sub)}`}`,
    token,
  );
type Present = Extract<AttendanceDay, { status: 'present' }>;
/** One person's days as an admin reads them (no plans here: all `present`). */
const daysOf = async (sub: string, from = WED, to = WED): Promise<Present[]> =>
  (await days(admin, from, to, sub)).body.days.filter((d): d is Present => d.status === 'present');
const audited = async (action: string) => server.app.stores.audit.list({ action, limit: 100 });

describe('telework attendance days', () => {
  it('closes a forgotten day at closing time (auto-closed), and the next day starts a new record', async () => {
    await start();
    const token = await person('at-alice');
    clock.set(seoul(WED, 10));
    const socket = await connect(token);
    const [opened] = await until(
      () => daysOf('at-alice'),
      (d) => d.length === 1,
    );
    expect(opened).toEqual({
      status: 'present',
      sub: 'at-alice',
      day: WED,
      siteId: 'hq',
      source: 'declared',
      firstIn: iso(seoul(WED, 10)),
      lastOut: null,
      minutes: 0,
      flags: ['late'],
    });
    clock.set(seoul(WED, 17, 59));
    expect(await server.app.scheduler.runDue(JOB)).toBe(0);
    clock.set(seoul(WED, 18, 5));
    expect(await server.app.scheduler.runDue(JOB)).toBe(1);
    expect(await daysOf('at-alice')).toMatchObject([
      { lastOut: iso(seoul(WED, 18)), minutes: 480, flags: ['late', 'auto-closed'] },
    ]);
    // a second run changes nothing; after midnight nothing starts before the day's opening
    expect(await server.app.scheduler.runDue(JOB)).toBe(0);
    clock.set(seoul(THU, 0, 30));
    expect(await server.app.scheduler.runDue(JOB)).toBe(0);
    clock.set(seoul(THU, 9, 1));
    expect(await server.app.scheduler.runDue(JOB)).toBe(1);
    const [, thursday] = await daysOf('at-alice', WED, THU);
    // connected since before the opening: in from the opening, not late
    expect(thursday).toMatchObject({ day: THU, firstIn: iso(seoul(THU, 9)), lastOut: null, flags: [] });
    clock.set(seoul(THU, 12));
    socket.disconnect();
    const closed = await until(
      () => daysOf('at-alice', THU, THU),
      (d) => d[0]?.lastOut !== null,
    );
    expect(closed).toMatchObject([{ lastOut: iso(seoul(THU, 12)), minutes: 180, flags: [] }]);
    // Wednesday stays as it was closed
    expect((await daysOf('at-alice'))[0]).toMatchObject({ lastOut: iso(seoul(WED, 18)) });
    expect(await audited('telework.attendance.check-in')).toHaveLength(2);
    expect(await audited('telework.attendance.auto-close')).toMatchObject([
      { actor: 'system', target: `at-alice/${WED}`, detail: { org: 'acme', minutes: 480 } },
    ]);
    expect(await audited('telework.attendance.check-out')).toMatchObject([{ actor: 'at-alice' }]);
  });

  it('starts the next day’s record on the next activity of a connection open past midnight', async () => {
    await start();
    const socket = await connect(await person('at-bob'));
    await until(
      () => daysOf('at-bob'),
      (d) => d.length === 1,
    );
    clock.set(seoul(THU, 8, 50));
    await call(socket, 'presence:activity', {});
    const both = await until(
      () => daysOf('at-bob', WED, THU),
      (d) => d.length === 2,
    );
    expect(both).toMatchObject([
      // left open (the job did not run): closed at its closing time, never carried into Thursday
      { day: WED, firstIn: iso(seoul(WED, 8)), lastOut: iso(seoul(WED, 18)), flags: ['auto-closed'] },
      { day: THU, firstIn: iso(seoul(THU, 8, 50)), lastOut: null, flags: [] },
    ]);
  });

  it('closes the day on the last disconnect and reopens it on a reconnect the same day', async () => {
    await start();
    const token = await person('at-carol');
    clock.set(seoul(WED, 9, 30));
    const phone = await connect(token);
    const laptop = await connect(token);
    await until(
      () => daysOf('at-carol'),
      (d) => d.length === 1,
    );
    clock.set(seoul(WED, 12));
    phone.disconnect();
    // one device left: still in
    await new Promise((r) => setTimeout(r, 100));
    expect(await daysOf('at-carol')).toMatchObject([{ lastOut: null }]);
    laptop.disconnect();
    await until(
      () => daysOf('at-carol'),
      (d) => d[0]?.lastOut === iso(seoul(WED, 12)),
    );
    expect((await daysOf('at-carol'))[0]).toMatchObject({ minutes: 150, flags: ['late'] });
    clock.set(seoul(WED, 13));
    const again = await connect(token);
    await until(
      () => daysOf('at-carol'),
      (d) => d[0]?.lastOut === null,
    );
    clock.set(seoul(WED, 17));
    again.disconnect();
    const [closed] = await until(
      () => daysOf('at-carol'),
      (d) => d[0]?.lastOut !== null,
    );
    expect(closed).toMatchObject({ firstIn: iso(seoul(WED, 9, 30)), lastOut: iso(seoul(WED, 17)), minutes: 450 });
    expect(await audited('telework.attendance.resume')).toHaveLength(1);
    expect(await audited('telework.attendance.check-out')).toHaveLength(2);
  });

  it('follows a token refreshed for another org: the old org’s day closes, the new one’s opens', async () => {
    await start();
    clock.set(seoul(WED, 9, 5));
    const socket = await connect(await person('at-fay'));
    await until(
      () => daysOf('at-fay'),
      (d) => d.length === 1,
    );
    clock.set(seoul(WED, 11));
    const other = await server.token({ name: 'Fay', sub: 'at-fay', role: 'member', org: 'other', site: 'hq' });
    await call(socket, 'system:auth', { token: other });
    await until(
      () => daysOf('at-fay'),
      (d) => d[0]?.lastOut === iso(seoul(WED, 11)),
    );
    const otherAdmin = await server.token({ name: 'Admin', sub: 'at-admin', role: 'admin', org: 'other' });
    const theirs = await until(
      () => days(otherAdmin),
      (a) => a.body.days.length === 1,
    );
    expect(theirs.body.days).toMatchObject([{ sub: 'at-fay', firstIn: iso(seoul(WED, 11)), lastOut: null }]);
  });

  it('records nothing on a public holiday', async () => {
    await start();
    const holiday = await api(server, 'PUT', `/telework/holidays/${WED}`, admin, { name: 'Founding day' });
    expect(holiday.status).toBe(201);
    clock.set(seoul(WED, 10));
    await connect(await person('at-dave'));
    clock.set(seoul(THU, 9, 5));
    // the connection stays open: Thursday opens for it once it is located, Wednesday never did
    await until(
      () => server.app.scheduler.runDue(JOB),
      (n) => n === 1,
    );
    expect((await daysOf('at-dave', WED, THU)).map((d) => d.day)).toEqual([THU]);
  });
});

describe('attendance against approved plans', () => {
  it('flags a day at another site than the approved one until the person arrives there, and lists approved days without attendance as absent', async () => {
    await start();
    for (const [sub, body] of [
      ['at-boss', { name: 'Boss' }],
      ['at-erin', { name: 'Erin', manager: 'at-boss' }],
    ] as const)
      expect((await api(server, 'PUT', `/telework/directory/${sub}`, admin, body)).status).toBe(201);
    const erin = await person('at-erin');
    const boss = await person('at-boss', { role: 'manager' });
    const applied = await api<{ request: { id: string } }>(server, 'POST', '/telework/requests', erin, {
      days: [WED, THU],
      type: 'home',
      siteId: 'home',
      tasks: ['Quarterly report'],
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const id = applied.body.request.id;
    expect((await api(server, 'POST', `/approvals/${id}/approve`, boss, {})).status).toBe(200);
    await until(
      () => server.app.teleworkRequests.planOn('acme', 'at-erin', THU),
      (plan) => plan !== undefined,
    );
    // Wednesday: at HQ (declared) although home was approved
    clock.set(seoul(WED, 9, 5));
    const socket = await connect(erin);
    await until(
      () => daysOf('at-erin'),
      (d) => d.length === 1,
    );
    expect(await daysOf('at-erin')).toMatchObject([{ siteId: 'hq', flags: ['not-at-approved-place'] }]);
    // then from home, her approved place: that is her check-in, and the day moves there
    clock.set(seoul(WED, 9, 30));
    const fromHome = await connect(await person('at-erin', { site: 'home' }));
    await until(
      () => daysOf('at-erin'),
      (d) => d[0]?.siteId === 'home',
    );
    expect(await daysOf('at-erin')).toMatchObject([
      { siteId: 'home', source: 'declared', firstIn: iso(seoul(WED, 9, 30)), flags: ['late'], lastOut: null },
    ]);
    fromHome.disconnect();
    socket.disconnect();
    // Thursday before the working day begins: not absent yet; after: absent
    clock.set(seoul(THU, 8));
    expect((await days(boss, WED, THU, 'at-erin')).body.days.map((d) => d.status)).toEqual(['present']);
    clock.set(seoul(THU, 10));
    expect((await days(boss, WED, THU, 'at-erin')).body.days).toMatchObject([
      { status: 'present', day: WED },
      { status: 'absent', sub: 'at-erin', day: THU, siteId: 'home', requestId: id },
    ]);
    expect((await days(erin, WED, THU)).body.days.map((d) => d.status)).toEqual(['present', 'absent']);
    // an admin's whole-org view lists the absence too (the org's approved days, one look per day)
    expect((await days(admin, WED, THU)).body.days).toMatchObject([
      { status: 'present', sub: 'at-erin', day: WED },
      { status: 'absent', sub: 'at-erin', day: THU },
    ]);
  });
});

describe('who reads whose attendance', () => {
  it('lets a member read only their own, a manager their team’s or reports’, an admin everyone', async () => {
    await start();
    const tokens = {
      alice: await person('at-alice', { teams: ['blue'] }),
      bob: await person('at-bob', { teams: ['blue'] }),
      carol: await person('at-carol', { teams: ['red'] }),
      dave: await person('at-dave', { teams: ['green'] }),
      lead: await person('at-lead', { role: 'manager', teams: ['blue'] }),
      boss: await person('at-boss', { role: 'manager' }),
    };
    const evil = await server.token({ name: 'Evil', sub: 'at-evil', role: 'admin', org: 'evil' });
    // the directory: dave reports to boss (who has no team on their token)
    for (const [sub, body] of [
      ['at-boss', { name: 'Boss' }],
      ['at-dave', { name: 'Dave', manager: 'at-boss' }],
    ] as const)
      expect((await api(server, 'PUT', `/telework/directory/${sub}`, admin, body)).status).toBe(201);
    clock.set(seoul(WED, 9, 5));
    for (const sub of ['alice', 'bob', 'carol', 'dave'] as const) await connect(tokens[sub]);
    await until(
      () => days(admin),
      (a) => a.body.days.length === 4,
    );
    const subsOf = (a: Answer<AttendanceResponse>) => a.body.days.map((d) => d.sub);
    const forbidden = { status: 403, body: { error: { code: 'FORBIDDEN' } } };

    expect(await days(tokens.alice, WED, WED, 'at-bob')).toMatchObject(forbidden);
    expect(subsOf(await days(tokens.alice))).toEqual(['at-alice']);
    expect(subsOf(await days(tokens.alice, WED, WED, 'at-alice'))).toEqual(['at-alice']);

    expect(subsOf(await days(tokens.lead))).toEqual(['at-alice', 'at-bob']);
    expect(subsOf(await days(tokens.lead, WED, WED, 'at-bob'))).toEqual(['at-bob']);
    expect(await days(tokens.lead, WED, WED, 'at-carol')).toMatchObject(forbidden);
    expect(await days(tokens.lead, WED, WED, 'at-dave')).toMatchObject(forbidden);

    expect(subsOf(await days(tokens.boss))).toEqual(['at-dave']);
    expect(subsOf(await days(tokens.boss, WED, WED, 'at-dave'))).toEqual(['at-dave']);
    expect(await days(tokens.boss, WED, WED, 'at-alice')).toMatchObject(forbidden);

    expect(subsOf(await days(admin))).toEqual(['at-alice', 'at-bob', 'at-carol', 'at-dave']);
    expect(subsOf(await days(admin, WED, WED, 'at-carol'))).toEqual(['at-carol']);
    expect((await days(evil)).body.days).toEqual([]);
  });

  it('refuses malformed and too long ranges', async () => {
    await start();
    const bad = { status: 400, body: { error: { code: 'INVALID_PAYLOAD' } } };
    for (const query of [
      '',
      'from=2030-01-09',
      'from=2030-01-10&to=2030-01-09',
      'from=2030-13-01&to=2030-13-02',
      'from=2030-01-09&to=2030-01-09&sub=__proto__',
      'from=2030-01-09&to=2030-01-09&sub=',
      'from=2030-01-01&to=2030-06-30',
    ])
      expect(await api(server, 'GET', `/telework/attendance?${query}`, admin), query).toMatchObject(bad);
    expect(await api(server, 'GET', '/telework/attendance?from=2030-01-01&to=2030-01-31', 'nope')).toMatchObject({
      status: 401,
    });
  });
});
