/**
 * Work reports over HTTP against a real server: a telework request approved by the manager opens
 * the day's report (its document made from a template listing the planned tasks); only the
 * author, their managers (direct and indirect) and admins read it — a colleague with a wildcard
 * document grant can neither read the report nor open its document over `/yjs` or HTTP; the
 * author submits, the manager is told in chat and reviews with a comment (once); a report still
 * due when its day ends is overdue and its author reminded once when the clock moves; routine
 * duties need none; a day without approved telework has none; summaries count per person.
 */
import type { WorkReport, WorkReportListResponse, WorkReportResponse, WorkReportSummary } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { REMIND_JOB } from '../server/src/telework/WorkReports.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { noticesOf, putPerson } from './approval-support.ts';
import { destroyAllRaw, openRaw } from './docs-support.ts';
import { api as call, seoul } from './telework-support.ts';

/** Monday 7 January 2030, 10:00 in Seoul. */
const clock = new ManualClock(seoul('2030-01-07', 10));
let server: TestServer;
const tokens = new Map<string, string>();
const token = (sub: string): string => tokens.get(sub) ?? '';

beforeAll(async () => {
  server = await startTestServer({}, { clock });
  for (const sub of ['boss', 'mgr', 'amy', 'col', 'rut'])
    tokens.set(sub, await server.token({ name: sub, sub, role: 'member', org: 'acme' }));
  tokens.set('admin', await server.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'acme' }));
  await putPerson(server, token('admin'), 'boss');
  await putPerson(server, token('admin'), 'mgr', { manager: 'boss' });
  for (const sub of ['amy', 'col']) await putPerson(server, token('admin'), sub, { manager: 'mgr' });
  const routine = await call(server, 'PUT', '/telework/directory/rut', token('admin'), {
    name: 'rut',
    manager: 'mgr',
    routineDuties: true,
  });
  expect(routine.status).toBe(201);
});
afterAll(async () => {
  destroyAllRaw();
  await server.close();
});

const api = <T = WorkReportResponse>(method: string, path: string, sub: string, body?: unknown) =>
  call<T>(server, method, path, token(sub), body);

/** Apply for home telework on `day` and have the manager approve it. */
async function approvedDay(sub: string, day: string, tasks: string[]): Promise<void> {
  const applied = await api<{ request: { id: string } }>('POST', '/telework/requests', sub, {
    days: [day],
    type: 'home',
    siteId: 'home',
    tasks,
  });
  expect(applied.status, JSON.stringify(applied.body)).toBe(201);
  expect((await api('POST', `/approvals/${applied.body.request.id}/approve`, 'mgr', {})).status).toBe(200);
  await server.app.teleworkRequests.idle();
}

