/**
 * Two booking rules against a real server with the default configuration: a smart-work centre is
 * booked only on a day of an approved telework plan at that centre (NOT_APPROVED otherwise — no
 * plan, or a plan at another centre), and a booked meeting room is a video room: a room record with
 * the booking's id, the room's tier and a notes document, that opens at its first join and is
 * closed with the booking.
 */
import type { Booking, RoomRecordInfo } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { call as ask, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { putPerson } from './approval-support.ts';
import { api as call, seoul, weekdays } from './telework-support.ts';

const DAY = '2030-01-08';
const clock = new ManualClock(seoul('2030-01-07', 10));
let server: TestServer;
const tokens = new Map<string, string>();
const token = (sub: string) => tokens.get(sub) ?? '';

beforeAll(async () => {
  server = await startTestServer({}, { clock });
  for (const sub of ['mgr', 'amy', 'ben']) tokens.set(sub, await server.token({ name: sub, sub, org: 'acme' }));
  tokens.set('admin', await server.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'acme' }));
  const admin = token('admin');
  const centre = (name: string) => ({
    name,
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: weekdays('08:00', '20:00'),
    networks: [],
    kind: 'smart-work-centre',
  });
  for (const id of ['sejong', 'gangnam']) {
    expect((await call(server, 'PUT', `/telework/sites/${id}`, admin, centre(id))).status).toBe(201);
    const seat = { kind: 'seat', name: 'Desk', tier: null, capacity: 1 };
    expect((await call(server, 'PUT', `/telework/sites/${id}/places/desk-1`, admin, seat)).status).toBe(201);
  }
  const room = { kind: 'meeting-room', name: 'Board room', tier: 'immersive', capacity: 12 };
  expect((await call(server, 'PUT', '/telework/sites/hq/places/board', admin, room)).status).toBe(201);
  await putPerson(server, admin, 'mgr');
  for (const sub of ['amy', 'ben']) await putPerson(server, admin, sub, { manager: 'mgr' });
  // amy: an approved day at sejong; ben: one at gangnam
  for (const [sub, siteId] of [
    ['amy', 'sejong'],
    ['ben', 'gangnam'],
  ] as const) {
    const applied = await call<{ request: { id: string } }>(server, 'POST', '/telework/requests', token(sub), {
      days: [DAY],
      type: 'smart-work-centre',
      siteId,
      tasks: ['Work'],
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    expect((await call(server, 'POST', `/approvals/${applied.body.request.id}/approve`, token('mgr'), {})).status).toBe(
      200,
    );
  }
  await server.app.teleworkRequests.idle();
});
afterAll(() => server.close());

const slot = (siteId: string, placeId: string, day = DAY) => ({
  siteId,
  placeId,
  start: new Date(seoul(day, 9)).toISOString(),
  end: new Date(seoul(day, 12)).toISOString(),
});

describe('booking rules', () => {
  it('books a smart-work centre only on a day of an approved plan at that centre', async () => {
    const book = (sub: string, body: unknown) =>
      call<{ booking: Booking }>(server, 'POST', '/telework/bookings', token(sub), body);
    // ben's plan is at gangnam, not sejong; nobody has a plan on the 9th
    expect((await book('ben', slot('sejong', 'desk-1'))).body.error?.code).toBe('NOT_APPROVED');
    expect((await book('amy', slot('sejong', 'desk-1', '2030-01-09'))).body.error?.code).toBe('NOT_APPROVED');
    expect((await book('mgr', slot('gangnam', 'desk-1'))).body.error?.code).toBe('NOT_APPROVED');
    expect((await book('amy', slot('sejong', 'desk-1'))).status).toBe(201);
    expect((await book('ben', slot('gangnam', 'desk-1'))).status).toBe(201);
  });

  it('a booked meeting room is a video room of the room’s tier that opens at the first join and closes with the booking', async () => {
    const booked = await call<{ booking: Booking }>(
      server,
      'POST',
      '/telework/bookings',
      token('mgr'),
      slot('hq', 'board'),
    );
    expect(booked.status).toBe(201);
    const id = booked.body.booking.id;
    const socket = await server.connect(token('amy'));
    const info = await ask<RoomRecordInfo & { peers: unknown[] }>(socket, 'room:info', { roomId: id });
    expect(info).toMatchObject({
      roomId: id,
      tier: 'immersive',
      name: 'Board room · HQ',
      ownerSub: 'mgr',
      docName: `room-${id}-notes`,
    });
    expect(info.peers).toEqual([]);
    const joined = await ask<{ room: RoomRecordInfo; peerId: string }>(socket, 'room:join', { roomId: id });
    expect(joined.room.tier).toBe('immersive');
    await ask(socket, 'room:leave', { roomId: id });
    expect((await call(server, 'DELETE', `/telework/bookings/${id}`, token('mgr'))).status).toBe(200);
    const again = await request(socket, 'room:join', { roomId: id });
    expect('error' in again && again.error.code).toBe('ROOM_CLOSED');
    socket.disconnect();
  });
});
