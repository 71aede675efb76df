/**
 * The client SDK's telework client against a real server: an admin manages sites and places
 * through `client.telework`, a member reads them with a bare token before any socket exists (the
 * sign-in page's case) and is refused changes; bookings are made, listed per site day and per
 * person, refused with the server's codes (BOOKING_CONFLICT, OUTSIDE_HOURS, FORBIDDEN) and
 * cancelled; ids that cannot be ids never reach the server; the site clock converts between a
 * site's wall time and UTC; the SDK's zod-free constants equal the protocol's.
 */
import {
  addDays,
  BOOKING_LIMITS,
  connect,
  devToken,
  MEETING_ROOM_TIERS,
  type MoimClient,
  MoimError,
  PLACE_KINDS,
  SITE_KINDS,
  type Site,
  siteClock,
  siteInstant,
  TELEWORK_LIMITS,
  Telework,
  weekdayOf,
} from '@moim/client-sdk';
import * as protocol from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
let admin: MoimClient;

const tokenOf = async (sub: string, role: 'admin' | 'member', org = 'sdk-org') =>
  (await devToken(server.url, { name: sub, sub, site: 'hq', role, org })).token;
/** A telework client on a bare token (no socket), as the web app's sign-in page uses it. */
const bare = (sub: string, role: 'admin' | 'member' = 'member', org = 'sdk-org') =>
  new Telework({ url: server.url, getToken: () => tokenOf(sub, role, org) });

const everyDay = { open: '00:00', close: '23:59' };
const centre: Omit<Site, 'id'> = {
  name: '세종 스마트워크센터',
  address: '세종특별자치시 한누리대로 2130',
  timeZone: 'Asia/Seoul',
  openingHours: [null, { open: '09:00', close: '18:00' }, everyDay, everyDay, everyDay, everyDay, null],
  networks: ['10.20.0.0/16'],
  kind: 'smart-work-centre',
};
/** Wednesday 9 January 2030 in Seoul. */
const DAY = '2030-01-09';

beforeAll(async () => {
  // the booking mechanics through the SDK; the approvals gate of smart-work centres is on by
  // default and has its own test below (and in the telework requests tests)
  server = await startTestServer({ MOIM_TELEWORK_CENTRE_NEEDS_PLAN: 'false' });
  admin = await connect({ url: server.url, getToken: () => tokenOf('sdk-admin', 'admin') });
});
afterAll(async () => {
  await admin?.close();
  await server?.close();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MoimError);
  return (err as MoimError).code;
}

