/**
 * The TeleworkStore booking contract, run unchanged against every backend (SQLite, PostgreSQL):
 * a booked booking of a place refuses any overlapping one (BOOKING_CONFLICT) but not a
 * back-to-back one, a cancelled one frees its time, cancel is idempotent, NOT_FOUND without the
 * place, the per-person bound, the site and person listings, and no lookup crossing organisations;
 * check-in (once, only while booked), the release of no-shows (once, over every org, freeing the
 * place), their count and the suspensions kept. On PostgreSQL, twenty creates racing for one slot
 * from two nodes on one schema: exactly one wins; two nodes releasing no-shows at once release
 * each booking once.
 */
import { type Booking, MoimError, type Place, type Site } from '@moim/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../index.ts';
import { teleworkMigrations } from '../postgres/migrations/telework.ts';
import { PgDb } from '../postgres/PgDb.ts';
import { PgTeleworkStore } from '../postgres/PgTeleworkStore.ts';
import { BACKENDS, dropSchema, type OpenedBackend, TEST_DATABASE_URL, uniqueSchema } from './backends.ts';

const AT = Date.parse('2026-12-07T00:00:00Z');
const H = 3_600_000;
const BOUND = { maxFuture: 20, now: AT };
const site: Site = {
  id: 'swc',
  name: 'SWC',
  address: '',
  timeZone: 'Asia/Seoul',
  openingHours: [null, null, null, null, null, null, null],
  networks: [],
  kind: 'smart-work-centre',
};
const seat = (id: string): Place => ({ id, siteId: 'swc', kind: 'seat', name: id, tier: null, capacity: 1 });
let n = 0;
/** A booking of `placeId` from AT + fromH hours to AT + toH hours. */
const booking = (placeId: string, fromH: number, toH: number, sub = 'alice'): Booking => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  siteId: 'swc',
  placeId,
  sub,
  start: new Date(AT + fromH * H).toISOString(),
  end: new Date(AT + toH * H).toISOString(),
  status: 'booked',
  createdAt: new Date(AT).toISOString(),
  checkedInAt: null,
  checkInSource: null,
});
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof MoimError) return err.code;
    throw err;
  }
};

