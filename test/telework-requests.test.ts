/**
 * Telework requests over HTTP against a real server: applying makes a `telework-request`
 * approval submitted to the manager from the org directory, who is told in a chat DM and
 * approves; the plan of the day then answers; the quota per week (QUOTA_EXCEEDED), a duty that
 * excludes telework and a missing manager (NOT_ELIGIBLE), past days and holidays
 * (INVALID_PAYLOAD); an over-subscribed smart-work centre (2 seats, 4 applicants, one with
 * `pregnancy`) approves by priority and waitlists the rest, approvers see (audited) the
 * priority categories, and a cancellation promotes the next, who is told; a colleague can
 * neither read nor cancel someone's request.
 */
import type {
  ApprovalResponse,
  TeleworkRequest,
  TeleworkRequestListResponse,
  TeleworkRequestResponse,
} from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { auditOf, noticesOf, putPerson } from './approval-support.ts';
import { api as call, seoul, weekdays } from './telework-support.ts';

/** Monday 7 January 2030, 10:00 in Seoul. */
const clock = new ManualClock(seoul('2030-01-07', 10));
let server: TestServer;
const tokens = new Map<string, string>();
const token = (sub: string): string => {
  const t = tokens.get(sub);
  if (!t) throw new Error(`no token for ${sub}`);
  return t;
};
const PEOPLE = ['mgr', 'amy', 'ben', 'cal', 'dee', 'pia', 'qin', 'duty', 'lone', 'col'];

beforeAll(async () => {
  server = await startTestServer({ MOIM_TELEWORK_QUOTA_PER_WEEK: '3', MOIM_TELEWORK_QUOTA_PER_MONTH: '10' }, { clock });
  for (const sub of PEOPLE) tokens.set(sub, await server.token({ name: sub, sub, role: 'member', org: 'acme' }));
  const admin = await server.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'acme' });
  tokens.set('admin', admin);
  const centre = {
    name: 'Gangnam centre',
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: weekdays('08:00', '20:00'),
    networks: [],
    kind: 'smart-work-centre',
  };
  expect((await call(server, 'PUT', '/telework/sites/swc', admin, centre)).status).toBe(201);
  const seat = { kind: 'seat', name: 'Desk', tier: null, capacity: 1 };
  const room = { kind: 'meeting-room', name: 'Room', tier: 'standard', capacity: 6 };
  for (const id of ['desk-1', 'desk-2'])
    expect((await call(server, 'PUT', `/telework/sites/swc/places/${id}`, admin, seat)).status).toBe(201);
  expect((await call(server, 'PUT', '/telework/sites/swc/places/room-1', admin, room)).status).toBe(201);
  await putPerson(server, admin, 'mgr');
  for (const sub of ['amy', 'ben', 'cal', 'dee', 'qin', 'col']) await putPerson(server, admin, sub, { manager: 'mgr' });
  await putPerson(server, admin, 'pia', { manager: 'mgr', priorityCategories: ['pregnancy'] });
  await putPerson(server, admin, 'duty', { manager: 'mgr', dutyExcludesTelework: true });
  expect((await call(server, 'PUT', '/telework/holidays/2030-01-11', admin, { name: 'Founders day' })).status).toBe(
    201,
  );
});
afterAll(() => server.close());

const api = <T = TeleworkRequestResponse>(method: string, path: string, sub: string, body?: unknown) =>
  call<T>(server, method, path, token(sub), body);

const request = (days: string[], extra: Record<string, unknown> = {}) => ({
  days,
  type: 'home',
  siteId: 'home',
  tasks: ['Write the quarterly report'],
  ...extra,
});

