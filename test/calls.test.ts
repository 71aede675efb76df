/**
 * Calls that ring (issue 16): a real server, several socket.io devices per person, no media. Each
 * rule of protocol/src/calls.ts against the server's state machine, with its races.
 */
import { rmSync } from 'node:fs';
import type { CallHistoryPage, CallInfo, ChatMessage, MyChannel, PersonPresence } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  call,
  nextEvent,
  request,
  startTestServer,
  type TestServer,
  type TestSocket,
} from '../server/src/testing/index.ts';
import { closeLater, closeServers, errorOf, type Person, person, start } from './calls-support.ts';

afterEach(closeServers);

/** The next call:update of this call on a socket that satisfies `match`. */
const update = (socket: TestSocket, match: (c: CallInfo) => boolean, timeoutMs = 10_000) =>
  nextEvent<CallInfo>(socket, 'call:update', match, timeoutMs);

const ringsHere = (c: CallInfo, deviceId: string) => c.me.state === 'ringing' && !c.me.dismissedOn.includes(deviceId);
const stateOf = (c: CallInfo, sub: string) => c.callees.find((p) => p.sub === sub)?.state;

async function dmMessages(me: Person, other: string): Promise<ChatMessage[]> {
  const sock = Object.values(me.devices)[0]!;
  const dm = await call<{ id: string }>(sock, 'chat:dm:open', { people: [other] });
  return (await call<{ messages: ChatMessage[] }>(sock, 'chat:history', { channelId: dm.id })).messages;
}

