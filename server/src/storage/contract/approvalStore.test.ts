/**
 * The ApprovalStore contract, run unchanged against every backend (SQLite, PostgreSQL): documents
 * with steps and comments, every transition conditional on the version read (of concurrent
 * deciders exactly one wins), escalation of overdue steps, delegations by time range, keyset
 * lists, and telework request days (quota windows, one open request per day, seats given in queue
 * order with undecided requests keeping their place) — and no lookup crossing organisations.
 */
import { describe, expect, it } from 'vitest';
import type { StoredApproval, StoredRequestDay } from '../ApprovalStore.ts';
import type { Stores } from '../index.ts';
import { BACKENDS, useStores } from './backends.ts';

const AT = 1_900_000_000_000;
const HOUR = 3_600_000;
let n = 0;
const uuid = (): string => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

const draft = (extra: Partial<StoredApproval> = {}): StoredApproval => ({
  org: 'acme',
  id: uuid(),
  kind: 'document',
  applicant: 'ann',
  title: 'Buy a chair',
  body: 'A good one',
  payload: { n: 1, tags: ['a'] },
  status: 'draft',
  steps: ['bob', 'cat'].map((approver) => ({
    approver,
    status: 'waiting' as const,
    decidedBy: null,
    onBehalfOf: null,
    decidedAt: null,
    comment: null,
    dueAt: null,
    escalatedFrom: null,
  })),
  comments: [],
  version: 0,
  createdAt: AT,
  updatedAt: AT,
  submittedAt: null,
  decidedAt: null,
  ...extra,
});