async function apply(sub: string, body: unknown): Promise<TeleworkRequest> {
  const answer = await api('POST', '/telework/requests', sub, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.request;
}

describe('telework requests over HTTP', () => {
  it('submits a request to the manager, who is told in chat and approves; the plan answers', async () => {
    const mgr = await server.connect(token('mgr'));
    const req = await apply('qin', request(['2030-01-08'], { tasks: ['Code review', 'Design doc'] }));
    expect(req).toMatchObject({
      applicant: 'qin',
      type: 'home',
      siteId: 'home',
      placeId: null,
      days: ['2030-01-08'],
      tasks: ['Code review', 'Design doc'],
      dayStatus: [{ day: '2030-01-08', status: 'pending', waitlistPosition: null }],
      approval: { kind: 'telework-request', status: 'pending', applicant: 'qin' },
    });
    expect(req.approval.steps.map((s) => [s.approver, s.status])).toEqual([['mgr', 'pending']]);
    const notice = (await noticesOf(mgr)).at(-1);
    expect(notice?.sender).toBe('moim');
    expect(notice?.text).toContain('qin asks for your approval');
    expect(notice?.text).toContain(`#/approvals/${req.id}`);
    expect(await server.app.teleworkRequests.planOn('acme', 'qin', '2030-01-08')).toBeUndefined();

    expect((await api('POST', `/approvals/${req.id}/approve`, 'mgr', { comment: 'Enjoy' })).status).toBe(200);
    const read = await api('GET', `/telework/requests/${req.id}`, 'qin');
    expect(read.body.request.dayStatus).toEqual([{ day: '2030-01-08', status: 'approved', waitlistPosition: null }]);
    expect(read.body.priorityCategories).toBeUndefined();
    expect(await server.app.teleworkRequests.planOn('acme', 'qin', '2030-01-08')).toEqual({
      requestId: req.id,
      type: 'home',
      siteId: 'home',
      placeId: undefined,
      tasks: ['Code review', 'Design doc'],
    });
    const mine = await api<TeleworkRequestListResponse>('GET', '/telework/requests/mine', 'qin');
    expect(mine.body.requests.map((r) => r.id)).toContain(req.id);
    mgr.disconnect();
  });

  it('refuses a week over the quota', async () => {
    await apply('amy', request(['2030-01-14', '2030-01-15']));
    const over = await api('POST', '/telework/requests', 'amy', request(['2030-01-16', '2030-01-17']));
    expect(over).toMatchObject({ status: 413, body: { error: { code: 'QUOTA_EXCEEDED' } } });
    expect(over.body.error?.message).toContain('week of 2030-01-14');
    // the refused request left nothing behind; one more day still fits
    await apply('amy', request(['2030-01-16']));
    expect((await api('POST', '/telework/requests', 'amy', request(['2030-01-18']))).body.error?.code).toBe(
      'QUOTA_EXCEEDED',
    );
    // the same day twice is refused; the next week is another week
    expect(
      (await api('POST', '/telework/requests', 'amy', request(['2030-01-21', '2030-01-14']))).body.error?.code,
    ).toBe('CONFLICT');
    await apply('amy', request(['2030-01-21']));
  });

  it('refuses people whose duty excludes telework or who have no manager, past days and holidays', async () => {
    expect(await api('POST', '/telework/requests', 'duty', request(['2030-01-08']))).toMatchObject({
      status: 403,
      body: { error: { code: 'NOT_ELIGIBLE' } },
    });
    expect((await api('POST', '/telework/requests', 'lone', request(['2030-01-08']))).body.error?.code).toBe(
      'NOT_ELIGIBLE',
    );
    for (const [bad, why] of [
      [request(['2030-01-06']), 'past'],
      [request(['2030-01-11']), 'holiday'],
      [request(['2030-01-08'], { siteId: 'swc' }), 'home at a centre'],
      [request(['2030-01-08'], { type: 'smart-work-centre' }), 'a centre at home'],
      [request(['2030-01-08'], { tasks: [] }), 'no tasks'],
      [request(['2030-01-08', '2030-01-08']), 'a day twice'],
      [request(['2030-01-08'], { siteId: '__proto__' }), 'prototype'],
      [request(['2030-01-08'], { sub: 'ben' }), 'someone else'],
    ] as const) {
      const answer = await api('POST', '/telework/requests', 'ben', bad);
      expect(answer.body.error?.code, why).toBe('INVALID_PAYLOAD');
    }
    expect(
      (await api('POST', '/telework/requests', 'ben', request(['2030-01-08'], { siteId: 'nope', type: 'mobile' }))).body
        .error?.code,
    ).toBe('NOT_FOUND');
  });

  it('gives an over-subscribed centre’s seats by priority, waitlists the rest, and promotes on a cancellation', async () => {
    const day = '2030-01-09';
    const body = request([day], { type: 'smart-work-centre', siteId: 'swc' });
    const ids = new Map<string, string>();
    for (const sub of ['ben', 'cal', 'dee', 'pia']) {
      ids.set(sub, (await apply(sub, body)).id);
      clock.advance(1000); // apply in this order
    }
    const id = (sub: string): string => ids.get(sub) ?? '';
    // the approver sees pia's priority category, and that read is audited
    const seen = await api('GET', `/telework/requests/${id('pia')}`, 'mgr');
    expect(seen.body.priorityCategories).toEqual(['pregnancy']);
    expect((await auditOf(server, 'telework.priority.read', 'pia')).at(-1)).toMatchObject({
      actor: 'mgr',
      detail: { request: id('pia'), role: 'approver' },
    });
    for (const sub of ['ben', 'cal', 'dee', 'pia'])
      expect((await api('POST', `/approvals/${id(sub)}/approve`, 'mgr', {})).status).toBe(200);
    await server.app.teleworkRequests.idle();
    const dayOf = async (sub: string) =>
      (await api('GET', `/telework/requests/${id(sub)}`, sub)).body.request.dayStatus[0];
    // pia (priority) and ben (first) get the two seats; cal and dee wait in request order
    expect(await dayOf('pia')).toEqual({ day, status: 'approved', waitlistPosition: null });
    expect(await dayOf('ben')).toEqual({ day, status: 'approved', waitlistPosition: null });
    expect(await dayOf('cal')).toEqual({ day, status: 'waitlisted', waitlistPosition: 1 });
    expect(await dayOf('dee')).toEqual({ day, status: 'waitlisted', waitlistPosition: 2 });
    expect(await server.app.teleworkRequests.planOn('acme', 'cal', day)).toBeUndefined();
    expect((await server.app.teleworkRequests.planOn('acme', 'pia', day))?.siteId).toBe('swc');

    // ben cancels: cal moves up and is told; dee is next
    const cal = await server.connect(token('cal'));
    const cancelled = await api('POST', `/telework/requests/${id('ben')}/cancel`, 'ben', {});
    expect(cancelled.body.request.dayStatus).toEqual([{ day, status: 'cancelled', waitlistPosition: null }]);
    expect(await dayOf('cal')).toEqual({ day, status: 'approved', waitlistPosition: null });
    expect(await dayOf('dee')).toEqual({ day, status: 'waitlisted', waitlistPosition: 1 });
    expect((await noticesOf(cal)).at(-1)?.text).toContain(`your telework on ${day} is approved`);
    expect(await auditOf(server, 'telework.request.promote', id('cal'))).toHaveLength(1);
    // the approved document itself stays as it was decided
    expect((await api<ApprovalResponse>('GET', `/approvals/${id('ben')}`, 'ben')).body.approval.status).toBe(
      'approved',
    );
    cal.disconnect();
  });

  it('keeps a request from colleagues: they neither read nor cancel it', async () => {
    const req = await apply('ben', request(['2030-01-10']));
    expect(await api('GET', `/telework/requests/${req.id}`, 'col')).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN' } },
    });
    expect((await api('GET', `/approvals/${req.id}`, 'col')).body.error?.code).toBe('FORBIDDEN');
    expect((await api('POST', `/telework/requests/${req.id}/cancel`, 'col', {})).body.error?.code).toBe('FORBIDDEN');
    expect((await api('GET', `/telework/requests/${req.id}`, 'admin')).status).toBe(200);
    // the applicant cancels the pending request as a whole
    const cancelled = await api('POST', `/telework/requests/${req.id}/cancel`, 'ben', {});
    expect(cancelled.body.request.approval.status).toBe('cancelled');
    expect(cancelled.body.request.dayStatus[0]?.status).toBe('cancelled');
    expect((await api('POST', `/approvals/${req.id}/approve`, 'mgr', {})).body.error?.code).toBe('ALREADY_DECIDED');
    expect((await api('GET', '/telework/requests/mine', 'col')).body).toEqual({ requests: [] });
  });
});
