/**
 * The client SDK's telework request, approval, work report and dashboard clients against a real
 * server on a moved clock (Monday 7 January 2030, 10:00 in Seoul): a member applies through
 * `client.teleworkRequests`, the manager finds it in `client.approvals.inbox()` with the applicant's
 * priority categories, comments and approves; a second approve is ALREADY_DECIDED, a colleague is
 * FORBIDDEN; an over-subscribed centre waitlists and a cancellation promotes; a rejection carries
 * its comment; delegations put a document in the delegate's inbox; the day's report is opened,
 * submitted, reviewed with a comment and counted in the summary; the dashboard, its CSV and
 * attendance answer in scope; values that cannot be ids, people or days never reach the server;
 * the SDK's zod-free constants equal the protocol's.
 */
import {
  APPROVAL_STATUSES,
  Approvals,
  connect,
  DASHBOARD_STATUSES,
  devToken,
  type MoimClient,
  MoimError,
  PRIORITY_CATEGORIES,
  REQUEST_DAY_STATUSES,
  TELEWORK_TYPES,
  TELEWORK_WORKFLOW_LIMITS,
  TeleworkDashboard,
  TeleworkRequests,
  WORK_REPORT_STATUSES,
  WorkReports,
} from '@moim/client-sdk';
import * as protocol from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { putPerson } from './approval-support.ts';
import { api, seoul, weekdays } from './telework-support.ts';

const clock = new ManualClock(seoul('2030-01-07', 10));
const ORG = 'sdk-flow';
let server: TestServer;
/** The manager, as an app holds them: a connected client. */
let mgr: MoimClient;

const tokenOf = async (sub: string, role: 'admin' | 'manager' | 'member' = 'member') =>
  (await devToken(server.url, { name: sub.toUpperCase(), sub, site: 'hq', role, org: ORG })).token;
const http = (sub: string, role: 'admin' | 'manager' | 'member' = 'member') => ({
  url: server.url,
  getToken: () => tokenOf(sub, role),
});
const requestsOf = (sub: string) => new TeleworkRequests(http(sub));
const approvalsOf = (sub: string) => new Approvals(http(sub));
const reportsOf = (sub: string) => new WorkReports(http(sub));

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MoimError);
  return (err as MoimError).code;
}

beforeAll(async () => {
  server = await startTestServer({ MOIM_TELEWORK_QUOTA_PER_WEEK: '5' }, { clock });
  const admin = await tokenOf('admin', 'admin');
  const centre = {
    name: '세종 스마트워크센터',
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: weekdays('08:00', '20:00'),
    networks: [],
    kind: 'smart-work-centre',
  };
  expect((await api(server, 'PUT', '/telework/sites/swc', admin, centre)).status).toBe(201);
  const seat = { kind: 'seat', name: 'Desk', tier: null, capacity: 1 };
  expect((await api(server, 'PUT', '/telework/sites/swc/places/desk-1', admin, seat)).status).toBe(201);
  await putPerson(server, admin, 'mgr');
  await putPerson(server, admin, 'dep');
  for (const sub of ['ben', 'cal', 'col']) await putPerson(server, admin, sub, { manager: 'mgr' });
  await putPerson(server, admin, 'amy', { manager: 'mgr', priorityCategories: ['young-children'] });
  mgr = await connect({ url: server.url, getToken: () => tokenOf('mgr', 'manager') });
});
afterAll(async () => {
  await mgr?.close();
  await server?.close();
});