describe.each(BACKENDS)('approval store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('stores a document once with its steps, and keeps organisations apart', async () => {
    const a = stores.approvals;
    const doc = draft();
    await a.create(doc);
    expect(await a.get('acme', doc.id)).toEqual(doc);
    await expect(a.create(doc)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await a.get('evil', doc.id)).toBeUndefined();
    expect(await a.submit('evil', doc.id, 0, AT, AT + HOUR)).toBe(false);
    expect(await a.addComment('evil', doc.id, { author: 'x', text: 'hi', at: AT })).toBe(false);
    expect(await a.list('evil', { applicant: 'ann', limit: 10 })).toEqual([]);
  });

  it('edits a draft at its version only, submits it once, then only decides and comments', async () => {
    const a = stores.approvals;
    const doc = draft();
    await a.create(doc);
    const change = { title: 'Two chairs', body: 'Good ones', approvers: ['dan'] };
    expect(await a.updateDraft('acme', doc.id, 1, change, AT + 1)).toBe(false);
    expect(await a.updateDraft('acme', doc.id, 0, change, AT + 1)).toBe(true);
    const edited = await a.get('acme', doc.id);
    expect(edited).toMatchObject({ title: 'Two chairs', body: 'Good ones', version: 1, updatedAt: AT + 1 });
    expect(edited?.steps.map((s) => [s.approver, s.status])).toEqual([['dan', 'waiting']]);
    expect(await a.submit('acme', doc.id, 0, AT + 2, AT + HOUR)).toBe(false);
    expect(await a.submit('acme', doc.id, 1, AT + 2, AT + HOUR)).toBe(true);
    const submitted = await a.get('acme', doc.id);
    expect(submitted).toMatchObject({ status: 'pending', version: 2, submittedAt: AT + 2 });
    expect(submitted?.steps[0]).toMatchObject({ status: 'pending', dueAt: AT + HOUR });
    expect(await a.updateDraft('acme', doc.id, 2, change, AT + 3)).toBe(false);
    expect(await a.submit('acme', doc.id, 2, AT + 3, AT + HOUR)).toBe(false);
    expect(await a.addComment('acme', doc.id, { author: 'dan', text: 'Why two?', at: AT + 4 })).toBe(true);
    expect(await a.addComment('acme', doc.id, { author: 'ann', text: 'Guests', at: AT + 5 })).toBe(true);
    expect((await a.get('acme', doc.id))?.comments).toEqual([
      { author: 'dan', text: 'Why two?', at: AT + 4 },
      { author: 'ann', text: 'Guests', at: AT + 5 },
    ]);
    // a draft never submitted can be discarded; a submitted one not
    expect(await a.discardDraft('acme', doc.id)).toBe(false);
    const other = draft();
    await a.create(other);
    expect(await a.discardDraft('acme', other.id)).toBe(true);
    expect(await a.get('acme', other.id)).toBeUndefined();
  });

  it('decides steps in order: the next becomes pending, the last approves, nothing changes after', async () => {
    const a = stores.approvals;
    const doc = draft();
    await a.create(doc);
    await a.submit('acme', doc.id, 0, AT, AT + HOUR);
    const base = { decidedBy: 'bob', onBehalfOf: null, comment: 'fine', at: AT + 10, nextDueAt: AT + 2 * HOUR };
    expect(await a.decide('acme', doc.id, { ...base, version: 1, step: 1, decision: 'approved' })).toBe(false);
    expect(await a.decide('acme', doc.id, { ...base, version: 1, step: 0, decision: 'approved' })).toBe(true);
    let now = await a.get('acme', doc.id);
    expect(now).toMatchObject({ status: 'pending', version: 2, decidedAt: null });
    expect(now?.steps[0]).toMatchObject({ status: 'approved', decidedBy: 'bob', comment: 'fine', dueAt: null });
    expect(now?.steps[1]).toMatchObject({ status: 'pending', dueAt: AT + 2 * HOUR });
    const byDelegate = { ...base, decidedBy: 'eve', onBehalfOf: 'cat', comment: null, at: AT + 20 };
    expect(await a.decide('acme', doc.id, { ...byDelegate, version: 2, step: 1, decision: 'approved' })).toBe(true);
    now = await a.get('acme', doc.id);
    expect(now).toMatchObject({ status: 'approved', version: 3, decidedAt: AT + 20 });
    expect(now?.steps[1]).toMatchObject({
      status: 'approved',
      decidedBy: 'eve',
      onBehalfOf: 'cat',
      decidedAt: AT + 20,
    });
    expect(await a.decide('acme', doc.id, { ...base, version: 3, step: 1, decision: 'rejected' })).toBe(false);
    expect(await a.addComment('acme', doc.id, { author: 'ann', text: 'late', at: AT + 30 })).toBe(false);
    expect(await a.cancel('acme', doc.id, AT + 30)).toBe(false);

    const rejected = draft();
    await a.create(rejected);
    await a.submit('acme', rejected.id, 0, AT, AT + HOUR);
    expect(await a.decide('acme', rejected.id, { ...base, version: 1, step: 0, decision: 'rejected' })).toBe(true);
    expect(await a.get('acme', rejected.id)).toMatchObject({ status: 'rejected', decidedAt: AT + 10 });
    expect((await a.get('acme', rejected.id))?.steps[1]?.status).toBe('waiting');

    const cancelled = draft();
    await a.create(cancelled);
    expect(await a.cancel('acme', cancelled.id, AT + 1)).toBe(true);
    expect(await a.cancel('acme', cancelled.id, AT + 2)).toBe(false);
    expect(await a.get('acme', cancelled.id)).toMatchObject({ status: 'cancelled', version: 1 });
  });

  it('lets exactly one of many concurrent deciders of one step win', async () => {
    const a = stores.approvals;
    for (let round = 0; round < 3; round++) {
      const doc = draft();
      await a.create(doc);
      await a.submit('acme', doc.id, 0, AT, AT + HOUR);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          a.decide('acme', doc.id, {
            version: 1,
            step: 0,
            decision: i % 2 === 0 ? 'approved' : 'rejected',
            decidedBy: i < 4 ? 'bob' : 'eve',
            onBehalfOf: i < 4 ? null : 'bob',
            comment: `decider ${i}`,
            at: AT + i,
            nextDueAt: AT + HOUR,
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      const after = await a.get('acme', doc.id);
      expect(after?.version).toBe(2);
      expect(after?.steps[0]).toMatchObject({
        status: winner % 2 === 0 ? 'approved' : 'rejected',
        comment: `decider ${winner}`,
      });
      expect(after?.status).toBe(winner % 2 === 0 ? 'pending' : 'rejected');
    }
  });

  it('finds overdue steps and escalates each once', async () => {
    const a = stores.approvals;
    const doc = draft();
    await a.create(doc);
    await a.submit('acme', doc.id, 0, AT, AT + HOUR);
    const other = draft({ org: 'other' });
    await a.create(other);
    await a.submit('other', other.id, 0, AT, AT + 2 * HOUR);
    expect(await a.dueSteps(AT + HOUR - 1, 10)).toEqual([]);
    const due = await a.dueSteps(AT + 3 * HOUR, 10);
    expect(due).toEqual([
      { org: 'acme', id: doc.id, version: 1, step: 0, approver: 'bob' },
      { org: 'other', id: other.id, version: 1, step: 0, approver: 'bob' },
    ]);
    const change = { version: 1, step: 0, from: 'bob', to: 'boss', dueAt: AT + 5 * HOUR, at: AT + 3 * HOUR };
    expect(await a.escalate('acme', doc.id, change)).toBe(true);
    expect(await a.escalate('acme', doc.id, change)).toBe(false);
    expect(await a.escalate('acme', doc.id, { ...change, version: 2 })).toBe(false); // no longer bob's
    expect((await a.get('acme', doc.id))?.steps[0]).toMatchObject({
      approver: 'boss',
      escalatedFrom: 'bob',
      dueAt: AT + 5 * HOUR,
      status: 'pending',
    });
    // nobody above: the deadline moves and where it came from stays
    const again = { version: 2, step: 0, from: 'boss', to: 'boss', dueAt: AT + 9 * HOUR, at: AT + 6 * HOUR };
    expect(await a.escalate('acme', doc.id, again)).toBe(true);
    expect((await a.get('acme', doc.id))?.steps[0]).toMatchObject({ approver: 'boss', escalatedFrom: 'bob' });
    expect((await a.dueSteps(AT + 6 * HOUR, 10)).map((d) => d.org)).toEqual(['other']);
  });

  it('stores delegations by range, replaces them per pair, answers who delegates at an instant', async () => {
    const a = stores.approvals;
    const d = {
      from: 'bob',
      to: 'eve',
      fromDay: '2030-01-07',
      untilDay: '2030-01-08',
      startsAt: AT,
      endsAt: AT + 48 * HOUR,
    };
    await a.putDelegation('acme', d, AT);
    await a.putDelegation('acme', { ...d, from: 'cat' }, AT);
    expect(await a.delegatorsOf('acme', 'eve', AT)).toEqual(['bob', 'cat']);
    expect(await a.delegatorsOf('acme', 'eve', AT - 1)).toEqual([]);
    expect(await a.delegatorsOf('acme', 'eve', AT + 48 * HOUR)).toEqual([]);
    expect(await a.delegatorsOf('evil', 'eve', AT)).toEqual([]);
    await a.putDelegation('acme', { ...d, startsAt: AT + HOUR, untilDay: '2030-01-09' }, AT);
    expect(await a.delegatorsOf('acme', 'eve', AT)).toEqual(['cat']);
    expect(await a.listDelegations('acme', 'bob')).toEqual({
      given: [{ ...d, startsAt: AT + HOUR, untilDay: '2030-01-09' }],
      received: [],
    });
    expect((await a.listDelegations('acme', 'eve')).received.map((x) => x.from)).toEqual(['cat', 'bob']);
    expect(await a.deleteDelegation('acme', 'bob', 'eve')).toBe(true);
    expect(await a.deleteDelegation('acme', 'bob', 'eve')).toBe(false);
    expect(await a.delegatorsOf('acme', 'eve', AT + 2 * HOUR)).toEqual(['cat']);
  });

  it('lists by applicant or approvers, by status, newest first in keyset pages', async () => {
    const a = stores.approvals;
    const docs = Array.from({ length: 5 }, (_, i) => draft({ createdAt: AT + Math.floor(i / 2), updatedAt: AT }));
    for (const d of docs) await a.create(d);
    for (const d of docs.slice(0, 3)) await a.submit('acme', d.id, 0, AT, AT + HOUR);
    await a.create(draft({ applicant: 'zed', steps: [] }));
    const mine = await a.list('acme', { applicant: 'ann', limit: 2 });
    const expected = [...docs].sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1)).map((d) => d.id);
    expect(mine.map((d) => d.id)).toEqual(expected.slice(0, 2));
    expect(mine[0]?.steps).toHaveLength(2);
    expect(mine[0]?.comments).toEqual([]);
    const last = mine[1] as StoredApproval;
    const next = await a.list('acme', {
      applicant: 'ann',
      before: { createdAt: last.createdAt, id: last.id },
      limit: 10,
    });
    expect(next.map((d) => d.id)).toEqual(expected.slice(2));
    // approvers never see drafts
    expect((await a.list('acme', { approvers: ['cat'], limit: 10 })).map((d) => d.id).sort()).toEqual(
      docs
        .slice(0, 3)
        .map((d) => d.id)
        .sort(),
    );
    expect(await a.list('acme', { approvers: [], limit: 10 })).toEqual([]);
    expect((await a.list('acme', { applicant: 'ann', status: 'draft', limit: 10 })).length).toBe(2);
  });

  it('stores request days with the quota, one open request per day, and gives seats in queue order', async () => {
    const a = stores.approvals;
    const requests = new Map<string, string>();
    const apply = async (sub: string, days: string[], priority: number, at: number) => {
      const doc = draft({ applicant: sub, kind: 'telework-request', createdAt: at });
      await a.create(doc);
      const rows = days.map(
        (day): StoredRequestDay => ({
          requestId: doc.id,
          sub,
          day,
          type: 'smart-work-centre',
          siteId: 'swc',
          placeId: null,
          status: 'pending',
          priority,
          requestedAt: at,
        }),
      );
      const week = { from: '2030-01-07', to: '2030-01-14', max: 3, label: 'week of 2030-01-07' };
      await a.addRequestDays('acme', rows, [week]);
      requests.set(sub, doc.id);
      return doc.id;
    };
    await apply('ann', ['2030-01-07', '2030-01-08'], 0, AT);
    await expect(apply('ann', ['2030-01-08'], 0, AT)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(apply('ann', ['2030-01-09', '2030-01-10'], 0, AT)).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    await apply('ann', ['2030-01-09'], 0, AT);
    // the same sub and day in another org is another person's
    const elsewhere = draft({ org: 'evil', kind: 'telework-request' });
    await a.create(elsewhere);
    const [annDay] = await a.requestDays('acme', requests.get('ann') as string);
    expect(annDay?.day).toBe('2030-01-09');
    if (annDay) await a.addRequestDays('evil', [{ ...annDay, requestId: elsewhere.id }], []);
    expect((await a.requestDays('evil', elsewhere.id)).map((d) => d.sub)).toEqual(['ann']);
    expect(await a.requestDays('evil', requests.get('ann') as string)).toEqual([]);

    const day = '2030-01-10';
    await apply('bob', [day], 0, AT + 1);
    await apply('cat', [day], 0, AT + 2);
    await apply('dan', [day], 0, AT + 3);
    await apply('pia', [day], 1, AT + 4);
    expect((await a.queue('acme', 'swc', day)).map((d) => d.sub)).toEqual(['pia', 'bob', 'cat', 'dan']);
    // bob's, cat's and dan's requests are approved: two seats, pia (pending, priority) keeps one
    for (const sub of ['bob', 'cat', 'dan'])
      await a.setRequestDays('acme', requests.get(sub) as string, ['pending'], 'waitlisted');
    expect((await a.allocate('acme', 'swc', day, 2)).map((d) => d.sub)).toEqual(['bob']);
    expect(await a.allocate('acme', 'swc', day, 2)).toEqual([]);
    await a.setRequestDays('acme', requests.get('pia') as string, ['pending'], 'waitlisted');
    expect((await a.allocate('acme', 'swc', day, 2)).map((d) => d.sub)).toEqual(['pia']);
    expect((await a.queue('acme', 'swc', day)).map((d) => [d.sub, d.status])).toEqual([
      ['pia', 'approved'],
      ['bob', 'approved'],
      ['cat', 'waitlisted'],
      ['dan', 'waitlisted'],
    ]);
    expect(await a.approvedDay('acme', 'pia', day)).toMatchObject({ siteId: 'swc', status: 'approved' });
    expect(await a.approvedDay('acme', 'cat', day)).toBeUndefined();
    expect(await a.approvedDay('evil', 'pia', day)).toBeUndefined();
    // bob cancels: cat moves up
    const freed = await a.setRequestDays(
      'acme',
      requests.get('bob') as string,
      ['approved', 'waitlisted'],
      'cancelled',
      [day],
    );
    expect(freed.map((d) => [d.sub, d.status])).toEqual([['bob', 'cancelled']]);
    expect((await a.allocate('acme', 'swc', day, 2)).map((d) => d.sub)).toEqual(['cat']);
    // a cancelled day no longer counts against the quota
    await apply('bob', [day, '2030-01-11', '2030-01-12'], 0, AT + 9);
  });

  it('gives each seat once when allocations race', async () => {
    const a = stores.approvals;
    const day = '2030-02-01';
    for (let i = 0; i < 6; i++) {
      const doc = draft({ applicant: `p${i}`, kind: 'telework-request' });
      await a.create(doc);
      await a.addRequestDays(
        'acme',
        [
          {
            requestId: doc.id,
            sub: `p${i}`,
            day,
            type: 'smart-work-centre',
            siteId: 'swc',
            placeId: null,
            status: 'waitlisted',
            priority: 0,
            requestedAt: AT + i,
          },
        ],
        [],
      );
    }
    const promoted = (await Promise.all(Array.from({ length: 6 }, () => a.allocate('acme', 'swc', day, 3)))).flat();
    expect(promoted.map((d) => d.sub).sort()).toEqual(['p0', 'p1', 'p2']);
  });
});
