/**
 * The AttendanceStore contract, run unchanged against every backend (SQLite, PostgreSQL): one
 * record per person and day (a second open finds the first), close only an open day (once),
 * reopen only a day closed by a disconnect, the open days of a person and the ones due over every
 * org, listings by day range and person, and no lookup crossing organisations.
 */
import { describe, expect, it } from 'vitest';
import type { AttendanceClose, NewAttendance } from '../AttendanceStore.ts';
import type { Stores } from '../index.ts';
import { BACKENDS, useStores } from './backends.ts';

const AT = Date.parse('2030-01-09T00:00:00Z'); // 09:00 in Seoul
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const day = (sub: string, d = '2030-01-09', extra: Partial<NewAttendance> = {}): NewAttendance => ({
  sub,
  day: d,
  siteId: 'hq',
  source: 'network',
  firstIn: AT + H,
  closesAt: AT + 9 * H,
  flags: [],
  teams: ['blue'],
  ...extra,
});

describe.each(BACKENDS)('attendance store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('keeps one record per person and day: the first open wins', async () => {
    const a = stores.attendance;
    const first = await a.open('acme', day('alice', undefined, { flags: ['late'] }), AT);
    expect(first.created).toBe(true);
    expect(first.record).toEqual({
      org: 'acme',
      sub: 'alice',
      day: '2030-01-09',
      siteId: 'hq',
      source: 'network',
      firstIn: iso(AT + H),
      lastOut: null,
      minutes: 0,
      flags: ['late'],
      closesAt: AT + 9 * H,
      closedBy: null,
      teams: ['blue'],
    });
    const again = await a.open('acme', day('alice', undefined, { siteId: 'home', source: 'declared' }), AT + 2 * H);
    expect(again).toEqual({ record: first.record, created: false });
    // another org's same sub and day is another record
    expect((await a.open('evil', day('alice'), AT)).created).toBe(true);
    expect(await a.get('acme', 'alice', '2030-01-09')).toEqual(first.record);
    expect(await a.get('acme', 'alice', '2030-01-10')).toBeUndefined();
    expect(await a.get('other', 'alice', '2030-01-09')).toBeUndefined();
  });

  it('closes an open day once, and reopens only a day closed by a disconnect', async () => {
    const a = stores.attendance;
    await a.open('acme', day('alice'), AT);
    const closed = await a.close(
      'acme',
      'alice',
      '2030-01-09',
      { lastOut: AT + 3 * H, minutes: 120, flags: [], by: 'disconnect' },
      AT + 3 * H,
    );
    expect(closed).toMatchObject({ lastOut: iso(AT + 3 * H), minutes: 120, closedBy: 'disconnect' });
    const twice: AttendanceClose = { lastOut: AT + 4 * H, minutes: 180, flags: [], by: 'disconnect' };
    expect(await a.close('acme', 'alice', '2030-01-09', twice, AT + 4 * H)).toBeUndefined();
    expect(await a.close('evil', 'alice', '2030-01-09', twice, AT + 4 * H)).toBeUndefined();
    expect(await a.reopen('evil', 'alice', '2030-01-09', AT)).toBe(false);
    expect(await a.reopen('acme', 'alice', '2030-01-09', AT + 5 * H)).toBe(true);
    expect(await a.get('acme', 'alice', '2030-01-09')).toMatchObject({ lastOut: null, minutes: 0, closedBy: null });
    // open: nothing to reopen
    expect(await a.reopen('acme', 'alice', '2030-01-09', AT + 5 * H)).toBe(false);
    const auto = await a.close(
      'acme',
      'alice',
      '2030-01-09',
      { lastOut: AT + 9 * H, minutes: 480, flags: ['auto-closed'], by: 'auto' },
      AT + 10 * H,
    );
    expect(auto).toMatchObject({ lastOut: iso(AT + 9 * H), minutes: 480, flags: ['auto-closed'], closedBy: 'auto' });
    // an auto-closed day stays closed
    expect(await a.reopen('acme', 'alice', '2030-01-09', AT + 11 * H)).toBe(false);
  });

  it('lists a person’s open days and the open days due over every org', async () => {
    const a = stores.attendance;
    await a.open('acme', day('alice', '2030-01-08', { closesAt: AT - 15 * H }), AT);
    await a.open('acme', day('alice'), AT);
    await a.open('acme', day('bob'), AT);
    await a.open('evil', day('eve', '2030-01-09', { closesAt: AT + 8 * H }), AT);
    await a.close('acme', 'bob', '2030-01-09', { lastOut: AT + 2 * H, minutes: 60, flags: [], by: 'disconnect' }, AT);
    expect((await a.listOpenOf('acme', 'alice')).map((r) => r.day)).toEqual(['2030-01-08', '2030-01-09']);
    expect(await a.listOpenOf('acme', 'bob')).toEqual([]);
    expect(await a.listOpenOf('evil', 'alice')).toEqual([]);
    expect((await a.listDue(AT, 100)).map((r) => [r.org, r.sub, r.day])).toEqual([['acme', 'alice', '2030-01-08']]);
    expect((await a.listDue(AT + 9 * H, 100)).map((r) => [r.org, r.sub, r.day])).toEqual([
      ['acme', 'alice', '2030-01-08'],
      ['evil', 'eve', '2030-01-09'],
      ['acme', 'alice', '2030-01-09'],
    ]);
    expect(await a.listDue(AT + 9 * H, 1)).toHaveLength(1);
  });

  it('lists an org’s days by range and person', async () => {
    const a = stores.attendance;
    for (const d of ['2030-01-07', '2030-01-08', '2030-01-09', '2030-01-10'])
      for (const sub of ['bob', 'alice']) await a.open('acme', day(sub, d), AT);
    await a.open('evil', day('alice', '2030-01-08'), AT);
    const all = await a.list('acme', '2030-01-08', '2030-01-09');
    expect(all.map((r) => `${r.day} ${r.sub}`)).toEqual([
      '2030-01-08 alice',
      '2030-01-08 bob',
      '2030-01-09 alice',
      '2030-01-09 bob',
    ]);
    expect((await a.list('acme', '2030-01-08', '2030-01-10', 'bob')).map((r) => r.day)).toEqual([
      '2030-01-08',
      '2030-01-09',
      '2030-01-10',
    ]);
    expect(await a.list('acme', '2030-01-11', '2030-01-12')).toEqual([]);
    expect(await a.list('nobody', '2030-01-01', '2030-01-31')).toEqual([]);
  });

  it('replaces a day with a correction, or creates it; a corrected day is not reopened by a reconnect', async () => {
    const a = stores.attendance;
    await a.open('acme', day('alice', undefined, { flags: ['late'] }), AT);
    const fix = {
      sub: 'alice',
      day: '2030-01-09',
      siteId: 'swc',
      firstIn: AT,
      lastOut: AT + 8 * H,
      minutes: 480,
      flags: ['corrected' as const],
      closesAt: AT + 9 * H,
      teams: ['blue'],
    };
    expect(await a.correct('acme', fix, AT + 10 * H)).toMatchObject({
      sub: 'alice',
      siteId: 'swc',
      source: 'network',
      firstIn: iso(AT),
      lastOut: iso(AT + 8 * H),
      minutes: 480,
      flags: ['corrected'],
      closedBy: 'auto',
    });
    expect(await a.reopen('acme', 'alice', '2030-01-09', AT + 11 * H)).toBe(false);
    const created = await a.correct('acme', { ...fix, sub: 'bob' }, AT + 10 * H);
    expect(created).toMatchObject({ sub: 'bob', source: 'declared', flags: ['corrected'] });
    expect(await a.get('globex', 'bob', '2030-01-09')).toBeUndefined();
  });

  it('moves an open or disconnected day to another site, never one the scheduler or a correction closed', async () => {
    const a = stores.attendance;
    await a.open('acme', day('alice', undefined, { flags: ['not-at-approved-place'] }), AT);
    const to = { siteId: 'home', source: 'declared' as const, firstIn: AT + H, flags: ['late' as const] };
    expect(await a.relocate('acme', 'alice', '2030-01-09', to, AT + H)).toMatchObject({
      siteId: 'home',
      source: 'declared',
      firstIn: iso(AT + H),
      flags: ['late'],
      lastOut: null,
    });
    await a.close(
      'acme',
      'alice',
      '2030-01-09',
      { lastOut: AT + 2 * H, minutes: 60, flags: [], by: 'auto' },
      AT + 2 * H,
    );
    expect(await a.relocate('acme', 'alice', '2030-01-09', to, AT + 3 * H)).toBeUndefined();
    expect(await a.relocate('acme', 'nobody', '2030-01-09', to, AT)).toBeUndefined();
    expect(await a.relocate('globex', 'alice', '2030-01-09', to, AT)).toBeUndefined();
  });
});
