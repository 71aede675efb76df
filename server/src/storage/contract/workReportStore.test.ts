/**
 * The WorkReportStore contract, run unchanged against every backend (SQLite, PostgreSQL): one
 * report per person and day (a second open finds the first; a cancelled one comes back due),
 * transitions only from the stated status (of racing ones exactly one wins), bounded comments,
 * listings by day range and person, the overdue scan with its remind-once mark, and no lookup
 * crossing organisations.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Stores } from '../index.ts';
import type { NewWorkReport } from '../WorkReportStore.ts';
import { BACKENDS, useStores } from './backends.ts';

const AT = Date.parse('2030-01-09T00:00:00Z');
const H = 3_600_000;
const report = (sub: string, day = '2030-01-09', extra: Partial<NewWorkReport> = {}): NewWorkReport => {
  const id = randomUUID();
  return {
    id,
    sub,
    day,
    requestId: randomUUID(),
    siteId: 'home',
    tasks: ['draft the budget', '예산안 검토'],
    docName: `report.${id}`,
    dueAt: AT + 10 * H,
    ...extra,
  };
};

describe.each(BACKENDS)('work report store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('keeps one report per person and day; a cancelled one comes back due for a new request', async () => {
    const r = stores.reports;
    const first = report('alice');
    const a = await r.open('acme', first, AT);
    expect(a.created).toBe(true);
    expect(a.record).toMatchObject({
      org: 'acme',
      id: first.id,
      sub: 'alice',
      day: '2030-01-09',
      tasks: first.tasks,
      docName: first.docName,
      status: 'due',
      dueAt: AT + 10 * H,
      submittedAt: null,
      reviewedBy: null,
      remindedAt: null,
      comments: [],
      createdAt: AT,
    });
    const again = await r.open('acme', report('alice'), AT + 1);
    expect(again.created).toBe(false);
    expect(again.record.id).toBe(first.id);
    // another org is another namespace
    expect((await r.open('globex', report('alice'), AT)).created).toBe(true);
    expect(await r.get('globex', first.id)).toBeUndefined();
    expect((await r.getByDoc('acme', first.docName))?.id).toBe(first.id);

    expect(await r.cancelDay('acme', 'alice', '2030-01-09', AT + 2)).toBe(true);
    expect(await r.cancelDay('acme', 'alice', '2030-01-09', AT + 3)).toBe(false);
    const next = report('alice', '2030-01-09', { tasks: ['other'] });
    const back = await r.open('acme', next, AT + 4);
    expect(back.created).toBe(false);
    expect(back.record).toMatchObject({ id: first.id, status: 'due', requestId: next.requestId, tasks: ['other'] });
  });

  it('moves a report only from the stated status: of racing reviews one wins', async () => {
    const r = stores.reports;
    const { record } = await r.open('acme', report('bob'), AT);
    expect(
      await r.transition('acme', record.id, 'submitted', 'reviewed', { reviewedBy: 'x', reviewedAt: AT }, AT),
    ).toBe(undefined);
    const submitted = await r.transition('acme', record.id, 'due', 'submitted', { submittedAt: AT + H }, AT + H);
    expect(submitted).toMatchObject({ status: 'submitted', submittedAt: AT + H });
    const results = await Promise.all(
      ['m1', 'm2', 'm3'].map((m) =>
        r.transition('acme', record.id, 'submitted', 'reviewed', { reviewedBy: m, reviewedAt: AT + 2 * H }, AT + 2 * H),
      ),
    );
    const winners = results.filter((x) => x !== undefined);
    expect(winners).toHaveLength(1);
    expect((await r.get('acme', record.id))?.reviewedBy).toBe(winners[0]?.reviewedBy);
    // a submitted report is no longer cancelled with its day
    expect(await r.cancelDay('acme', 'bob', '2030-01-09', AT)).toBe(false);
  });

  it('appends comments up to a bound', async () => {
    const r = stores.reports;
    const { record } = await r.open('acme', report('carol'), AT);
    const c1 = await r.addComment('acme', record.id, { author: 'm', text: '좋아요, "quoted"', at: AT + 1 }, 2);
    const c2 = await r.addComment('acme', record.id, { author: 'carol', text: 'thanks', at: AT + 2 }, 2);
    expect(c2?.comments).toEqual([
      { author: 'm', text: '좋아요, "quoted"', at: AT + 1 },
      { author: 'carol', text: 'thanks', at: AT + 2 },
    ]);
    expect(c1?.comments).toHaveLength(1);
    expect(await r.addComment('acme', record.id, { author: 'm', text: 'third', at: AT + 3 }, 2)).toBeUndefined();
    expect(await r.addComment('globex', record.id, { author: 'm', text: 'x', at: AT }, 10)).toBeUndefined();
  });

  it('lists by day range and person, and finds overdue reports to remind once', async () => {
    const r = stores.reports;
    await r.open('acme', report('dave', '2030-01-08', { dueAt: AT - H }), AT);
    await r.open('acme', report('erin', '2030-01-09', { dueAt: AT + H }), AT);
    const late = await r.open('acme', report('frank', '2030-01-09', { dueAt: AT - 2 * H }), AT);
    await r.open('acme', report('gina', '2030-01-11', { dueAt: AT + 50 * H }), AT);
    const listed = await r.list('acme', { from: '2030-01-08', to: '2030-01-09', limit: 10 });
    expect(listed.map((x) => `${x.day} ${x.sub}`)).toEqual(['2030-01-08 dave', '2030-01-09 erin', '2030-01-09 frank']);
    const some = await r.list('acme', { from: '2030-01-01', to: '2030-01-31', subs: ['gina', 'dave'], limit: 10 });
    expect(some.map((x) => x.sub)).toEqual(['dave', 'gina']);
    expect(await r.list('acme', { from: '2030-01-01', to: '2030-01-31', subs: [], limit: 10 })).toEqual([]);

    const overdue = await r.overdueUnreminded(AT, 10);
    expect(overdue.map((x) => x.sub)).toEqual(['frank', 'dave']);
    expect(await r.markReminded('acme', late.record.id, AT)).toBe(true);
    expect(await r.markReminded('acme', late.record.id, AT + 1)).toBe(false);
    expect((await r.overdueUnreminded(AT, 10)).map((x) => x.sub)).toEqual(['dave']);
  });
});