describe.each(BACKENDS)('telework booking contract on $name', (backend) => {
  let opened: OpenedBackend;
  let stores: Stores;
  beforeEach(async () => {
    opened = await backend.open();
    stores = opened.stores;
    for (const org of ['acme', 'evil']) {
      await stores.telework.createSite(org, site, AT);
      await stores.telework.createPlace(org, seat('d1'), AT);
      await stores.telework.createPlace(org, seat('d2'), AT);
    }
  });
  afterEach(() => opened.close());

  it('refuses an overlapping booking of the same place, not a back-to-back one or another place', async () => {
    const t = stores.telework;
    const first = booking('d1', 1, 3);
    expect(await t.createBooking('acme', first, BOUND)).toEqual(first);
    expect(await codeOf(t.createBooking('acme', booking('d1', 2, 4, 'bob'), BOUND))).toBe('BOOKING_CONFLICT');
    expect(await codeOf(t.createBooking('acme', booking('d1', 0, 10, 'bob'), BOUND))).toBe('BOOKING_CONFLICT');
    expect(await codeOf(t.createBooking('acme', booking('d1', 1, 3, 'bob'), BOUND))).toBe('BOOKING_CONFLICT');
    expect(await codeOf(t.createBooking('acme', booking('d1', 3, 4, 'bob'), BOUND))).toBe('ok');
    expect(await codeOf(t.createBooking('acme', booking('d1', 0, 1, 'bob'), BOUND))).toBe('ok');
    expect(await codeOf(t.createBooking('acme', booking('d2', 1, 3, 'bob'), BOUND))).toBe('ok');
    // another org's place of the same ids is another place
    expect(await codeOf(t.createBooking('evil', booking('d1', 1, 3, 'eve'), BOUND))).toBe('ok');
    expect(await t.getBooking('evil', first.id)).toBeUndefined();
  });

  it('cancels idempotently, and a cancelled booking frees its time', async () => {
    const t = stores.telework;
    const first = await t.createBooking('acme', booking('d1', 1, 3), BOUND);
    expect(await t.cancelBooking('evil', first.id, AT)).toBeUndefined();
    expect(await t.cancelBooking('acme', first.id, AT)).toEqual({ ...first, status: 'cancelled' });
    expect(await t.cancelBooking('acme', first.id, AT + 1)).toEqual({ ...first, status: 'cancelled' });
    expect(await codeOf(t.createBooking('acme', booking('d1', 1, 3, 'bob'), BOUND))).toBe('ok');
    expect(await t.cancelBooking('acme', '00000000-0000-4000-8000-999999999999', AT)).toBeUndefined();
  });

  it('refuses a booking of a place that does not exist, and the person’s bound', async () => {
    const t = stores.telework;
    expect(await codeOf(t.createBooking('acme', booking('nope', 1, 2), BOUND))).toBe('NOT_FOUND');
    expect(await codeOf(t.createBooking('nobody', booking('d1', 1, 2), BOUND))).toBe('NOT_FOUND');
    const bound = { maxFuture: 2, now: AT };
    await t.createBooking('acme', booking('d1', 1, 2), bound);
    const second = await t.createBooking('acme', booking('d1', 2, 3), bound);
    expect(await codeOf(t.createBooking('acme', booking('d1', 3, 4), bound))).toBe('CONFLICT');
    // a cancelled booking does not count, nor one already over
    await t.cancelBooking('acme', second.id, AT);
    expect(await codeOf(t.createBooking('acme', booking('d1', 3, 4), bound))).toBe('ok');
    expect(await codeOf(t.createBooking('acme', booking('d2', 5, 6), bound))).toBe('CONFLICT');
    expect(await codeOf(t.createBooking('acme', booking('d2', 5, 6), { maxFuture: 2, now: AT + 2 * H }))).toBe('ok');
  });

  it('lists a site’s bookings overlapping a range and a person’s bookings not yet ended', async () => {
    const t = stores.telework;
    const a = await t.createBooking('acme', booking('d2', 1, 2, 'alice'), BOUND);
    const b = await t.createBooking('acme', booking('d1', 1, 2, 'bob'), BOUND);
    const c = await t.createBooking('acme', booking('d1', 5, 6, 'alice'), BOUND);
    const gone = await t.createBooking('acme', booking('d1', 8, 9, 'alice'), BOUND);
    await t.cancelBooking('acme', gone.id, AT);
    expect(await t.listSiteBookings('acme', 'swc', AT, AT + 24 * H)).toEqual([b, a, c]);
    expect(await t.listSiteBookings('acme', 'swc', AT + 2 * H, AT + 5 * H)).toEqual([]);
    expect(await t.listSiteBookings('evil', 'swc', AT, AT + 24 * H)).toEqual([]);
    expect(await t.listPersonBookings('acme', 'alice', AT)).toEqual([a, c]);
    expect(await t.listPersonBookings('acme', 'alice', AT + 2 * H)).toEqual([c]);
    expect(await t.listPersonBookings('evil', 'alice', AT)).toEqual([]);
  });

  it('checks a booking in once, and only while it is booked', async () => {
    const t = stores.telework;
    const a = await t.createBooking('acme', booking('d1', 1, 2), BOUND);
    expect(await t.checkInBooking('evil', a.id, AT, 'network')).toBeUndefined();
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(await t.checkInBooking('acme', a.id, AT + 60_000, 'network')).toEqual({
      ...a,
      checkedInAt: iso(AT + 60_000),
      checkInSource: 'network',
    });
    // a second check-in keeps the first time and source
    expect(await t.checkInBooking('acme', a.id, AT + 120_000, 'manual')).toMatchObject({
      checkedInAt: iso(AT + 60_000),
      checkInSource: 'network',
    });
    expect(await t.getBooking('acme', a.id)).toMatchObject({ checkedInAt: iso(AT + 60_000) });
    expect((await t.listPersonBookings('acme', 'alice', AT))[0]).toMatchObject({ checkInSource: 'network' });
    const gone = await t.createBooking('acme', booking('d2', 1, 2), BOUND);
    await t.cancelBooking('acme', gone.id, AT);
    expect(await t.checkInBooking('acme', gone.id, AT, 'manual')).toMatchObject({
      status: 'cancelled',
      checkedInAt: null,
    });
    expect(await t.checkInBooking('acme', '00000000-0000-4000-8000-999999999999', AT, 'manual')).toBeUndefined();
  });

  it('releases bookings not checked in by the cut-off, once, over every org; their place is free again', async () => {
    const t = stores.telework;
    const due = await t.createBooking('acme', booking('d1', 1, 2, 'alice'), BOUND);
    const theirs = await t.createBooking('evil', booking('d1', 1, 2, 'eve'), BOUND);
    const inside = await t.createBooking('acme', booking('d2', 1, 2, 'bob'), BOUND);
    await t.checkInBooking('acme', inside.id, AT + H, 'network');
    const later = await t.createBooking('acme', booking('d1', 3, 4, 'alice'), BOUND);
    const cancelled = await t.createBooking('acme', booking('d2', 0, 1, 'bob'), BOUND);
    await t.cancelBooking('acme', cancelled.id, AT);
    const released = await t.releaseNoShows(AT + H, AT + H + 1, 100);
    expect(released.map((r) => [r.org, r.booking.id]).sort()).toEqual(
      [
        ['acme', due.id],
        ['evil', theirs.id],
      ].sort(),
    );
    for (const r of released) expect(r.booking.status).toBe('released');
    expect(await t.releaseNoShows(AT + H, AT + H + 2, 100)).toEqual([]);
    expect(await t.getBooking('acme', later.id)).toMatchObject({ status: 'booked' });
    expect(await t.getBooking('acme', inside.id)).toMatchObject({ status: 'booked' });
    expect(await t.getBooking('acme', cancelled.id)).toMatchObject({ status: 'cancelled' });
    // a released booking is no longer listed, cannot be checked in, and frees its place
    expect((await t.listPersonBookings('acme', 'alice', AT)).map((b) => b.id)).toEqual([later.id]);
    expect(await t.checkInBooking('acme', due.id, AT + H, 'manual')).toMatchObject({ status: 'released' });
    expect(await t.cancelBooking('acme', due.id, AT + H)).toMatchObject({ status: 'released' });
    expect(await codeOf(t.createBooking('acme', booking('d1', 1, 2, 'bob'), BOUND))).toBe('ok');
    // the limit bounds one call
    await t.createBooking('acme', booking('d2', 5, 6, 'carol'), BOUND);
    await t.createBooking('acme', booking('d1', 5, 6, 'dave'), BOUND);
    expect(await t.releaseNoShows(AT + 5 * H, AT + 5 * H, 1)).toHaveLength(1);
  });

  it('counts a person’s no-shows and keeps their suspensions', async () => {
    const t = stores.telework;
    for (const [from, to] of [
      [1, 2],
      [3, 4],
      [5, 6],
    ] as const)
      await t.createBooking('acme', booking('d1', from, to, 'alice'), BOUND);
    await t.createBooking('acme', booking('d2', 1, 2, 'bob'), BOUND);
    await t.releaseNoShows(AT + 10 * H, AT + 10 * H, 100);
    expect(await t.countNoShows('acme', 'alice', AT)).toBe(3);
    expect(await t.countNoShows('acme', 'alice', AT + 3 * H)).toBe(2);
    expect(await t.countNoShows('acme', 'bob', AT)).toBe(1);
    expect(await t.countNoShows('evil', 'alice', AT)).toBe(0);
    expect(await t.lastSuspension('acme', 'alice')).toBeUndefined();
    const first = { from: AT + 10 * H, until: AT + 20 * H, noShows: 3 };
    expect(await t.addSuspension('acme', 'alice', first)).toBe(true);
    expect(await t.addSuspension('acme', 'alice', { ...first, until: AT + 30 * H })).toBe(false);
    const second = { from: AT + 40 * H, until: AT + 50 * H, noShows: 4 };
    expect(await t.addSuspension('acme', 'alice', second)).toBe(true);
    expect(await t.lastSuspension('acme', 'alice')).toEqual(second);
    expect(await t.lastSuspension('evil', 'alice')).toBeUndefined();
  });

  it('takes a place’s bookings with it when the place is deleted', async () => {
    const t = stores.telework;
    const a = await t.createBooking('acme', booking('d1', 1, 2), BOUND);
    expect(await t.deletePlace('acme', 'swc', 'd1')).toBe(true);
    expect(await t.getBooking('acme', a.id)).toBeUndefined();
  });
});

