/**
 * Attendance corrections against a real server: a person asks for a day to say other times; the
 * request is an approval of kind `attendance-correction` for their manager; approved, the day is
 * replaced (flagged `corrected`, lateness judged again, audited with the approval and who decided
 * it); rejected, nothing changes; times off the day, in the future or backwards are refused, and
 * someone without a manager cannot ask.
 */
import type { Approval, AttendanceResponse } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { auditOf, putPerson } from './approval-support.ts';
import { api as call, iso, seoul } from './telework-support.ts';

const DAY = '2030-01-07';
const clock = new ManualClock(seoul(DAY, 19));
let server: TestServer;
const tokens = new Map<string, string>();
const token = (sub: string) => tokens.get(sub) ?? '';

beforeAll(async () => {
  server = await startTestServer({}, { clock });
  for (const sub of ['mgr', 'amy', 'loner']) tokens.set(sub, await server.token({ name: sub, sub, org: 'acme' }));
  tokens.set('admin', await server.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'acme' }));
  await putPerson(server, token('admin'), 'mgr');
  await putPerson(server, token('admin'), 'amy', { manager: 'mgr' });
});
afterAll(() => server.close());

const ask = (sub: string, body: Record<string, unknown>) =>
  call<{ approval: Approval }>(server, 'POST', '/telework/attendance/corrections', token(sub), {
    day: DAY,
    siteId: 'hq',
    reason: 'Forgot to sign in: I was at my desk',
    ...body,
  });

const dayOf = async (sub: string) =>
  (await call<AttendanceResponse>(server, 'GET', `/telework/attendance?from=${DAY}&to=${DAY}`, token(sub))).body.days;

describe('attendance corrections', () => {
  it('an approved correction replaces the day, flagged corrected and audited with its approval', async () => {
    const asked = await ask('amy', { firstIn: iso(seoul(DAY, 9)), lastOut: iso(seoul(DAY, 18)) });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const approval = asked.body.approval;
    expect(approval).toMatchObject({ kind: 'attendance-correction', applicant: 'amy', status: 'pending' });
    expect(approval.steps.map((s) => s.approver)).toEqual(['mgr']);
    expect(await dayOf('amy')).toEqual([]);
    expect((await call(server, 'POST', `/approvals/${approval.id}/approve`, token('mgr'), {})).status).toBe(200);
    await expect
      .poll(async () => (await dayOf('amy'))[0], { timeout: 5000 })
      .toMatchObject({
        status: 'present',
        siteId: 'hq',
        firstIn: iso(seoul(DAY, 9)),
        lastOut: iso(seoul(DAY, 18)),
        minutes: 540,
        flags: ['corrected'],
      });
    const audit = await auditOf(server, 'telework.attendance.correct', `amy/${DAY}`);
    expect(audit.at(-1)).toMatchObject({ actor: 'mgr', detail: { approval: approval.id, siteId: 'hq' } });
  });

  it('judges lateness again; a rejected correction changes nothing', async () => {
    const late = await ask('amy', { firstIn: iso(seoul(DAY, 10)), lastOut: iso(seoul(DAY, 17)) });
    await call(server, 'POST', `/approvals/${late.body.approval.id}/approve`, token('mgr'), {});
    await expect
      .poll(async () => ((await dayOf('amy'))[0] as { flags?: string[] } | undefined)?.flags, { timeout: 5000 })
      .toEqual(['late', 'corrected']);
    const rejected = await ask('amy', { firstIn: iso(seoul(DAY, 8)), lastOut: iso(seoul(DAY, 18, 30)) });
    expect(
      (await call(server, 'POST', `/approvals/${rejected.body.approval.id}/reject`, token('mgr'), { comment: 'No' }))
        .status,
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect((await dayOf('amy'))[0]).toMatchObject({ firstIn: iso(seoul(DAY, 10)), minutes: 420 });
  });

  it('refuses times off the day, in the future or backwards, and a person without a manager', async () => {
    const code = async (sub: string, body: Record<string, unknown>) => (await ask(sub, body)).body.error?.code;
    expect(await code('amy', { firstIn: iso(seoul('2030-01-06', 9)), lastOut: iso(seoul(DAY, 18)) })).toBe(
      'INVALID_PAYLOAD',
    );
    expect(await code('amy', { firstIn: iso(seoul(DAY, 9)), lastOut: iso(seoul(DAY, 20)) })).toBe('INVALID_PAYLOAD');
    expect(await code('amy', { firstIn: iso(seoul(DAY, 18)), lastOut: iso(seoul(DAY, 9)) })).toBe('INVALID_PAYLOAD');
    expect(await code('amy', { siteId: 'nowhere', firstIn: iso(seoul(DAY, 9)), lastOut: iso(seoul(DAY, 18)) })).toBe(
      'NOT_FOUND',
    );
    expect(await code('loner', { firstIn: iso(seoul(DAY, 9)), lastOut: iso(seoul(DAY, 18)) })).toBe('NOT_ELIGIBLE');
  });
});
