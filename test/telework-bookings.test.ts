/**
 * Telework bookings over HTTP against a real server: of twenty people racing for one seat and
 * slot exactly one gets it (the others 409 BOOKING_CONFLICT), back-to-back slots both succeed, a
 * cancel frees the slot, a time outside the site's opening hours is OUTSIDE_HOURS, another org's
 * place is NOT_FOUND, only the owner or an admin cancels, the day view and `mine` list bookings,
 * a person holds at most MOIM_TELEWORK_MAX_BOOKINGS_PER_PERSON (4 here), and every change is in
 * the audit log.
 */
import type { Booking, BookingListResponse, BookingResponse } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
let admin: string;
let member: string;
let colleague: string;
let otherAdmin: string;
beforeAll(async () => {
  // the booking rules of any site; a centre's need of an approved plan: telework-booking-rules.test.ts
  server = await startTestServer({
    MOIM_TELEWORK_MAX_BOOKINGS_PER_PERSON: '4',
    MOIM_TELEWORK_CENTRE_NEEDS_PLAN: 'false',
  });
  [admin, member, colleague, otherAdmin] = await Promise.all([
    server.token({ name: 'Admin', sub: 'bk-admin', role: 'admin', org: 'acme' }),
    server.token({ name: 'Member', sub: 'bk-member', role: 'member', org: 'acme' }),
    server.token({ name: 'Colleague', sub: 'bk-colleague', role: 'member', org: 'acme' }),
    server.token({ name: 'Evil', sub: 'bk-evil', role: 'admin', org: 'evil' }),
  ]);
  const weekdays = { open: '08:00', close: '22:00' };
  const centre = {
    name: 'Gangnam smart-work centre',
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: [null, weekdays, weekdays, weekdays, weekdays, weekdays, null],
    networks: [],
    kind: 'smart-work-centre',
  };
  const desk = { kind: 'seat', name: 'Desk', tier: null, capacity: 1 };
  const room = { kind: 'meeting-room', name: 'Board room', tier: 'immersive', capacity: 12 };
  for (const [token, id] of [
    [admin, 'swc'],
    [otherAdmin, 'evil-swc'],
  ] as const) {
    expect((await api('PUT', `/telework/sites/${id}`, token, centre)).status).toBe(201);
    for (const place of ['desk-1', 'desk-2', 'desk-3'])
      expect((await api('PUT', `/telework/sites/${id}/places/${place}`, token, desk)).status).toBe(201);
    expect((await api('PUT', `/telework/sites/${id}/places/board`, token, room)).status).toBe(201);
  }
});
afterAll(() => server.close());

type ErrorAnswer = { error: { code: string; message: string } };

