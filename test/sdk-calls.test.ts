/**
 * `client.calls` of the SDK against a real server: ring and stop-ringing per device, the answer
 * with the call's room, the room joined through `client.rooms`' request, a device that comes back
 * after the call ended stops ringing, and the history.
 */
import { type CallInfo, connect, devToken, invitationEndedBy, type MoimClient, meetingToJoin } from '@moim/client-sdk';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
const clients: MoimClient[] = [];

beforeEach(async () => {
  server = await startTestServer({ MOIM_CALL_RING_TIMEOUT_MS: '1500' });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server.close();
});

async function device(sub: string, deviceId: string): Promise<MoimClient> {
  const c = await connect({
    url: server.url,
    transports: ['websocket'],
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 500,
    deviceId,
    getToken: async () =>
      (await devToken(server.url, { name: sub.toUpperCase(), site: 'hq', role: 'member', sub })).token,
  });
  clients.push(c);
  return c;
}

function next<T>(subscribe: (resolve: (v: T) => void) => () => void, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out'));
    }, timeoutMs);
    off = subscribe((v) => {
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

const ringOn = (c: MoimClient) =>
  next<CallInfo>((r) => {
    c.calls.on('ring', r);
    return () => c.calls.off('ring', r);
  });
const stopOn = (c: MoimClient) =>
  next<CallInfo>((r) => {
    c.calls.on('stopRinging', r);
    return () => c.calls.off('stopRinging', r);
  });

describe('client.calls', () => {
  it('rings every device of the callee; answering on one stops the other; the answer carries the room', async () => {
    const alice = await device('alice', 'a-laptop');
    const laptop = await device('bob', 'b-laptop');
    const phone = await device('bob', 'b-phone');
    const rings = [ringOn(laptop), ringOn(phone)];
    const call = await alice.calls.start(['bob']);
    const [r1, r2] = await Promise.all(rings);
    expect(r1!.id).toBe(call.id);
    expect(r2!.caller.sub).toBe('alice');
    expect(laptop.calls.ringing.map((c) => c.id)).toEqual([call.id]);

    const stopped = stopOn(laptop);
    const answered = await phone.calls.accept(call.id);
    expect(answered.roomId).toMatch(/^call-/);
    expect((await stopped).me.answeredOn).toBe('b-phone');
    expect(laptop.calls.ringing).toEqual([]);
    await expect(laptop.calls.accept(call.id)).rejects.toMatchObject({ code: 'CALL_NOT_RINGING' });
    const joined = await phone.request('room:join', { roomId: answered.roomId! });
    expect(joined.room.tier).toBe('personal');
    await alice.calls.hangup(call.id);
    await expect.poll(() => phone.calls.get(call.id)?.state).toBe('ended');
  });

  it('invite rings into a running meeting: typed, every device rings, the answer names the meeting', async () => {
    const alice = await device('alice', 'a-laptop');
    const laptop = await device('bob', 'b-laptop');
    const phone = await device('bob', 'b-phone');
    const room = await alice.request('room:create', { tier: 'standard', name: 'Standup' });
    // not in it yet: refused with a code the app can act on
    await expect(alice.calls.invite(room.roomId, ['bob'])).rejects.toMatchObject({ code: 'NOT_IN_ROOM' });
    await alice.request('room:join', { roomId: room.roomId });

    const rings = [ringOn(laptop), ringOn(phone)];
    const invitation = await alice.calls.invite(room.roomId, ['bob']);
    expectTypeOf(invitation).toEqualTypeOf<CallInfo>();
    expect(invitation).toMatchObject({ state: 'ringing', meeting: { roomId: room.roomId, name: 'Standup' } });
    const [r1] = await Promise.all(rings);
    expect(r1!.meeting?.roomId).toBe(room.roomId);

    const stopped = stopOn(laptop);
    const answered = await phone.calls.accept(invitation.id);
    expect(answered).toMatchObject({ state: 'ended', roomId: null, me: { state: 'joined' } });
    expect((await stopped).me.answeredOn).toBe('b-phone');
    const joined = await phone.request('room:join', { roomId: answered.meeting!.roomId });
    expect(joined.peers.length).toBe(1);
    await expect.poll(() => alice.calls.get(invitation.id)?.state).toBe('ended');
  });

  it('an invitation stops ringing when its inviter leaves; history offers to join a meeting still open', async () => {
    const alice = await device('alice', 'a-laptop');
    const bob = await device('bob', 'b-laptop');
    const room = await alice.request('room:create', { tier: 'standard', name: 'Retro' });
    await alice.request('room:join', { roomId: room.roomId });
    const ringing = ringOn(bob);
    const invitation = await alice.calls.invite(room.roomId, ['bob']);
    await ringing;
    const stopped = stopOn(bob);
    await alice.request('room:leave', { roomId: room.roomId });
    const ended = await stopped;
    expect(ended).toMatchObject({ id: invitation.id, state: 'cancelled', reason: 'inviter-left' });
    expect(invitationEndedBy(ended)).toBe('inviter-left');

    // the meeting is still open: bob's history offers to join it, until it is closed
    await expect.poll(async () => (await bob.calls.history()).entries.length).toBe(1);
    const [entry] = (await bob.calls.history()).entries;
    expect(entry!.meeting).toEqual({ roomId: room.roomId, name: 'Retro', open: true });
    expect(meetingToJoin(entry!)).toBe(room.roomId);
    await alice.request('room:close', { roomId: room.roomId });
    expect(meetingToJoin((await bob.calls.history()).entries[0]!)).toBeNull();
  });

  it('dismiss stops this device only; a missed call is in the history, unread until read', async () => {
    const alice = await device('alice', 'a-laptop');
    const laptop = await device('bob', 'b-laptop');
    const phone = await device('bob', 'b-phone');
    const ringing = ringOn(laptop);
    const call = await alice.calls.start(['bob']);
    await ringing;
    const stopped = stopOn(laptop);
    await laptop.calls.dismiss(call.id);
    await stopped;
    expect(laptop.calls.ringing).toEqual([]);
    await expect.poll(() => phone.calls.ringing.map((c) => c.id)).toEqual([call.id]);
    // the phone rings until the timer runs out
    const missed = await stopOn(phone);
    expect(missed.state).toBe('missed');
    await expect.poll(async () => (await phone.calls.history()).unread).toBe(1);
    const { entries } = await laptop.calls.history();
    expect(entries[0]).toMatchObject({ callId: call.id, outcome: 'missed', direction: 'incoming' });
    expect(await phone.calls.markHistoryRead()).toEqual({ read: 1 });
    expect((await alice.calls.history()).entries[0]).toMatchObject({ direction: 'outgoing', outcome: 'missed' });
  });
});
