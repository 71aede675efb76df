/**
 * Telework check-in and no-shows against a real server on a ManualClock, with real sockets: a
 * socket.io client bound to 127.0.0.2 — a range of the `swc` site — checks its owner's booking
 * there in (source `network`) and their attendance day says `swc` from the network (also through
 * a TCP proxy whose outgoing socket binds 127.0.0.2, as the browser test connects); a client on
 * 127.0.0.1 stays on its declared site; someone already on site when a booking's window opens is
 * checked in by the no-show job; a manual check-in (window, owner, where from, the config switch);
 * a booking not checked in within the grace time is released and its place bookable again; three
 * no-shows suspend booking (BOOKING_SUSPENDED) until the suspension ends. All of it audited.
 */
import type { AttendanceResponse, Booking, BookingListResponse, BookingResponse } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { startTcpProxy } from './support/tcpProxy.ts';
import { api, connectFrom, iso, seoul, until, weekdays } from './telework-support.ts';

const DAY = '2030-01-09'; // a Wednesday
const NO_SHOWS = 'telework.bookings.no-shows';

let server: TestServer;
let clock: ManualClock;
let admin: string;
let member: string;
let colleague: string;

async function start(env: Record<string, string> = {}): Promise<void> {
  clock = new ManualClock(seoul(DAY, 8));
  // the check-in rules, not the plan a centre needs (test/telework-booking-rules.test.ts)
  server = await startTestServer({ MOIM_TELEWORK_CENTRE_NEEDS_PLAN: 'false', ...env }, { clock });
  [admin, member, colleague] = await Promise.all([
    server.token({ name: 'Admin', sub: 'ci-admin', role: 'admin', org: 'acme' }),
    server.token({ name: 'Member', sub: 'ci-member', role: 'member', org: 'acme', site: 'hq' }),
    server.token({ name: 'Colleague', sub: 'ci-colleague', role: 'member', org: 'acme', site: 'hq' }),
  ]);
  const centre = {
    name: 'Gangnam smart-work centre',
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: weekdays('09:00', '22:00'),
    networks: ['127.0.0.2/32', '2001:db8::/32'],
    kind: 'smart-work-centre',
  };
  expect((await api(server, 'PUT', '/telework/sites/swc', admin, centre)).status).toBe(201);
  for (const place of ['desk-1', 'desk-2', 'desk-3'])
    expect(
      (
        await api(server, 'PUT', `/telework/sites/swc/places/${place}`, admin, {
          kind: 'seat',
          name: place,
          tier: null,
          capacity: 1,
        })
      ).status,
    ).toBe(201);
}
afterEach(() => server.close());

const book = (token: string, placeId: string, from: number, to: number) =>
  api<BookingResponse>(server, 'POST', '/telework/bookings', token, {
    siteId: 'swc',
    placeId,
    start: iso(from),
    end: iso(to),
  });
const bookingOf = async (token: string, id: string): Promise<Booking | undefined> => {
  const { body } = await api<BookingListResponse>(server, 'GET', `/telework/bookings?siteId=swc&day=${DAY}`, token);
  return body.bookings.find((b) => b.id === id);
};
const audited = async (action: string) => server.app.stores.audit.list({ action, limit: 100 });