async function api<T = unknown>(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Wednesday 9 January 2030 in Seoul (UTC+9): `at(10)` is 10:00 there. */
const at = (hour: number, minute = 0): string =>
  new Date(Date.UTC(2030, 0, 9, hour - 9, minute)).toISOString().replace('.000Z', 'Z');
const slot = (placeId: string, from: number, to: number, siteId = 'swc') => ({
  siteId,
  placeId,
  start: at(from),
  end: at(to),
});
const book = (token: string, body: unknown) =>
  api<BookingResponse & ErrorAnswer>('POST', '/telework/bookings', token, body);

describe('telework bookings over HTTP', () => {
  it('gives one seat and slot to exactly one of twenty people racing for it', async () => {
    const racers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        server.token({ name: `Racer ${i}`, sub: `bk-racer-${i}`, role: 'member', org: 'acme' }),
      ),
    );
    const answers = await Promise.all(racers.map((token) => book(token, slot('desk-1', 10, 11))));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(19);
    for (const a of refused) expect(a.body.error.code).toBe('BOOKING_CONFLICT');
  });

  it('books back-to-back slots, and a cancel frees the slot', async () => {
    const first = await book(member, slot('desk-2', 10, 11));
    expect(first.status).toBe(201);
    expect(first.body.booking).toMatchObject({
      siteId: 'swc',
      placeId: 'desk-2',
      sub: 'bk-member',
      start: '2030-01-09T01:00:00.000Z',
      end: '2030-01-09T02:00:00.000Z',
      status: 'booked',
    });
    expect((await book(colleague, slot('desk-2', 11, 12))).status).toBe(201);
    expect((await book(colleague, slot('desk-2', 9, 10))).status).toBe(201);
    const taken = await book(colleague, { ...slot('desk-2', 10, 11), start: at(10, 30) });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'BOOKING_CONFLICT' } } });
    const cancelled = await api<BookingResponse>('DELETE', `/telework/bookings/${first.body.booking.id}`, member);
    expect(cancelled).toMatchObject({ status: 200, body: { booking: { status: 'cancelled' } } });
    // cancelling again changes nothing
    const again = await api<BookingResponse>('DELETE', `/telework/bookings/${first.body.booking.id}`, member);
    expect(again).toMatchObject({ status: 200, body: { booking: { status: 'cancelled' } } });
    expect((await book(colleague, slot('desk-2', 10, 11))).status).toBe(201);
  });

  it('refuses a time outside the site’s opening hours, and malformed ranges', async () => {
    const late = await book(member, slot('board', 21, 23));
    expect(late).toMatchObject({ status: 422, body: { error: { code: 'OUTSIDE_HOURS' } } });
    const early = await book(member, slot('board', 7, 9));
    expect(early.body.error.code).toBe('OUTSIDE_HOURS');
    const sunday = { ...slot('board', 10, 11), start: '2030-01-06T01:00:00Z', end: '2030-01-06T02:00:00Z' };
    expect((await book(member, sunday)).body.error.code).toBe('OUTSIDE_HOURS');
    for (const bad of [
      { ...slot('board', 10, 11), start: at(10, 3) },
      slot('board', 11, 10),
      { ...slot('board', 10, 11), end: '2030-01-10T02:00:00Z' },
      { ...slot('board', 10, 11), start: '2030-01-09T10:00:00+09:00' },
      { ...slot('board', 10, 11), siteId: '__proto__' },
      { ...slot('board', 10, 11), sub: 'someone-else' },
      { ...slot('board', 10, 11), start: '2020-01-08T01:00:00Z', end: '2020-01-08T02:00:00Z' },
    ]) {
      const answer = await book(member, bad);
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.error.code).toBe('INVALID_PAYLOAD');
    }
  });

  it('never books or shows another org’s place', async () => {
    const theirs = await book(member, slot('desk-1', 13, 14, 'evil-swc'));
    expect(theirs).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await book(member, slot('nope', 13, 14))).body.error.code).toBe('NOT_FOUND');
    const mine = await book(otherAdmin, slot('desk-3', 13, 14, 'evil-swc'));
    expect(mine.status).toBe(201);
    const cancel = await api<ErrorAnswer>('DELETE', `/telework/bookings/${mine.body.booking.id}`, admin);
    expect(cancel).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const view = await api<ErrorAnswer>('GET', '/telework/bookings?siteId=evil-swc&day=2030-01-09', member);
    expect(view.body.error.code).toBe('NOT_FOUND');
  });

  it('lets only the owner or an admin cancel', async () => {
    const mine = await book(member, slot('desk-3', 15, 16));
    expect(mine.status).toBe(201);
    const path = `/telework/bookings/${mine.body.booking.id}`;
    expect(await api('DELETE', path, colleague)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await api('DELETE', path, admin)).toMatchObject({ status: 200, body: { booking: { status: 'cancelled' } } });
    expect((await api<ErrorAnswer>('DELETE', '/telework/bookings/not-a-uuid', admin)).status).toBe(400);
  });

  it('shows a site’s day, and the caller’s own bookings', async () => {
    const board = await book(colleague, slot('board', 16, 18));
    expect(board.status).toBe(201);
    const view = await api<BookingListResponse>('GET', '/telework/bookings?siteId=swc&day=2030-01-09', member);
    expect(view.status).toBe(200);
    expect(view.body.bookings).toContainEqual(board.body.booking);
    expect(view.body.bookings.every((b) => b.status === 'booked' && b.siteId === 'swc')).toBe(true);
    const otherDay = await api<BookingListResponse>('GET', '/telework/bookings?siteId=swc&day=2030-01-10', member);
    expect(otherDay.body.bookings).toEqual([]);
    const mine = await api<BookingListResponse>('GET', '/telework/bookings/mine', colleague);
    expect(mine.body.bookings.map((b: Booking) => [b.placeId, b.start])).toEqual([
      ['desk-2', '2030-01-09T00:00:00.000Z'],
      ['desk-2', '2030-01-09T01:00:00.000Z'],
      ['desk-2', '2030-01-09T02:00:00.000Z'],
      ['board', '2030-01-09T07:00:00.000Z'],
    ]);
    for (const q of ['siteId=swc', 'day=2030-01-09', 'siteId=swc&day=2030-13-01', 'siteId=__proto__&day=2030-01-09'])
      expect((await api('GET', `/telework/bookings?${q}`, member)).status).toBe(400);
  });

  it('refuses a booking beyond the person’s bound, until one is cancelled', async () => {
    const mine = await api<BookingListResponse>('GET', '/telework/bookings/mine', colleague);
    expect(mine.body.bookings).toHaveLength(4);
    const fifth = await book(colleague, slot('desk-3', 19, 20));
    expect(fifth).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    const first = mine.body.bookings[0] as Booking;
    expect((await api('DELETE', `/telework/bookings/${first.id}`, colleague)).status).toBe(200);
    expect((await book(colleague, slot('desk-3', 19, 20))).status).toBe(201);
  });

  it('records every booking and cancel in the audit log', async () => {
    const entries = await server.app.stores.audit.list({ actor: 'bk-member', limit: 1000 });
    const actions = entries.filter((e) => e.action.startsWith('telework.booking.')).map((e) => e.action);
    expect(actions).toEqual(['telework.booking.create', 'telework.booking.cancel', 'telework.booking.create']);
    const byAdmin = await server.app.stores.audit.list({
      actor: 'bk-admin',
      action: 'telework.booking.cancel',
      limit: 10,
    });
    expect(byAdmin).toHaveLength(1);
    expect(byAdmin[0]?.detail).toMatchObject({ org: 'acme', owner: 'bk-member' });
  });
});