describe('client SDK telework requests, approvals, reports and dashboard', () => {
  let amyRequest: string;

  it('a member applies; the manager finds it in the inbox with the priority categories, comments and approves', async () => {
    const amy = requestsOf('amy');
    const req = await amy.apply({
      days: ['2030-01-08'],
      type: 'home',
      siteId: 'home',
      tasks: ['예산안 검토', 'Q1 plan'],
    });
    amyRequest = req.id;
    expect(req).toMatchObject({
      applicant: 'amy',
      dayStatus: [{ day: '2030-01-08', status: 'pending', waitlistPosition: null }],
      approval: { kind: 'telework-request', status: 'pending' },
    });
    expect((await amy.mine()).map((r) => r.id)).toEqual([req.id]);

    const inbox = await mgr.approvals.inbox();
    expect(inbox.map((a) => [a.id, a.applicant, a.status])).toEqual([[req.id, 'amy', 'pending']]);
    const read = await mgr.teleworkRequests.get(req.id);
    expect(read.priorityCategories).toEqual(['young-children']);
    expect((await amy.get(req.id)).priorityCategories).toBeUndefined();

    const commented = await mgr.approvals.comment(req.id, 'Which budget?');
    expect(commented.comments.map((c) => [c.author, c.text])).toEqual([['mgr', 'Which budget?']]);
    const approved = await mgr.approvals.approve(req.id, { comment: '좋아요' });
    expect(approved.status).toBe('approved');
    expect(approved.steps.map((s) => [s.approver, s.status, s.comment])).toEqual([['mgr', 'approved', '좋아요']]);
    expect(await refusal(mgr.approvals.approve(req.id))).toBe('ALREADY_DECIDED');
    expect((await amy.get(req.id)).request.dayStatus).toEqual([
      { day: '2030-01-08', status: 'approved', waitlistPosition: null },
    ]);
    expect(await mgr.approvals.inbox()).toEqual([]);
    expect((await mgr.approvals.list({ role: 'approver', status: 'approved' })).approvals.map((a) => a.id)).toEqual([
      req.id,
    ]);
    // a colleague neither reads nor decides it
    expect(await refusal(requestsOf('col').get(req.id))).toBe('FORBIDDEN');
    expect(await refusal(approvalsOf('col').get(req.id))).toBe('FORBIDDEN');
  });

  it('an over-subscribed centre waitlists; a cancellation promotes; a rejection carries its comment', async () => {
    const body = { days: ['2030-01-09'], type: 'smart-work-centre' as const, siteId: 'swc', tasks: ['Field work'] };
    const ben = await requestsOf('ben').apply(body);
    clock.advance(1000);
    const cal = await requestsOf('cal').apply(body);
    for (const id of [ben.id, cal.id]) await mgr.approvals.approve(id);
    await server.app.teleworkRequests.idle();
    expect((await requestsOf('cal').get(cal.id)).request.dayStatus).toEqual([
      { day: '2030-01-09', status: 'waitlisted', waitlistPosition: 1 },
    ]);
    const cancelled = await requestsOf('ben').cancel(ben.id, ['2030-01-09']);
    expect(cancelled.dayStatus[0]?.status).toBe('cancelled');
    expect((await requestsOf('cal').get(cal.id)).request.dayStatus[0]?.status).toBe('approved');

    const col = await requestsOf('col').apply({ ...body, type: 'home', siteId: 'home' });
    const rejected = await mgr.approvals.reject(col.id, { comment: '이번 주는 어렵습니다' });
    expect(rejected.status).toBe('rejected');
    expect(rejected.steps[0]?.comment).toBe('이번 주는 어렵습니다');
    expect((await requestsOf('col').mine())[0]?.dayStatus[0]?.status).toBe('rejected');
  });

  it('delegates approvals for a date range: the delegate’s inbox holds the document until revoked', async () => {
    const delegation = await mgr.approvals.delegate({ to: 'dep', from: '2030-01-07', until: '2030-01-08' });
    expect(delegation).toMatchObject({ from: 'mgr', to: 'dep', fromDay: '2030-01-07', untilDay: '2030-01-08' });
    expect((await approvalsOf('dep').delegations()).received.map((d) => d.from)).toEqual(['mgr']);
    const req = await requestsOf('ben').apply({
      days: ['2030-01-10'],
      type: 'mobile',
      siteId: 'hq',
      tasks: ['Visits'],
    });
    expect((await approvalsOf('dep').inbox()).map((a) => a.id)).toEqual([req.id]);
    await mgr.approvals.revokeDelegation('dep');
    expect(await approvalsOf('dep').inbox()).toEqual([]);
    expect((await requestsOf('ben').cancel(req.id)).approval.status).toBe('cancelled');
  });

  it('opens the day’s report, submits it; the manager reviews it with a comment; the summary counts it', async () => {
    const amy = reportsOf('amy');
    expect(await refusal(amy.open('2030-01-14'))).toBe('NOT_APPROVED');
    const report = await amy.open('2030-01-08');
    expect(report).toMatchObject({ sub: 'amy', day: '2030-01-08', requestId: amyRequest, status: 'due' });
    expect(report.tasks).toEqual(['예산안 검토', 'Q1 plan']);
    expect(report.docName).toBe(`report.${report.id}`);
    expect((await mgr.workReports.list('2030-01-01', '2030-01-31', 'amy')).map((r) => r.id)).toEqual([report.id]);
    expect(await refusal(reportsOf('col').get(report.id))).toBe('FORBIDDEN');

    expect((await amy.submit(report.id)).status).toBe('submitted');
    const reviewed = await mgr.workReports.review(report.id, '수고했어요');
    expect(reviewed).toMatchObject({ status: 'reviewed', reviewedBy: 'mgr' });
    expect(reviewed.comments.map((c) => [c.author, c.text])).toEqual([['mgr', '수고했어요']]);
    expect((await amy.comment(report.id, 'Thanks')).comments.map((c) => c.text)).toEqual(['수고했어요', 'Thanks']);
    const summary = await mgr.workReports.summary('week', '2030-01-08');
    expect(summary).toMatchObject({ period: 'week', from: '2030-01-07', to: '2030-01-13' });
    expect(summary.people.find((p) => p.sub === 'amy')).toMatchObject({ reviewed: 1, overdue: 0 });
  });

  it('answers the dashboard, its CSV and attendance in the caller’s scope', async () => {
    const view = await mgr.dashboard.view('2030-01-08');
    expect(view).toMatchObject({ day: '2030-01-08', scope: 'team' });
    const amyRow = view.people.find((p) => p.sub === 'amy');
    expect(amyRow).toMatchObject({ expectedSiteId: 'home', expectedType: 'home' });
    const csv = await mgr.dashboard.csv('2030-01-08');
    expect(csv.split(/\r?\n/)[0]).toContain('sub');
    expect(csv).toContain('amy');
    expect(csv).not.toContain('young-children');
    const self = await new TeleworkDashboard(http('amy')).view('2030-01-08');
    expect(self.scope).toBe('self');
    expect(self.people.map((p) => p.sub)).toEqual(['amy']);
    expect(await mgr.dashboard.attendance('2030-01-07', '2030-01-08', 'amy')).toEqual([]);
    expect(await refusal(new TeleworkDashboard(http('col')).attendance('2030-01-07', '2030-01-08', 'amy'))).toBe(
      'FORBIDDEN',
    );
  });

  it('refuses values that cannot be ids, people or days before any request', async () => {
    const before = (await server.app.stores.audit.list({ limit: 10_000 })).length;
    const amy = requestsOf('amy');
    const codes = await Promise.all([
      refusal(amy.get('../bookings')),
      refusal(amy.cancel('not-a-uuid')),
      refusal(amy.apply({ days: ['tomorrow'], type: 'home', siteId: 'home', tasks: ['x'] })),
      refusal(mgr.approvals.approve('__proto__')),
      refusal(mgr.approvals.revokeDelegation('__proto__')),
      refusal(mgr.approvals.delegate({ to: 'a/b', from: '2030-01-07', until: '2030-01-08' })),
      refusal(mgr.workReports.list('2030-01-01', '2030-01-31', 'constructor')),
      refusal(mgr.workReports.open('2030-1-8')),
      refusal(mgr.workReports.summary('week', '../x')),
      refusal(mgr.dashboard.view('today')),
      refusal(mgr.dashboard.csv('2030-13-45x')),
    ]);
    expect(codes.every((c) => c === 'INVALID_PAYLOAD')).toBe(true);
    // nothing reached the server's audited paths
    expect((await server.app.stores.audit.list({ limit: 10_000 })).length).toBe(before);
  });

  it('keeps the SDK’s zod-free constants equal to the protocol’s', () => {
    expect(TELEWORK_TYPES).toEqual(protocol.TELEWORK_TYPES);
    expect(REQUEST_DAY_STATUSES).toEqual(protocol.REQUEST_DAY_STATUSES);
    expect(APPROVAL_STATUSES).toEqual(protocol.APPROVAL_STATUSES);
    expect(PRIORITY_CATEGORIES).toEqual(protocol.PRIORITY_CATEGORIES);
    expect(WORK_REPORT_STATUSES).toEqual(protocol.WORK_REPORT_STATUSES);
    expect(DASHBOARD_STATUSES).toEqual(protocol.DASHBOARD_STATUSES);
    expect(TELEWORK_WORKFLOW_LIMITS).toEqual({
      maxDays: protocol.TELEWORK_REQUEST_LIMITS.maxDays,
      maxTasks: protocol.TELEWORK_REQUEST_LIMITS.maxTasks,
      taskChars: protocol.TELEWORK_REQUEST_LIMITS.taskChars,
      commentChars: protocol.APPROVAL_LIMITS.commentChars,
    });
    expect(protocol.WORK_REPORT_LIMITS.commentChars).toBe(TELEWORK_WORKFLOW_LIMITS.commentChars);
  });
});