async function history(server: TestServer, token: string): Promise<CallHistoryPage> {
  const res = await fetch(`${server.url}/calls/history`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as CallHistoryPage;
}

describe('calls that ring', () => {
  it('rings every device; accepting on one stops the others; a late accept is refused; the room is personal', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { devices: ['laptop', 'phone'] });
    const bob = await person(server, 'bob', { devices: ['laptop', 'phone'] });
    const watcher = await person(server, 'watcher');
    await call(watcher.devices.laptop!, 'presence:subscribe', { people: [alice.sub, bob.sub] });

    const ringing = ['laptop', 'phone'].map((d) => update(bob.devices[d]!, (c) => ringsHere(c, d)));
    const callerPhone = update(alice.devices.phone!, (c) => c.state === 'ringing');
    const started = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
    expect(started).toMatchObject({ state: 'ringing', group: false, tier: 'personal', me: { state: 'caller' } });
    const [onLaptop, onPhone] = await Promise.all(ringing);
    expect(onLaptop!.id).toBe(started.id);
    expect(onPhone!.caller).toMatchObject({ sub: alice.sub, name: 'alice' });
    await callerPhone;

    // the phone answers: the laptop stops ringing (answered elsewhere), the caller's devices see the room
    const stopped = update(bob.devices.laptop!, (c) => c.id === started.id && c.me.state === 'joined');
    const callerSees = update(alice.devices.phone!, (c) => c.state === 'accepted' && c.roomId !== null);
    const accepted = await call<CallInfo>(bob.devices.phone!, 'call:accept', { callId: started.id });
    expect(accepted).toMatchObject({ state: 'accepted', me: { state: 'joined', answeredOn: 'phone' } });
    expect(accepted.roomId).toMatch(/^call-/);
    const elsewhere = await stopped;
    expect(ringsHere(elsewhere, 'laptop')).toBe(false);
    expect(elsewhere.me.answeredOn).toBe('phone');
    expect((await callerSees).roomId).toBe(accepted.roomId);
    expect(await errorOf(bob.devices.laptop!, 'call:accept', { callId: started.id })).toBe('CALL_NOT_RINGING');

    // the room is the call's: personal tier; joining it shows both people "in a call"
    const info = await call<{ tier: string }>(alice.devices.laptop!, 'room:info', { roomId: accepted.roomId });
    expect(info.tier).toBe('personal');
    const aliceInCall = nextEvent<PersonPresence>(
      watcher.devices.laptop!,
      'presence:update',
      (p) => p.sub === alice.sub && p.state === 'in-call',
    );
    await call(alice.devices.laptop!, 'room:join', { roomId: accepted.roomId });
    await aliceInCall;

    // hanging up with two people in it ends the call for everyone
    const ended = update(bob.devices.laptop!, (c) => c.state === 'ended');
    await call(bob.devices.phone!, 'call:hangup', { callId: started.id });
    expect((await ended).endedAt).not.toBeNull();
    const lines = await history(server, bob.token);
    expect(lines.entries[0]).toMatchObject({ callId: started.id, direction: 'incoming', outcome: 'answered' });
  });

  it('declining on one device declines everywhere for that person', async () => {
    const server = await start();
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob', { devices: ['laptop', 'phone'] });
    const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
    const laptopStops = update(bob.devices.laptop!, (u) => u.id === c.id && u.state === 'declined');
    const callerHears = update(alice.devices.laptop!, (u) => u.id === c.id && u.state === 'declined');
    const declined = await call<CallInfo>(bob.devices.phone!, 'call:decline', { callId: c.id });
    expect(declined.state).toBe('declined');
    expect((await laptopStops).me.state).toBe('declined');
    expect(stateOf(await callerHears, bob.sub)).toBe('declined');
    expect(await errorOf(bob.devices.laptop!, 'call:accept', { callId: c.id })).toBe('CALL_NOT_RINGING');
    expect((await history(server, alice.token)).entries[0]).toMatchObject({
      direction: 'outgoing',
      outcome: 'declined',
    });
  });

  it('dismiss silences one device only, and the device remembers it across a reconnect', async () => {
    const server = await start();
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob', { devices: ['laptop', 'phone'] });
    const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
    const dismissed = await call<CallInfo>(bob.devices.phone!, 'call:dismiss', { callId: c.id });
    expect(dismissed.me.dismissedOn).toEqual(['phone']);
    expect(ringsHere(dismissed, 'phone')).toBe(false);
    expect(ringsHere(dismissed, 'laptop')).toBe(true);
    // the caller is not told: the call still rings
    const listed = await call<{ calls: CallInfo[] }>(alice.devices.laptop!, 'call:list', {});
    expect(listed.calls[0]).toMatchObject({ id: c.id, state: 'ringing' });

    // the phone reconnects: the ringing call is there, silenced on it; a fresh tablet rings
    bob.devices.phone!.disconnect();
    const phone = await server.connect(bob.token, { deviceId: 'phone' });
    const again = (await call<{ calls: CallInfo[] }>(phone, 'call:list', {})).calls[0]!;
    expect(again.id).toBe(c.id);
    expect(ringsHere(again, 'phone')).toBe(false);
    const tablet = await server.connect(bob.token, { deviceId: 'tablet' });
    const onTablet = (await call<{ calls: CallInfo[] }>(tablet, 'call:list', {})).calls[0]!;
    expect(ringsHere(onTablet, 'tablet')).toBe(true);
    // a dismissed device may still answer
    const accepted = await call<CallInfo>(phone, 'call:accept', { callId: c.id });
    expect(accepted.state).toBe('accepted');
  });

  it('a callee already in a call, or in do-not-disturb, makes the caller hear busy at once', async () => {
    const server = await start();
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob');
    const carol = await person(server, 'carol');
    const dave = await person(server, 'dave');
    const first = await call<CallInfo>(carol.devices.laptop!, 'call:start', { callees: [bob.sub] });
    await call(bob.devices.laptop!, 'call:accept', { callId: first.id });
    const busy = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
    expect(busy).toMatchObject({ state: 'busy', endedAt: expect.any(Number) });
    expect(stateOf(busy, bob.sub)).toBe('busy');
    // the caller of a running call is in a call too
    expect((await call<CallInfo>(dave.devices.laptop!, 'call:start', { callees: [carol.sub] })).state).toBe('busy');

    await call(dave.devices.laptop!, 'presence:set', { busy: true });
    expect((await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [dave.sub] })).state).toBe('busy');
    expect((await history(server, alice.token)).entries[0]).toMatchObject({ outcome: 'busy' });
  });

  it('two people calling each other at the same moment end in one call', async () => {
    const server = await start();
    for (let round = 0; round < 3; round++) {
      const alice = await person(server, 'alice');
      const bob = await person(server, 'bob');
      const [a, b] = await Promise.all([
        call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] }),
        call<CallInfo>(bob.devices.laptop!, 'call:start', { callees: [alice.sub] }),
      ]);
      expect(a.id).toBe(b.id);
      const mine = await call<{ calls: CallInfo[] }>(alice.devices.laptop!, 'call:list', {});
      expect(mine.calls).toHaveLength(1);
      expect(mine.calls[0]).toMatchObject({ state: 'accepted' });
      expect(mine.calls[0]!.roomId).toMatch(/^call-/);
    }
  });

  it('an unanswered call is missed: a message in the DM (unread), a history entry, and a late accept is refused', async () => {
    const server = await start({ MOIM_CALL_RING_TIMEOUT_MS: '400' });
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob', { devices: ['laptop', 'phone'] });
    const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
    const missed = await update(bob.devices.phone!, (u) => u.id === c.id && u.state === 'missed');
    expect(missed).toMatchObject({ reason: 'timeout', me: { state: 'missed' } });
    expect(await errorOf(bob.devices.laptop!, 'call:accept', { callId: c.id })).toBe('CALL_NOT_RINGING');

    await expect.poll(async () => (await history(server, bob.token)).unread).toBe(1);
    const page = await history(server, bob.token);
    expect(page.entries[0]).toMatchObject({ callId: c.id, outcome: 'missed', unread: true, with: [alice.sub] });
    await expect
      .poll(async () => (await dmMessages(bob, alice.sub)).map((m) => m.text).join('\n'))
      .toMatch(/Missed call from alice/);
    const dm = await call<{ id: string }>(bob.devices.laptop!, 'chat:dm:open', { people: [alice.sub] });
    const channels = await call<{ channels: MyChannel[] }>(bob.devices.laptop!, 'chat:channels', {});
    expect(channels.channels.find((ch) => ch.id === dm.id)?.unread).toBe(1);
    const read = await fetch(`${server.url}/calls/history/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(await read.json()).toEqual({ read: 1 });
    expect((await history(server, bob.token)).unread).toBe(0);
    expect((await history(server, alice.token)).entries[0]).toMatchObject({ direction: 'outgoing', outcome: 'missed' });
    expect(await server.app.metrics.registry.getSingleMetricAsString('moim_calls_finished_total')).toMatch(
      /moim_calls_finished_total\{state="missed"[^}]*\} 1/,
    );
  });

  it('accept against the timer: exactly one wins, and the outcome is the same for everyone', async () => {
    const server = await start({ MOIM_CALL_RING_TIMEOUT_MS: '150' });
    const outcomes = new Set<string>();
    for (let round = 0; round < 8; round++) {
      const alice = await person(server, 'alice');
      const bob = await person(server, 'bob');
      const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
      const finalForCaller = update(alice.devices.laptop!, (u) => u.id === c.id && u.state !== 'ringing');
      await new Promise((r) => setTimeout(r, 130 + round * 5));
      const ack = await request<CallInfo>(bob.devices.laptop!, 'call:accept', { callId: c.id });
      const caller = await finalForCaller;
      if ('error' in ack) {
        expect(ack.error.code).toBe('CALL_NOT_RINGING');
        expect(caller.state).toBe('missed');
        outcomes.add('missed');
      } else {
        expect(ack.data.state).toBe('accepted');
        expect(caller.state).toBe('accepted');
        const listed = await call<{ calls: CallInfo[] }>(bob.devices.laptop!, 'call:list', {});
        expect(listed.calls[0]).toMatchObject({ id: c.id, state: 'accepted' });
        outcomes.add('accepted');
      }
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('a group call shows each callee’s status, uses a standard room, and takes a person added while running', async () => {
    const server = await start({ MOIM_CALL_RING_TIMEOUT_MS: '1500' });
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob');
    const carol = await person(server, 'carol');
    const dave = await person(server, 'dave');
    const erin = await person(server, 'erin');
    const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub, carol.sub, dave.sub] });
    expect(c).toMatchObject({ group: true, tier: 'standard' });
    await call(bob.devices.laptop!, 'call:accept', { callId: c.id });
    await call(carol.devices.laptop!, 'call:decline', { callId: c.id });
    const afterTimeout = await update(alice.devices.laptop!, (u) => u.id === c.id && stateOf(u, dave.sub) === 'missed');
    expect(afterTimeout.state).toBe('accepted');
    expect(afterTimeout.callees.map((p) => [p.sub, p.state])).toEqual([
      [bob.sub, 'joined'],
      [carol.sub, 'declined'],
      [dave.sub, 'missed'],
    ]);
    const info = await call<{ tier: string }>(alice.devices.laptop!, 'room:info', { roomId: afterTimeout.roomId });
    expect(info.tier).toBe('standard');

    // bob (in the call) adds erin; she rings, answers, and is in the same room
    const erinRings = update(erin.devices.laptop!, (u) => u.id === c.id && ringsHere(u, 'laptop'));
    await call(bob.devices.laptop!, 'call:add', { callId: c.id, callees: [erin.sub] });
    await erinRings;
    const joined = await call<CallInfo>(erin.devices.laptop!, 'call:accept', { callId: c.id });
    expect(joined.roomId).toBe(afterTimeout.roomId);
    expect(stateOf(joined, erin.sub)).toBe('joined');
    // carol, who is not in it, may not add people
    expect(await errorOf(carol.devices.laptop!, 'call:add', { callId: c.id, callees: [dave.sub] })).toBe('FORBIDDEN');
  });

  it('the caller cancels: every callee stops ringing and has a missed call', async () => {
    const server = await start();
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob', { devices: ['laptop', 'phone'] });
    const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
    const stops = update(bob.devices.phone!, (u) => u.id === c.id && u.state === 'cancelled');
    expect(await errorOf(bob.devices.laptop!, 'call:cancel', { callId: c.id })).toBe('FORBIDDEN');
    await call(alice.devices.laptop!, 'call:cancel', { callId: c.id });
    expect((await stops).me.state).toBe('cancelled');
    await expect.poll(async () => (await history(server, bob.token)).entries[0]?.outcome).toBe('missed');
  });

  it('bounds: callees per call, calls per person, starts per minute; bad input and other orgs', async () => {
    const server = await start({
      MOIM_CALL_MAX_CALLEES: '2',
      MOIM_CALL_MAX_PER_PERSON: '1',
      MOIM_CALL_STARTS_PER_MINUTE: '3',
    });
    const alice = await person(server, 'alice');
    const [bob, carol, dave] = await Promise.all(['bob', 'carol', 'dave'].map((n) => person(server, n)));
    const a = alice.devices.laptop!;
    expect(await errorOf(a, 'call:start', { callees: [bob!.sub, carol!.sub, dave!.sub] })).toBe('TOO_MANY_CALLEES');
    expect(await errorOf(a, 'call:start', { callees: [alice.sub] })).toBe('INVALID_PAYLOAD');
    expect(await errorOf(a, 'call:start', { callees: [] })).toBe('INVALID_PAYLOAD');
    expect(await errorOf(a, 'call:accept', { callId: '__proto__' })).toBe('INVALID_PAYLOAD');
    expect(await errorOf(a, 'call:accept', { callId: '00000000-0000-4000-8000-000000000000' })).toBe('NOT_FOUND');

    const first = await call<CallInfo>(a, 'call:start', { callees: [bob!.sub] });
    expect(await errorOf(a, 'call:start', { callees: [carol!.sub] })).toBe('TOO_MANY_CALLS');
    await call(a, 'call:cancel', { callId: first.id });
    const third = await call<CallInfo>(a, 'call:start', { callees: [carol!.sub] });
    await call(a, 'call:cancel', { callId: third.id });
    // three starts a minute, refused ones included: the fourth is refused
    expect(await errorOf(a, 'call:start', { callees: [dave!.sub] })).toBe('RATE_LIMITED');

    // someone of another org with the same sub is someone else: the call does not exist for them
    const c = await call<CallInfo>(bob!.devices.laptop!, 'call:start', { callees: [carol!.sub] });
    const stranger = await server.connect(await server.token({ name: 'carol', sub: carol!.sub, org: 'other-org' }));
    expect(await errorOf(stranger, 'call:accept', { callId: c.id })).toBe('NOT_FOUND');
    expect(await errorOf(dave!.devices.laptop!, 'call:accept', { callId: c.id })).toBe('NOT_FOUND');
  });

  it('the call history is stored: it is there after a restart', async () => {
    const first = await startTestServer({ MOIM_CALL_RING_TIMEOUT_MS: '200' });
    const dataDir = first.dataDir;
    let alice: Person;
    let bob: Person;
    try {
      alice = await person(first, 'alice');
      bob = await person(first, 'bob');
      const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
      await update(bob.devices.laptop!, (u) => u.id === c.id && u.state === 'missed');
      await expect.poll(async () => (await history(first, bob.token)).unread).toBe(1);
    } finally {
      await first.app.close();
    }
    const again = await startTestServer({}, { dataDir });
    closeLater(again);
    try {
      const page = await history(again, bob!.token);
      expect(page).toMatchObject({ unread: 1, entries: [{ outcome: 'missed', with: [alice!.sub] }] });
    } finally {
      // the second server removes nothing of a data folder it was given
      closeLater({ close: async () => rmSync(dataDir, { recursive: true, force: true }) });
    }
  });

  it('a person whose devices are all gone leaves the call after the grace period', async () => {
    const server = await start({ MOIM_CALL_DROP_GRACE_MS: '200' });
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob', { devices: ['laptop', 'phone'] });
    const c = await call<CallInfo>(alice.devices.laptop!, 'call:start', { callees: [bob.sub] });
    await call(bob.devices.laptop!, 'call:accept', { callId: c.id });
    // one device left: still in the call
    const ended = update(alice.devices.laptop!, (u) => u.id === c.id && u.state === 'ended', 5_000);
    bob.devices.phone!.disconnect();
    await new Promise((r) => setTimeout(r, 400));
    expect((await call<{ calls: CallInfo[] }>(alice.devices.laptop!, 'call:list', {})).calls).toHaveLength(1);
    bob.devices.laptop!.disconnect();
    expect(stateOf(await ended, bob.sub)).toBe('left');
  });
});