describe('telework check-in', () => {
  it('checks a booking in when its owner connects from the site’s network range (127.0.0.2)', async () => {
    await start();
    const booked = await book(member, 'desk-1', seoul(DAY, 9), seoul(DAY, 10));
    expect(booked.status).toBe(201);
    expect(booked.body.booking).toMatchObject({ checkedInAt: null, checkInSource: null });
    clock.set(seoul(DAY, 8, 50)); // inside the 15 minutes before the start
    const socket = await connectFrom(server, member, '127.0.0.2');
    const checked = await until(
      () => bookingOf(member, booked.body.booking.id),
      (b) => !!b?.checkedInAt,
    );
    expect(checked).toMatchObject({ status: 'booked', checkedInAt: iso(seoul(DAY, 8, 50)), checkInSource: 'network' });
    // the attendance day comes from the address too: on site at swc, not the declared hq
    const { body } = await until(
      () => api<AttendanceResponse>(server, 'GET', `/telework/attendance?from=${DAY}&to=${DAY}`, member),
      (a) => a.body.days.length > 0,
    );
    expect(body.days).toEqual([
      {
        status: 'present',
        sub: 'ci-member',
        day: DAY,
        siteId: 'swc',
        source: 'network',
        firstIn: iso(seoul(DAY, 8, 50)),
        lastOut: null,
        minutes: 0,
        flags: [],
      },
    ]);
    expect(await audited('telework.booking.check-in')).toMatchObject([
      { actor: 'ci-member', target: booked.body.booking.id, detail: { source: 'network', org: 'acme' } },
    ]);
    // checked in: the no-show job leaves it alone
    clock.set(seoul(DAY, 9, 30));
    expect(await server.app.scheduler.runDue(NO_SHOWS)).toBe(0);
    expect(await bookingOf(member, booked.body.booking.id)).toMatchObject({ status: 'booked' });
    socket.disconnect();
  });

  it('sees the site from the address through a TCP proxy whose outgoing socket binds 127.0.0.2', async () => {
    await start();
    const booked = await book(member, 'desk-3', seoul(DAY, 9), seoul(DAY, 10));
    clock.set(seoul(DAY, 9, 5));
    const proxy = await startTcpProxy({ targetPort: Number(new URL(server.url).port) });
    try {
      // the client itself is on 127.0.0.1, as a browser would be
      const socket = await connectFrom(server, member, '127.0.0.1', proxy.url);
      const { body } = await until(
        () => api<AttendanceResponse>(server, 'GET', `/telework/attendance?from=${DAY}&to=${DAY}`, member),
        (a) => a.body.days.length > 0,
      );
      expect(body.days).toMatchObject([{ siteId: 'swc', source: 'network' }]);
      expect(await bookingOf(member, booked.body.booking.id)).toMatchObject({ checkInSource: 'network' });
      socket.disconnect();
    } finally {
      await proxy.close();
    }
  });

  it('believes X-Forwarded-For only from a trusted proxy (MOIM_TRUSTED_PROXIES)', async () => {
    await start({ MOIM_TRUSTED_PROXIES: '127.0.0.3' });
    clock.set(seoul(DAY, 9, 5));
    const forwarded = { 'x-forwarded-for': '127.0.0.2' };
    const viaProxy = await connectFrom(server, member, '127.0.0.3', server.url, forwarded);
    const spoofed = await connectFrom(server, colleague, '127.0.0.1', server.url, forwarded);
    const { body } = await until(
      () => api<AttendanceResponse>(server, 'GET', `/telework/attendance?from=${DAY}&to=${DAY}`, admin),
      (a) => a.body.days.length === 2,
    );
    expect(body.days).toMatchObject([
      { sub: 'ci-colleague', siteId: 'hq', source: 'declared' },
      { sub: 'ci-member', siteId: 'swc', source: 'network' },
    ]);
    viaProxy.disconnect();
    spoofed.disconnect();
  });

  it('uses the declared site for a connection from 127.0.0.1, and checks no booking in', async () => {
    await start();
    const booked = await book(member, 'desk-1', seoul(DAY, 9), seoul(DAY, 10));
    clock.set(seoul(DAY, 9, 5));
    const socket = await connectFrom(server, member, '127.0.0.1');
    const { body } = await until(
      () => api<AttendanceResponse>(server, 'GET', `/telework/attendance?from=${DAY}&to=${DAY}`, member),
      (a) => a.body.days.length > 0,
    );
    expect(body.days).toMatchObject([{ sub: 'ci-member', siteId: 'hq', source: 'declared', flags: [] }]);
    expect(await bookingOf(member, booked.body.booking.id)).toMatchObject({ checkedInAt: null });
    expect(await audited('telework.booking.check-in')).toEqual([]);
    socket.disconnect();
  });

  it('checks in someone already on site when their booking’s window opens (the no-show job)', async () => {
    await start();
    const booked = await book(member, 'desk-2', seoul(DAY, 10), seoul(DAY, 11));
    clock.set(seoul(DAY, 9));
    const socket = await connectFrom(server, member, '127.0.0.2');
    await until(
      () => api<AttendanceResponse>(server, 'GET', `/telework/attendance?from=${DAY}&to=${DAY}`, member),
      (a) => a.body.days.length > 0,
    );
    expect(await bookingOf(member, booked.body.booking.id)).toMatchObject({ checkedInAt: null });
    clock.set(seoul(DAY, 9, 46));
    expect(await server.app.scheduler.runDue(NO_SHOWS)).toBe(1);
    expect(await bookingOf(member, booked.body.booking.id)).toMatchObject({
      checkedInAt: iso(seoul(DAY, 9, 46)),
      checkInSource: 'network',
    });
    socket.disconnect();
  });

  it('takes a manual check-in from its owner within the window: network from the range, manual elsewhere', async () => {
    await start();
    const a = (await book(member, 'desk-1', seoul(DAY, 10), seoul(DAY, 11))).body.booking;
    const b = (await book(member, 'desk-2', seoul(DAY, 10), seoul(DAY, 11))).body.booking;
    const checkIn = (id: string, token = member, from?: string) =>
      api<BookingResponse>(server, 'POST', `/telework/bookings/${id}/check-in`, token, undefined, from);
    clock.set(seoul(DAY, 9, 40)); // before the window
    expect(await checkIn(a.id)).toMatchObject({ status: 422, body: { error: { code: 'OUTSIDE_HOURS' } } });
    clock.set(seoul(DAY, 9, 50));
    expect(await checkIn(a.id, colleague)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await checkIn('not-a-uuid')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PAYLOAD' } } });
    expect(await checkIn('00000000-0000-4000-8000-000000000000')).toMatchObject({ status: 404 });
    expect(await checkIn(a.id)).toMatchObject({
      status: 200,
      body: { booking: { checkedInAt: iso(seoul(DAY, 9, 50)), checkInSource: 'manual' } },
    });
    expect(await checkIn(b.id, member, '127.0.0.2')).toMatchObject({
      status: 200,
      body: { booking: { checkInSource: 'network' } },
    });
    // again: nothing changes
    clock.set(seoul(DAY, 10, 10));
    expect(await checkIn(a.id)).toMatchObject({ body: { booking: { checkedInAt: iso(seoul(DAY, 9, 50)) } } });
    expect(await audited('telework.booking.check-in')).toHaveLength(2);
    clock.set(seoul(DAY, 11));
    const over = (await book(member, 'desk-3', seoul(DAY, 11), seoul(DAY, 12))).body.booking;
    clock.set(seoul(DAY, 12));
    expect(await checkIn(over.id)).toMatchObject({ status: 422, body: { error: { code: 'OUTSIDE_HOURS' } } });
  });

  it('refuses a manual check-in from outside the site’s ranges when MOIM_TELEWORK_MANUAL_CHECKIN is off', async () => {
    await start({ MOIM_TELEWORK_MANUAL_CHECKIN: 'false' });
    const a = (await book(member, 'desk-1', seoul(DAY, 10), seoul(DAY, 11))).body.booking;
    clock.set(seoul(DAY, 10));
    const path = `/telework/bookings/${a.id}/check-in`;
    expect(await api(server, 'POST', path, member)).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN' } },
    });
    expect(await api(server, 'POST', path, member, undefined, '127.0.0.2')).toMatchObject({
      status: 200,
      body: { booking: { checkInSource: 'network' } },
    });
  });
});

