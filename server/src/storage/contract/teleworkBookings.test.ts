/**
 * The TeleworkStore booking contract, run unchanged against every backend (SQLite, PostgreSQL):
 * a booked booking of a place refuses any overlapping one (BOOKING_CONFLICT) but not a
 * back-to-back one, a cancelled one frees its time, cancel is idempotent, NOT_FOUND without the
 * place, the per-person bound, the site and person listings, and no lookup crossing organisations.
 * On PostgreSQL, twenty creates racing for one slot from two nodes on one schema: exactly one wins.
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
    } finally {
      for (const db of dbs) await db.close();
      await dropSchema(schema);
    }
  });
});