describe('telework bookings on two PostgreSQL nodes', () => {
  it('lets exactly one of twenty racing creates for one place and slot win', async () => {
    const schema = uniqueSchema('tworknodes');
    const dbs: PgDb[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const db = await PgDb.open({ url: TEST_DATABASE_URL, schema });
        dbs.push(db);
        await db.migrate(teleworkMigrations);
      }
      const [a, b] = dbs.map((db) => new PgTeleworkStore(db)) as [PgTeleworkStore, PgTeleworkStore];
      await a.createSite('acme', site, AT);
      await a.createPlace('acme', seat('d1'), AT);
      const codes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          codeOf((i % 2 === 0 ? a : b).createBooking('acme', booking('d1', 1, 2, `p${i}`), BOUND)),
        ),
      );
      expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
      expect(codes.filter((c) => c === 'BOOKING_CONFLICT')).toHaveLength(19);
      expect(await b.listSiteBookings('acme', 'swc', AT, AT + 24 * H)).toHaveLength(1);
      // both nodes release no-shows at once: each booking is released by exactly one of them
      await a.createPlace('acme', seat('d2'), AT);
      for (let i = 0; i < 10; i++) await a.createBooking('acme', booking('d2', i, i + 1, `q${i}`), BOUND);
      const runs = await Promise.all([
        a.releaseNoShows(AT + 24 * H, AT, 3),
        b.releaseNoShows(AT + 24 * H, AT, 3),
        a.releaseNoShows(AT + 24 * H, AT, 100),
        b.releaseNoShows(AT + 24 * H, AT, 100),
      ]);
      const ids = runs.flat().map((r) => r.booking.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(11);
    } finally {
      for (const db of dbs) await db.close();
      await dropSchema(schema);
    }
  });
});