describe('telework no-shows', () => {
  it('releases a booking not checked in within the grace time; the place is bookable again', async () => {
    await start();
    const booked = (await book(member, 'desk-1', seoul(DAY, 9), seoul(DAY, 10))).body.booking;
    expect((await book(colleague, 'desk-1', seoul(DAY, 9), seoul(DAY, 10))).body.error?.code).toBe('BOOKING_CONFLICT');
    clock.set(seoul(DAY, 9, 14));
    expect(await server.app.scheduler.runDue(NO_SHOWS)).toBe(0);
    clock.set(seoul(DAY, 9, 15));
    expect(await server.app.scheduler.runDue(NO_SHOWS)).toBe(1);
    const mine = await api<BookingListResponse>(server, 'GET', '/telework/bookings/mine', member);
    expect(mine.body.bookings).toEqual([]);
    expect((await server.app.stores.telework.getBooking('acme', booked.id))?.status).toBe('released');
    const again = await book(colleague, 'desk-1', seoul(DAY, 9, 30), seoul(DAY, 10));
    expect(again).toMatchObject({ status: 201, body: { booking: { status: 'booked', sub: 'ci-colleague' } } });
    // a released booking can neither be checked in nor cancelled into something else
    const checkIn = await api(server, 'POST', `/telework/bookings/${booked.id}/check-in`, member);
    expect(checkIn).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await api(server, 'DELETE', `/telework/bookings/${booked.id}`, member)).toMatchObject({
      status: 200,
      body: { booking: { status: 'released' } },
    });
    expect(await audited('telework.booking.no-show')).toMatchObject([
      { actor: 'system', target: booked.id, detail: { owner: 'ci-member', org: 'acme' } },
    ]);
    expect(await audited('telework.booking.cancel')).toEqual([]);
  });

  it('suspends booking after three no-shows until the suspension ends', async () => {
    await start();
    for (const [place, hour] of [
      ['desk-1', 9],
      ['desk-2', 10],
      ['desk-3', 11],
    ] as const)
      expect((await book(member, place, seoul(DAY, hour), seoul(DAY, hour + 1))).status).toBe(201);
    clock.set(seoul(DAY, 10, 20));
    expect(await server.app.scheduler.runDue(NO_SHOWS)).toBe(2);
    expect((await book(member, 'desk-1', seoul('2030-01-10', 9), seoul('2030-01-10', 10))).status).toBe(201);
    clock.set(seoul(DAY, 11, 20));
    expect(await server.app.scheduler.runDue(NO_SHOWS)).toBe(1);
    const until = seoul(DAY, 11, 20) + 7 * 24 * 3_600_000;
    const refused = await book(member, 'desk-2', seoul('2030-01-10', 9), seoul('2030-01-10', 10));
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'BOOKING_SUSPENDED' } } });
    expect(refused.body.error?.message).toContain(iso(until));
    expect(await audited('telework.booking.suspend')).toMatchObject([
      { actor: 'system', target: 'ci-member', detail: { noShows: 3, until: iso(until) } },
    ]);
    // others book as before
    expect((await book(colleague, 'desk-2', seoul('2030-01-10', 9), seoul('2030-01-10', 10))).status).toBe(201);
    clock.set(until - 60_000);
    const later = (from: number) => book(member, 'desk-3', from, from + 3_600_000);
    expect((await later(seoul('2030-01-17', 9))).body.error?.code).toBe('BOOKING_SUSPENDED');
    clock.set(until);
    expect((await later(seoul('2030-01-17', 9))).status).toBe(201);
    // the no-shows that led to the suspension do not count again: the next one does not suspend
    clock.set(seoul('2030-01-17', 9, 20));
    // the member's booking of the 10th and this one — two no-shows since the suspension began, under
    // the limit — and the colleague's of the 10th
    expect(await server.app.scheduler.runDue(NO_SHOWS)).toBe(3);
    expect((await later(seoul('2030-01-17', 14))).status).toBe(201);
    expect(await audited('telework.booking.suspend')).toHaveLength(1);
  });
});
