/**
 * The approval engine over HTTP against a real server: a draft edited at its version, submitted
 * and approved step by step with comments; a rejection; nothing editable once decided
 * (ALREADY_DECIDED); an approver and a delegate deciding at once (exactly one wins); delegation
 * by date range (the decision and the audit say "by X for Y", a delegation outside its days does
 * not count); escalation by moving the clock; the approver's notice as a chat DM from moim; who
 * may read and list documents; and bad input refused at the edge.
 */
import type { Approval, ApprovalListResponse, ApprovalResponse, DelegationListResponse } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../server/src/storage/contract/backends.ts';
import { ESCALATION_JOB } from '../server/src/telework/Approvals.ts';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { auditOf, noticesOf, putPerson } from './approval-support.ts';
import { api as call, seoul } from './telework-support.ts';

const HOUR = 3_600_000;
/** Monday 7 January 2030, 10:00 in Seoul. */
const clock = new ManualClock(seoul('2030-01-07', 10));
let server: TestServer;
const tokens = new Map<string, string>();
const token = (sub: string): string => {
  const t = tokens.get(sub);
  if (!t) throw new Error(`no token for ${sub}`);
  return t;
};

beforeAll(async () => {
  server = await startTestServer(
    { MOIM_TELEWORK_ESCALATE_AFTER_HOURS: '48', MOIM_TELEWORK_APPROVAL_MAX_STEPS: '3' },
    { clock },
  );
  for (const sub of ['ann', 'bob', 'cat', 'eve', 'fay', 'boss', 'col'])
    tokens.set(sub, await server.token({ name: sub, sub, role: 'member', org: 'acme' }));
  tokens.set('admin', await server.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'acme' }));
  tokens.set('evil', await server.token({ name: 'Evil', sub: 'evil', role: 'admin', org: 'evil' }));
});
afterAll(() => server.close());

const api = <T = ApprovalResponse>(method: string, path: string, sub: string, body?: unknown) =>
  call<T>(server, method, path, token(sub), body);

async function submitted(approvers: string[], title = 'Buy a chair'): Promise<Approval> {
  const created = await api('POST', '/approvals', 'ann', { title, body: 'For the meeting room', approvers });
  expect(created.status).toBe(201);
  const sent = await api('POST', `/approvals/${created.body.approval.id}/submit`, 'ann');
  expect(sent.status).toBe(200);
  return sent.body.approval;
}