async function reportOf(sub: string, day: string): Promise<WorkReport | undefined> {
  for (let i = 0; i < 100; i++) {
    const listed = await api<WorkReportListResponse>('GET', `/telework/reports?from=${day}&to=${day}`, sub);
    const found = listed.body.reports[0];
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

describe('work reports', () => {
  let report: WorkReport;

  it('an approved day opens its report, whose document lists the planned tasks', async () => {
    await approvedDay('amy', '2030-01-08', ['예산안 검토', 'Draft the Q1 plan']);
    const found = await reportOf('amy', '2030-01-08');
    expect(found).toMatchObject({
      sub: 'amy',
      day: '2030-01-08',
      siteId: 'home',
      tasks: ['예산안 검토', 'Draft the Q1 plan'],
      status: 'due',
      overdue: false,
      comments: [],
    });
    report = found as WorkReport;
    expect(report.docName).toBe(`report.${report.id}`);
    const exported = await api<{ text?: string; fields?: Record<string, string> }>(
      'GET',
      `/docs/${report.docName}/export?format=json`,
      'amy',
    );
    expect(exported.status).toBe(200);
    expect(JSON.stringify(exported.body)).toContain('예산안 검토');
    // opening it again by hand is the same report
    const again = await api('POST', '/telework/reports', 'amy', { day: '2030-01-08' });
    expect(again.status).toBe(200);
    expect(again.body.report.id).toBe(report.id);
  });

  it('only the author, their managers and admins read it; a colleague cannot open its document', async () => {
    for (const sub of ['amy', 'mgr', 'boss', 'admin'])
      expect((await api('GET', `/telework/reports/${report.id}`, sub)).status, sub).toBe(200);
    expect((await api('GET', `/telework/reports/${report.id}`, 'col')).body.error?.code).toBe('FORBIDDEN');
    expect((await api('GET', '/telework/reports?from=2030-01-01&to=2030-01-31&sub=amy', 'col')).body.error?.code).toBe(
      'FORBIDDEN',
    );
    const own = await api<WorkReportListResponse>('GET', '/telework/reports?from=2030-01-01&to=2030-01-31', 'col');
    expect(own.body.reports).toEqual([]);
    const team = await api<WorkReportListResponse>('GET', '/telework/reports?from=2030-01-01&to=2030-01-31', 'mgr');
    expect(team.body.reports.map((r) => r.sub)).toEqual(['amy']);
    // the colleague's token grants every document ('*'): the report's guard still refuses
    expect((await api('GET', `/docs/${report.docName}/export?format=json`, 'col')).body.error?.code).toBe('FORBIDDEN');
    const docs = await api<{ docs: Array<{ name: string }> }>('GET', '/docs', 'col');
    expect(docs.body.docs.map((d) => d.name)).not.toContain(report.docName);
    const raw = openRaw(server.url, report.docName, token('col'));
    expect((await raw.closed).code).toBe(4403);
    const mine = openRaw(server.url, report.docName, token('amy'));
    await mine.opened;
    mine.ws.close();
  });

  it('the author submits (the manager is told), the manager reviews with a comment, once', async () => {
    const mgrSocket = await server.connect(token('mgr'));
    const amySocket = await server.connect(token('amy'));
    expect((await api('POST', `/telework/reports/${report.id}/review`, 'mgr', {})).body.error?.code).toBe(
      'ALREADY_DECIDED',
    );
    expect((await api('POST', `/telework/reports/${report.id}/submit`, 'mgr')).body.error?.code).toBe('FORBIDDEN');
    const submitted = await api('POST', `/telework/reports/${report.id}/submit`, 'amy');
    expect(submitted.body.report).toMatchObject({
      status: 'submitted',
      submittedAt: new Date(clock.now()).toISOString(),
    });
    expect((await noticesOf(mgrSocket)).at(-1)?.text).toContain('Work report submitted: amy (2030-01-08)');
    expect((await api('POST', `/telework/reports/${report.id}/review`, 'amy', {})).body.error?.code).toBe('FORBIDDEN');
    const reviewed = await api('POST', `/telework/reports/${report.id}/review`, 'mgr', { comment: '수고했어요' });
    expect(reviewed.body.report).toMatchObject({ status: 'reviewed', reviewedBy: 'mgr' });
    expect(reviewed.body.report.comments.map((c) => [c.author, c.text])).toEqual([['mgr', '수고했어요']]);
    expect((await api('POST', `/telework/reports/${report.id}/review`, 'boss', {})).body.error?.code).toBe(
      'ALREADY_DECIDED',
    );
    expect((await noticesOf(amySocket)).at(-1)?.text).toContain('was reviewed');
    const replied = await api('POST', `/telework/reports/${report.id}/comments`, 'amy', { text: 'Thanks!' });
    expect(replied.body.report.comments).toHaveLength(2);
    expect((await api('POST', `/telework/reports/${report.id}/comments`, 'col', { text: 'x' })).body.error?.code).toBe(
      'FORBIDDEN',
    );
    mgrSocket.disconnect();
    amySocket.disconnect();
  });

  it('a report still due when its day ends is overdue; its author is reminded once', async () => {
    await approvedDay('amy', '2030-01-09', ['Interviews']);
    const due = await reportOf('amy', '2030-01-09');
    expect(due?.status).toBe('due');
    const amySocket = await server.connect(token('amy'));
    expect(await server.app.scheduler.runDue(REMIND_JOB)).toBe(0);
    clock.set(seoul('2030-01-10', 0, 1)); // one minute after the day ended in Seoul
    expect(await server.app.scheduler.runDue(REMIND_JOB)).toBe(1);
    expect(await server.app.scheduler.runDue(REMIND_JOB)).toBe(0);
    expect((await noticesOf(amySocket)).at(-1)?.text).toContain('2030-01-09 is overdue');
    expect((await api('GET', `/telework/reports/${due?.id}`, 'amy')).body.report.overdue).toBe(true);
    const week = await api<WorkReportSummary>('GET', '/telework/reports/summary?period=week&date=2030-01-09', 'mgr');
    expect(week.body).toEqual({
      period: 'week',
      from: '2030-01-07',
      to: '2030-01-13',
      people: [{ sub: 'amy', due: 1, submitted: 0, reviewed: 1, overdue: 1 }],
    });
    const own = await api<WorkReportSummary>('GET', '/telework/reports/summary?period=month&date=2030-01-09', 'col');
    expect(own.body).toMatchObject({ from: '2030-01-01', to: '2030-01-31', people: [] });
    amySocket.disconnect();
  });

  it('routine duties need no report; a day without approved telework has none; bad input is refused', async () => {
    await approvedDay('rut', '2030-01-14', ['Front desk']);
    expect((await api('POST', '/telework/reports', 'rut', { day: '2030-01-14' })).body.error?.code).toBe(
      'NOT_ELIGIBLE',
    );
    expect(await reportOfNow('rut', '2030-01-14')).toBeUndefined();
    expect((await api('POST', '/telework/reports', 'col', { day: '2030-01-15' })).body.error?.code).toBe(
      'NOT_APPROVED',
    );
    expect((await api('GET', '/telework/reports/__proto__', 'amy')).body.error?.code).toBe('INVALID_PAYLOAD');
    expect((await api('GET', '/telework/reports?from=2030-02-01&to=2030-01-01', 'amy')).body.error?.code).toBe(
      'INVALID_PAYLOAD',
    );
    expect((await api('GET', '/telework/reports/summary?period=year&date=2030-01-01', 'amy')).body.error?.code).toBe(
      'INVALID_PAYLOAD',
    );
    expect((await api('POST', '/telework/reports', 'amy', { day: '2030-01-08', extra: 1 })).body.error?.code).toBe(
      'INVALID_PAYLOAD',
    );
  });
});

async function reportOfNow(sub: string, day: string): Promise<WorkReport | undefined> {
  const listed = await api<WorkReportListResponse>('GET', `/telework/reports?from=${day}&to=${day}`, sub);
  return listed.body.reports[0];
}