describe('client SDK telework', () => {
  it('admins manage sites and places; members read them with a bare token and are refused changes', async () => {
    const put = await admin.telework.putSite('sejong', centre);
    expect(put).toEqual({ site: { id: 'sejong', ...centre }, created: true });
    expect((await admin.telework.putSite('sejong', { ...centre, address: '' })).created).toBe(false);
    const seat = { kind: 'seat', name: '좌석 1', tier: null, capacity: 1 } as const;
    expect((await admin.telework.putPlace('sejong', 'seat-1', seat)).place).toEqual({
      id: 'seat-1',
      siteId: 'sejong',
      ...seat,
    });
    await admin.telework.putPlace('sejong', 'seat-2', { ...seat, name: '좌석 2' });
    await admin.telework.putPlace('sejong', 'room-a', {
      kind: 'meeting-room',
      name: 'Room A',
      tier: 'standard',
      capacity: 6,
    });

    const member = bare('sdk-member');
    const sites = await member.sites();
    // the org's seeds and the new centre
    expect(sites.map((s) => s.id).sort()).toEqual(['home', 'hq', 'sejong']);
    const { site, places } = await member.site('sejong');
    expect(site.address).toBe('');
    expect(places.map((p) => [p.id, p.kind, p.tier]).sort()).toEqual([
      ['room-a', 'meeting-room', 'standard'],
      ['seat-1', 'seat', null],
      ['seat-2', 'seat', null],
    ]);
    expect((await member.places('sejong')).length).toBe(3);
    expect(await refusal(member.putSite('mine', centre))).toBe('FORBIDDEN');
    expect(await refusal(member.deletePlace('sejong', 'seat-2'))).toBe('FORBIDDEN');
    expect(await refusal(member.site('nowhere'))).toBe('NOT_FOUND');
    // another organisation sees none of it
    expect((await bare('sdk-other', 'member', 'other-org').sites()).map((s) => s.id).sort()).toEqual(['home', 'hq']);
    // a bad body is the server's INVALID_PAYLOAD
    expect(await refusal(admin.telework.putSite('bad', { ...centre, timeZone: 'Mars/Olympus' }))).toBe(
      'INVALID_PAYLOAD',
    );

    await admin.telework.putSite('gone', { ...centre, name: 'Gone' });
    await admin.telework.putPlace('gone', 'x', seat);
    await admin.telework.deletePlace('gone', 'x');
    expect(await refusal(admin.telework.deletePlace('gone', 'x'))).toBe('NOT_FOUND');
    await admin.telework.deleteSite('gone');
    expect(await refusal(member.site('gone'))).toBe('NOT_FOUND');
  });

  it('books, shows the site day and my bookings, refuses with the server’s codes, cancels', async () => {
    const ara = bare('sdk-ara');
    const bora = bare('sdk-bora');
    const at = (time: string) => siteInstant(DAY, time, 'Asia/Seoul');
    const mine = await ara.book({
      siteId: 'sejong',
      placeId: 'seat-1',
      start: at('10:00'),
      end: new Date(at('12:00')),
    });
    expect(mine).toMatchObject({
      siteId: 'sejong',
      placeId: 'seat-1',
      sub: 'sdk-ara',
      start: '2030-01-09T01:00:00.000Z',
      end: '2030-01-09T03:00:00.000Z',
      status: 'booked',
    });
    // the same seat, overlapping: the database refuses it
    const clash = bora.book({ siteId: 'sejong', placeId: 'seat-1', start: at('11:00'), end: at('13:00') });
    expect(await refusal(clash)).toBe('BOOKING_CONFLICT');
    // Monday closes at 18:00 (the centre's hours, in its zone)
    const monday = addDays(DAY, -2);
    expect(weekdayOf(monday)).toBe(1);
    const late = bora.book({
      siteId: 'sejong',
      placeId: 'seat-2',
      start: siteInstant(monday, '17:00', 'Asia/Seoul'),
      end: siteInstant(monday, '19:00', 'Asia/Seoul'),
    });
    expect(await refusal(late)).toBe('OUTSIDE_HOURS');
    const other = await bora.book({
      siteId: 'sejong',
      placeId: 'seat-2',
      start: '2030-01-09T02:00:00Z',
      end: '2030-01-09T04:00:00Z',
    });

    const day = await bora.bookingsOn('sejong', DAY);
    expect(day.map((b) => [b.placeId, b.sub]).sort()).toEqual([
      ['seat-1', 'sdk-ara'],
      ['seat-2', 'sdk-bora'],
    ]);
    expect(await bora.bookingsOn('sejong', addDays(DAY))).toEqual([]);
    expect((await ara.myBookings()).map((b) => b.id)).toEqual([mine.id]);

    expect(await refusal(bora.cancelBooking(mine.id))).toBe('FORBIDDEN');
    expect((await ara.cancelBooking(mine.id)).status).toBe('cancelled');
    expect((await ara.cancelBooking(mine.id)).status).toBe('cancelled');
    expect(await ara.myBookings()).toEqual([]);
    // the freed slot is bookable again
    const again = await bora.book({ siteId: 'sejong', placeId: 'seat-1', start: at('11:00'), end: at('13:00') });
    expect(again.status).toBe('booked');
    // an admin cancels anyone's
    expect((await admin.telework.cancelBooking(other.id)).status).toBe('cancelled');
  });

  it('checks in by hand during a booking (the owner only)', async () => {
    // open all day every day, in a zone where the day is not about to end
    const zone = ['Asia/Seoul', 'Europe/London', 'America/New_York'].find(
      (z) => siteClock(Date.now(), z).time < '23:00',
    )!;
    const allDay = { open: '00:00', close: '23:59' };
    await admin.telework.putSite('always', {
      ...centre,
      timeZone: zone,
      openingHours: Array.from({ length: 7 }, () => allDay),
      networks: [],
    });
    await admin.telework.putPlace('always', 'desk', { kind: 'seat', name: 'Desk', tier: null, capacity: 1 });
    const start = Math.floor(Date.now() / BOOKING_LIMITS.alignMs) * BOOKING_LIMITS.alignMs;
    const cheol = bare('sdk-cheol');
    const booking = await cheol.book({ siteId: 'always', placeId: 'desk', start, end: start + 30 * 60_000 });
    expect(booking.checkedInAt ?? null).toBeNull();
    expect(await refusal(bare('sdk-dami').checkIn(booking.id))).toBe('FORBIDDEN');
    // from 127.0.0.1, outside the site's (empty) ranges: a manual check-in
    const checked = await cheol.checkIn(booking.id);
    expect(checked).toMatchObject({ id: booking.id, status: 'booked', checkInSource: 'manual' });
    expect(Date.parse(checked.checkedInAt ?? '')).toBeGreaterThan(start - 1);
    expect((await cheol.myBookings()).find((b) => b.id === booking.id)?.checkedInAt).toBe(checked.checkedInAt);
  });

  it('hands on the server’s NOT_APPROVED for a centre day without an approved plan (the default)', async () => {
    const gated = await startTestServer();
    try {
      const token = async (sub: string, role: 'admin' | 'member') =>
        (await devToken(gated.url, { name: sub, sub, site: 'hq', role })).token;
      const admin = new Telework({ url: gated.url, getToken: () => token('gate-admin', 'admin') });
      await admin.putSite('centre', centre);
      await admin.putPlace('centre', 'seat-1', { kind: 'seat', name: 'Seat', tier: null, capacity: 1 });
      const member = new Telework({ url: gated.url, getToken: () => token('gate-member', 'member') });
      const at = (time: string) => siteInstant(DAY, time, 'Asia/Seoul');
      const refused = member.book({ siteId: 'centre', placeId: 'seat-1', start: at('10:00'), end: at('11:00') });
      expect(await refusal(refused)).toBe('NOT_APPROVED');
      // headquarters need no plan
      await admin.putPlace('hq', 'desk', { kind: 'seat', name: 'Desk', tier: null, capacity: 1 });
      expect((await member.book({ siteId: 'hq', placeId: 'desk', start: at('10:00'), end: at('11:00') })).status).toBe(
        'booked',
      );
    } finally {
      await gated.close();
    }
  });

  it('refuses ids that cannot be ids before any request, and the server refuses reserved ones', async () => {
    const member = bare('sdk-member');
    for (const p of [
      member.site('..'),
      member.site('__proto__'),
      member.site('a/b'),
      member.putPlace('sejong', '../..', { kind: 'seat', name: 'x', tier: null, capacity: 1 }),
      member.cancelBooking('../sites/sejong'),
      member.checkIn('x/../../sites'),
      member.bookingsOn('sejong', '2030-1-9'),
      member.book({ siteId: 'sejong', placeId: 'seat-1', start: 'soon', end: 'later' }),
    ])
      expect(await refusal(p)).toBe('INVALID_PAYLOAD');
    // a lowercase word the client lets through is still the server's to refuse
    expect(await refusal(member.site('constructor'))).toBe('INVALID_PAYLOAD');
  });

  it('converts between a site’s wall clock and UTC', () => {
    expect(siteInstant('2030-01-09', '10:00', 'Asia/Seoul')).toBe(Date.UTC(2030, 0, 9, 1));
    expect(siteClock(Date.UTC(2030, 0, 9, 15, 30), 'Asia/Seoul')).toEqual({
      date: '2030-01-10',
      weekday: 4,
      time: '00:30',
    });
    // New York: winter UTC-5, summer UTC-4, across the March change
    expect(siteInstant('2026-03-07', '09:00', 'America/New_York')).toBe(Date.UTC(2026, 2, 7, 14));
    expect(siteInstant('2026-03-09', '09:00', 'America/New_York')).toBe(Date.UTC(2026, 2, 9, 13));
    expect(siteClock(siteInstant('2026-03-09', '09:00', 'America/New_York'), 'America/New_York').time).toBe('09:00');
    expect(addDays('2030-12-31')).toBe('2031-01-01');
  });

  it('has the protocol’s constants without zod', () => {
    expect(SITE_KINDS).toEqual(protocol.SITE_KINDS);
    expect(PLACE_KINDS).toEqual(protocol.PLACE_KINDS);
    expect(MEETING_ROOM_TIERS).toEqual(protocol.MEETING_ROOM_TIERS);
    expect(TELEWORK_LIMITS).toEqual(protocol.TELEWORK_LIMITS);
    expect(BOOKING_LIMITS).toEqual(protocol.BOOKING_LIMITS);
  });
});