describe('approvals over HTTP', () => {
  it('takes a draft through edits, submission and two approvals with comments', async () => {
    const created = await api('POST', '/approvals', 'ann', { title: 'Chair', body: 'One', approvers: ['bob', 'cat'] });
    expect(created.status).toBe(201);
    const draft = created.body.approval;
    expect(draft).toMatchObject({ kind: 'document', applicant: 'ann', status: 'draft', version: 0, payload: null });
    expect(draft.steps.map((s) => [s.approver, s.status])).toEqual([
      ['bob', 'waiting'],
      ['cat', 'waiting'],
    ]);
    const path = `/approvals/${draft.id}`;
    // a draft is the applicant's alone
    expect((await api('GET', path, 'bob')).body.error?.code).toBe('FORBIDDEN');
    expect((await api('PATCH', path, 'bob', { version: 0, title: 'Mine' })).body.error?.code).toBe('FORBIDDEN');
    const edited = await api('PATCH', path, 'ann', { version: 0, title: 'Two chairs', body: 'Two' });
    expect(edited.body.approval).toMatchObject({ title: 'Two chairs', body: 'Two', version: 1 });
    expect(await api('PATCH', path, 'ann', { version: 0, title: 'Stale' })).toMatchObject({
      status: 409,
      body: { error: { code: 'CONFLICT' } },
    });
    expect((await api('POST', `${path}/approve`, 'bob', {})).body.error?.code).toBe('FORBIDDEN');

    const sent = await api('POST', `${path}/submit`, 'ann');
    expect(sent.body.approval).toMatchObject({ status: 'pending', version: 2 });
    expect(sent.body.approval.steps[0]).toMatchObject({
      status: 'pending',
      dueAt: new Date(clock.now() + 48 * HOUR).toISOString(),
    });
    expect((await api('PATCH', path, 'ann', { version: 2, title: 'Late' })).body.error?.code).toBe('CONFLICT');
    expect((await api('POST', `${path}/comments`, 'bob', { text: 'Why two?' })).status).toBe(201);
    expect((await api('POST', `${path}/comments`, 'ann', { text: 'Guests come' })).status).toBe(201);
    expect((await api('POST', `${path}/comments`, 'col', { text: 'Me too' })).body.error?.code).toBe('FORBIDDEN');
    // cat's step comes after bob's
    expect((await api('POST', `${path}/approve`, 'cat', {})).body.error?.code).toBe('FORBIDDEN');
    expect((await api('POST', `${path}/approve`, 'ann', {})).body.error?.code).toBe('FORBIDDEN');

    const first = await api('POST', `${path}/approve`, 'bob', { comment: 'Fine by me' });
    expect(first.body.approval.status).toBe('pending');
    expect(first.body.approval.steps.map((s) => s.status)).toEqual(['approved', 'pending']);
    expect(first.body.approval.steps[0]).toMatchObject({ decidedBy: 'bob', onBehalfOf: null, comment: 'Fine by me' });
    const second = await api('POST', `${path}/approve`, 'cat', { comment: 'OK', version: first.body.approval.version });
    expect(second.body.approval).toMatchObject({ status: 'approved', decidedAt: new Date(clock.now()).toISOString() });
    expect(second.body.approval.comments.map((c) => [c.author, c.text])).toEqual([
      ['bob', 'Why two?'],
      ['ann', 'Guests come'],
    ]);
    const read = await api('GET', path, 'cat');
    expect(read.body.approval).toEqual(second.body.approval);

    // never editable after approval
    for (const [method, suffix, sub, body] of [
      ['PATCH', '', 'ann', { version: second.body.approval.version, title: 'Three chairs' }],
      ['POST', '/comments', 'ann', { text: 'One more thing' }],
      ['POST', '/approve', 'cat', {}],
      ['POST', '/reject', 'bob', {}],
      ['POST', '/cancel', 'ann', undefined],
      ['POST', '/submit', 'ann', undefined],
    ] as const) {
      const answer = await api(method, `${path}${suffix}`, sub, body);
      expect(answer.status, `${method} ${suffix}`).toBe(409);
      expect(answer.body.error?.code, `${method} ${suffix}`).toBe('ALREADY_DECIDED');
    }
    expect((await api('GET', path, 'ann')).body.approval).toEqual(second.body.approval);
    const approvedBy = (await auditOf(server, 'approval.approve', draft.id)).map((e) => e.actor);
    expect(approvedBy).toEqual(['bob', 'cat']);
  });

  it('ends a document rejected at the first rejection; the applicant may cancel a pending one', async () => {
    const doc = await submitted(['bob', 'cat']);
    const rejected = await api('POST', `/approvals/${doc.id}/reject`, 'bob', { comment: 'Too expensive' });
    expect(rejected.body.approval).toMatchObject({ status: 'rejected' });
    expect(rejected.body.approval.steps.map((s) => s.status)).toEqual(['rejected', 'waiting']);
    expect((await api('POST', `/approvals/${doc.id}/approve`, 'cat', {})).body.error?.code).toBe('ALREADY_DECIDED');

    const other = await submitted(['bob']);
    expect((await api('POST', `/approvals/${other.id}/cancel`, 'bob')).body.error?.code).toBe('FORBIDDEN');
    expect((await api('POST', `/approvals/${other.id}/cancel`, 'ann')).body.approval.status).toBe('cancelled');
    expect((await api('POST', `/approvals/${other.id}/approve`, 'bob', {})).body.error?.code).toBe('ALREADY_DECIDED');
  });

  it('lets exactly one of an approver and their delegate deciding at once win', async () => {
    expect(
      (await api('PUT', '/approvals/delegations', 'bob', { to: 'eve', from: '2030-01-07', until: '2030-01-07' }))
        .status,
    ).toBe(200);
    for (let round = 0; round < 4; round++) {
      const doc = await submitted(['bob']);
      const [approve, reject] = await Promise.all([
        api('POST', `/approvals/${doc.id}/approve`, 'bob', {}),
        api('POST', `/approvals/${doc.id}/reject`, 'eve', {}),
      ]);
      const answers = [approve, reject];
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      const lost = answers.find((a) => a.status !== 200);
      expect(lost).toMatchObject({ status: 409, body: { error: { code: 'ALREADY_DECIDED' } } });
      const final = (await api('GET', `/approvals/${doc.id}`, 'ann')).body.approval;
      expect(final.status).toBe(approve.status === 200 ? 'approved' : 'rejected');
      expect(final.version).toBe(doc.version + 1);
    }
    expect((await api('DELETE', '/approvals/delegations/eve', 'bob')).status).toBe(200);
  });

  it('lets a delegate decide for the approver within the delegation’s days only, and audits it', async () => {
    const put = await api('PUT', '/approvals/delegations', 'cat', {
      to: 'fay',
      from: '2030-01-07',
      until: '2030-01-08',
    });
    expect(put.body).toMatchObject({
      delegation: { from: 'cat', to: 'fay', startsAt: '2030-01-06T15:00:00.000Z', endsAt: '2030-01-08T15:00:00.000Z' },
    });
    // a later delegation to eve does not count yet
    await api('PUT', '/approvals/delegations', 'cat', { to: 'eve', from: '2030-01-10', until: '2030-01-11' });
    const listed = await api<DelegationListResponse>('GET', '/approvals/delegations', 'cat');
    expect(listed.body.given.map((d) => d.to)).toEqual(['fay', 'eve']);
    expect(
      (await api<DelegationListResponse>('GET', '/approvals/delegations', 'fay')).body.received.map((d) => d.from),
    ).toEqual(['cat']);

    const fayChat = await server.connect(token('fay'));
    const doc = await submitted(['cat']);
    // the delegate is told, may read it; someone outside the delegation's days may not decide
    expect((await noticesOf(fayChat)).at(-1)?.text).toContain('asks cat (whom you stand in for) for approval');
    fayChat.disconnect();
    expect((await api('GET', `/approvals/${doc.id}`, 'fay')).status).toBe(200);
    expect((await api('POST', `/approvals/${doc.id}/approve`, 'eve', {})).body.error?.code).toBe('FORBIDDEN');
    const approved = await api('POST', `/approvals/${doc.id}/approve`, 'fay', { comment: 'for cat' });
    expect(approved.body.approval.steps[0]).toMatchObject({ status: 'approved', decidedBy: 'fay', onBehalfOf: 'cat' });
    const [entry] = await auditOf(server, 'approval.approve', doc.id);
    expect(entry).toMatchObject({ actor: 'fay', detail: { approver: 'cat', onBehalfOf: 'cat' } });

    // three days on, fay's delegation has ended and eve's begun
    clock.advance(3 * 24 * HOUR);
    try {
      const later = await submitted(['cat']);
      expect((await api('POST', `/approvals/${later.id}/approve`, 'fay', {})).body.error?.code).toBe('FORBIDDEN');
      expect((await api('POST', `/approvals/${later.id}/approve`, 'eve', {})).body.approval.steps[0]).toMatchObject({
        decidedBy: 'eve',
        onBehalfOf: 'cat',
      });
    } finally {
      clock.advance(-3 * 24 * HOUR);
    }
    expect((await api('DELETE', '/approvals/delegations/nobody', 'cat')).body.error?.code).toBe('NOT_FOUND');
    for (const bad of [
      { to: 'cat', from: '2030-01-07', until: '2030-01-08' },
      { to: 'fay', from: '2030-01-08', until: '2030-01-07' },
      { to: '__proto__', from: '2030-01-07', until: '2030-01-08' },
      { to: 'fay', from: '2030-1-7', until: '2030-01-08' },
    ])
      expect((await api('PUT', '/approvals/delegations', 'cat', bad)).body.error?.code, JSON.stringify(bad)).toBe(
        'INVALID_PAYLOAD',
      );
  });

  it('tells the approver in a chat DM from moim, with the link', async () => {
    const bob = await server.connect(token('bob'));
    const before = (await noticesOf(bob)).length;
    const doc = await submitted(['bob'], 'Conference trip');
    const notices = await noticesOf(bob);
    expect(notices.length).toBe(before + 1);
    const notice = notices.at(-1);
    expect(notice?.sender).toBe('moim');
    expect(notice?.text).toContain('ann asks for your approval: Conference trip');
    expect(notice?.text).toContain(`#/approvals/${doc.id}`);
    bob.disconnect();
  });

  it('escalates a step nobody decided within the deadline to the approver’s manager', async () => {
    const admin = token('admin');
    await putPerson(server, admin, 'boss');
    await putPerson(server, admin, 'bob', { manager: 'boss' });
    const boss = await server.connect(token('boss'));
    const doc = await submitted(['bob'], 'Budget 2030');
    clock.advance(48 * HOUR - 1);
    expect(await server.app.scheduler.runDue(ESCALATION_JOB)).toBe(0);
    clock.advance(1);
    try {
      expect(await server.app.scheduler.runDue(ESCALATION_JOB)).toBeGreaterThanOrEqual(1);
      const escalated = (await api('GET', `/approvals/${doc.id}`, 'boss')).body.approval;
      expect(escalated.steps[0]).toMatchObject({
        approver: 'boss',
        escalatedFrom: 'bob',
        status: 'pending',
        dueAt: new Date(clock.now() + 48 * HOUR).toISOString(),
      });
      expect(await auditOf(server, 'approval.escalate', doc.id)).toMatchObject([
        { actor: 'system', detail: { from: 'bob', to: 'boss' } },
      ]);
      const toBoss = (await noticesOf(boss)).filter((m) => m.text.includes('Budget 2030'));
      expect(toBoss).toHaveLength(1);
      expect(toBoss[0]?.text).toContain(`undecided by bob`);
      // bob no longer decides it; boss does, and running the job again changes nothing
      expect((await api('POST', `/approvals/${doc.id}/approve`, 'bob', {})).body.error?.code).toBe('FORBIDDEN');
      expect(await server.app.scheduler.runDue(ESCALATION_JOB)).toBe(0);
      expect((await api('POST', `/approvals/${doc.id}/approve`, 'boss', {})).body.approval.status).toBe('approved');
    } finally {
      clock.advance(-48 * HOUR);
      boss.disconnect();
    }
  });

  it('lets only the parties and org admins read a document, and lists by role', async () => {
    clock.advance(60_000); // the newest document of ann's
    const doc = await submitted(['cat'], 'Private matter');
    const path = `/approvals/${doc.id}`;
    expect(await api('GET', path, 'col')).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await api('GET', path, 'admin')).status).toBe(200);
    expect(await api('GET', path, 'evil')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await api('POST', `${path}/approve`, 'admin', {})).body.error?.code).toBe('FORBIDDEN');

    const mine = await api<ApprovalListResponse>('GET', '/approvals?role=applicant&status=pending&limit=1', 'ann');
    expect(mine.status).toBe(200);
    expect(mine.body.approvals.map((a) => a.id)).toEqual([doc.id]);
    expect(mine.body.nextCursor).not.toBeNull();
    const next = await api<ApprovalListResponse>(
      'GET',
      `/approvals?role=applicant&status=pending&limit=1&cursor=${mine.body.nextCursor}`,
      'ann',
    );
    expect(next.body.approvals).toHaveLength(1);
    expect(next.body.approvals.map((a) => a.id)).not.toContain(doc.id);
    expect(
      (await api<ApprovalListResponse>('GET', '/approvals?role=approver', 'cat')).body.approvals.map((a) => a.id),
    ).toContain(doc.id);
    expect((await api<ApprovalListResponse>('GET', '/approvals?role=approver', 'col')).body.approvals).toEqual([]);
    for (const q of ['role=boss', 'role=approver&limit=1000', 'role=applicant&cursor=x', 'status=pending'])
      expect((await api('GET', `/approvals?${q}`, 'ann')).body.error?.code, q).toBe('INVALID_PAYLOAD');
  });

  it('refuses bad input at the edge', async () => {
    for (const bad of [
      { title: '', approvers: ['bob'] },
      { title: 'x', approvers: [] },
      { title: 'x', approvers: ['bob', 'cat', 'eve', 'fay'] },
      { title: 'x', approvers: ['ann'] },
      { title: 'x', approvers: ['bob', 'bob'] },
      { title: 'x', approvers: ['constructor'] },
      { title: 'x', approvers: ['bob'], body: 'y'.repeat(20_001) },
      { title: 'x', approvers: ['bob'], kind: 'telework-request' },
    ])
      expect((await api('POST', '/approvals', 'ann', bad)).body.error?.code, JSON.stringify(bad).slice(0, 80)).toBe(
        'INVALID_PAYLOAD',
      );
    expect((await api('GET', '/approvals/__proto__', 'ann')).body.error?.code).toBe('INVALID_PAYLOAD');
    expect((await api('GET', '/approvals/00000000-0000-4000-8000-000000000000', 'ann')).body.error?.code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('approvals over HTTP on PostgreSQL', () => {
  it('lets exactly one of an approver and their delegate deciding at once win', async () => {
    const schema = uniqueSchema('approvals');
    const pgClock = new ManualClock(seoul('2030-01-07', 10));
    const pg = await startTestServer(
      { DATABASE_URL: TEST_DATABASE_URL, MOIM_DATABASE_SCHEMA: schema },
      { clock: pgClock },
    );
    try {
      const [ann, bob, eve] = await Promise.all(
        ['ann', 'bob', 'eve'].map((sub) => pg.token({ name: sub, sub, role: 'member', org: 'acme' })),
      );
      const as = (t: string | undefined, method: string, path: string, body?: unknown) =>
        call<ApprovalResponse>(pg, method, path, t ?? '', body);
      const delegated = await as(bob, 'PUT', '/approvals/delegations', {
        to: 'eve',
        from: '2030-01-07',
        until: '2030-01-07',
      });
      expect(delegated.status).toBe(200);
      for (let round = 0; round < 6; round++) {
        const created = await as(ann, 'POST', '/approvals', { title: `Round ${round}`, approvers: ['bob'] });
        const id = created.body.approval.id;
        expect((await as(ann, 'POST', `/approvals/${id}/submit`)).status).toBe(200);
        const answers = await Promise.all([
          as(bob, 'POST', `/approvals/${id}/approve`, {}),
          as(eve, 'POST', `/approvals/${id}/reject`, {}),
          as(bob, 'POST', `/approvals/${id}/reject`, {}),
          as(eve, 'POST', `/approvals/${id}/approve`, {}),
        ]);
        expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
        for (const lost of answers.filter((a) => a.status !== 200))
          expect(lost).toMatchObject({ status: 409, body: { error: { code: 'ALREADY_DECIDED' } } });
        const final = (await as(ann, 'GET', `/approvals/${id}`)).body.approval;
        expect(final.version).toBe(2);
        expect(['approved', 'rejected']).toContain(final.status);
      }
    } finally {
      await pg.close();
      await dropSchema(schema);
    }
  });
});
