/**
 * Meeting invitations (`call:invite`, issue 15): ringing people into a running meeting with the
 * calls' machinery. A real server with real mediasoup workers; several socket.io devices per
 * person; people join the meeting over socket.io (no media flows). Each rule of the invitation
 * part of protocol/src/calls.ts: every device rings, one answer stops the others and lets the
 * invitee into the room (their token names no room), decline everywhere, timeout → missed with a
 * DM notice and a history entry, the inviter told, the meeting untouched when the invitation ends;
 * refusals: inviter not in the room, another org's room, a closed room, bad input, bounds.
 */
import type { CallHistoryPage, CallInfo, ChatMessage } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { call, nextEvent, type TestServer, type TestSocket } from '../server/src/testing/index.ts';
import { closeServers, errorOf, everything, narrow, type Person, person, start } from './calls-support.ts';

afterEach(closeServers);

/** A host: every room, and may create standard rooms. */
const host = everything;

const update = (socket: TestSocket, match: (c: CallInfo) => boolean, timeoutMs = 10_000) =>
  nextEvent<CallInfo>(socket, 'call:update', match, timeoutMs);
const ringsHere = (c: CallInfo, deviceId: string) => c.me.state === 'ringing' && !c.me.dismissedOn.includes(deviceId);
const stateOf = (c: CallInfo, sub: string) => c.callees.find((p) => p.sub === sub)?.state;

async function history(server: TestServer, token: string): Promise<CallHistoryPage> {
  const res = await fetch(`${server.url}/calls/history`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as CallHistoryPage;
}

async function dmMessages(me: Person, other: string): Promise<ChatMessage[]> {
  const sock = me.socket;
  const dm = await call<{ id: string }>(sock, 'chat:dm:open', { people: [other] });
  return (await call<{ messages: ChatMessage[] }>(sock, 'chat:history', { channelId: dm.id })).messages;
}

/** A running meeting named `name`, with its host in it. */
async function meeting(hostPerson: Person, name = 'Weekly review'): Promise<string> {
  const room = await call<{ roomId: string }>(hostPerson.socket, 'room:create', { tier: 'standard', name });
  await call(hostPerson.socket, 'room:join', { roomId: room.roomId });
  return room.roomId;
}

const peersOf = async (socket: TestSocket, roomId: string) =>
  (await call<{ peers: { sub?: string }[] }>(socket, 'room:info', { roomId })).peers.length;

describe('meeting invitations ring like calls', () => {
  it('rings every device; one answer stops the others and lets the invitee in; the meeting goes on', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: host });
    const bob = await person(server, 'bob', { grants: narrow(), devices: ['laptop', 'phone'] });
    const roomId = await meeting(alice);
    // bob's token names no room: not in before the invitation
    expect(await errorOf(bob.devices.laptop!, 'room:join', { roomId })).toBe('FORBIDDEN');

    const ringing = ['laptop', 'phone'].map((d) => update(bob.devices[d]!, (c) => ringsHere(c, d)));
    const inv = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [bob.sub] });
    expect(inv).toMatchObject({
      state: 'ringing',
      roomId: null,
      meeting: { roomId, name: 'Weekly review' },
      tier: 'standard',
      me: { state: 'caller' },
    });
    const [onLaptop, onPhone] = await Promise.all(ringing);
    expect(onLaptop!.id).toBe(inv.id);
    expect(onPhone!.meeting).toEqual({ roomId, name: 'Weekly review' });
    expect(onPhone!.caller).toMatchObject({ sub: alice.sub, name: 'alice' });
    // still ringing: not in yet
    expect(await errorOf(bob.devices.phone!, 'room:join', { roomId })).toBe('FORBIDDEN');

    // the phone answers: the laptop stops ringing (answered elsewhere), the invitation is over
    const laptopStops = update(bob.devices.laptop!, (c) => c.id === inv.id && c.me.state !== 'ringing');
    const inviterHears = update(alice.devices.laptop!, (c) => c.id === inv.id && c.state === 'ended');
    const accepted = await call<CallInfo>(bob.devices.phone!, 'call:accept', { callId: inv.id });
    expect(accepted).toMatchObject({ state: 'ended', roomId: null, me: { state: 'joined', answeredOn: 'phone' } });
    const elsewhere = await laptopStops;
    expect(ringsHere(elsewhere, 'laptop')).toBe(false);
    expect(elsewhere.me.answeredOn).toBe('phone');
    expect(stateOf(await inviterHears, bob.sub)).toBe('joined');
    expect(await errorOf(bob.devices.laptop!, 'call:accept', { callId: inv.id })).toBe('CALL_NOT_RINGING');

    // in: join, publish and subscribe in the meeting's room, on either device
    await call(bob.devices.phone!, 'room:join', { roomId });
    for (const direction of ['send', 'recv'])
      expect(
        await call<{ transportId: string }>(bob.devices.phone!, 'media:createTransport', { roomId, direction }),
      ).toEqual(expect.objectContaining({ transportId: expect.any(String) }));
    expect(await peersOf(alice.devices.laptop!, roomId)).toBe(2);
    // nothing more than that: moderation stays the token's
    expect(await errorOf(bob.devices.phone!, 'room:close', { roomId })).toBe('FORBIDDEN');

    // hanging up the finished invitation touches nothing of the meeting
    const hung = await call<CallInfo>(bob.devices.phone!, 'call:hangup', { callId: inv.id });
    expect(hung.state).toBe('ended');
    expect(await peersOf(bob.devices.phone!, roomId)).toBe(2);
    expect((await call<{ calls: CallInfo[] }>(alice.devices.laptop!, 'call:list', {})).calls).toEqual([]);
    // nobody is "in a call" because of it: alice may be called, bob may call
    const carol = await person(server, 'carol', { grants: host });
    expect((await call<CallInfo>(carol.devices.laptop!, 'call:start', { callees: [alice.sub] })).state).toBe('ringing');
    expect((await history(server, bob.token)).entries[0]).toMatchObject({
      callId: inv.id,
      direction: 'incoming',
      outcome: 'answered',
      with: [alice.sub],
    });
    // someone else not invited stays out
    const dan = await person(server, 'dan', { grants: narrow() });
    expect(await errorOf(dan.devices.laptop!, 'room:join', { roomId })).toBe('FORBIDDEN');
  });

  it('declining on one device declines everywhere and tells the inviter; the meeting is untouched', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: host });
    const bob = await person(server, 'bob', { grants: narrow(), devices: ['laptop', 'phone'] });
    const roomId = await meeting(alice);
    const inv = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [bob.sub] });
    const laptopStops = update(bob.devices.laptop!, (u) => u.id === inv.id && u.state === 'declined');
    const inviterHears = update(alice.devices.laptop!, (u) => u.id === inv.id && u.state === 'declined');
    const declined = await call<CallInfo>(bob.devices.phone!, 'call:decline', { callId: inv.id });
    expect(declined.state).toBe('declined');
    expect((await laptopStops).me.state).toBe('declined');
    expect(stateOf(await inviterHears, bob.sub)).toBe('declined');
    expect(await errorOf(bob.devices.laptop!, 'room:join', { roomId })).toBe('FORBIDDEN');
    expect(await peersOf(alice.devices.laptop!, roomId)).toBe(1);
    expect((await history(server, alice.token)).entries[0]).toMatchObject({
      direction: 'outgoing',
      outcome: 'declined',
    });

    // the inviter cancels another one: the invitee stops ringing, the meeting stays
    const again = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [bob.sub] });
    const stops = update(bob.devices.phone!, (u) => u.id === again.id && u.state === 'cancelled');
    await call(alice.devices.laptop!, 'call:hangup', { callId: again.id });
    expect((await stops).me.state).toBe('cancelled');
    expect(await peersOf(alice.devices.laptop!, roomId)).toBe(1);
  });

  it('dismiss silences one device; do-not-disturb and a running call are busy at once', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: host });
    const bob = await person(server, 'bob', { grants: narrow(), devices: ['laptop', 'phone'] });
    const carol = await person(server, 'carol', { grants: host });
    const dave = await person(server, 'dave', { grants: host });
    const roomId = await meeting(alice);
    const inv = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [bob.sub] });
    const dismissed = await call<CallInfo>(bob.devices.phone!, 'call:dismiss', { callId: inv.id });
    expect(ringsHere(dismissed, 'phone')).toBe(false);
    expect(ringsHere(dismissed, 'laptop')).toBe(true);
    await call(alice.devices.laptop!, 'call:cancel', { callId: inv.id });

    await call(bob.devices.laptop!, 'presence:set', { busy: true });
    const busy = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [bob.sub] });
    expect(busy).toMatchObject({ state: 'busy', endedAt: expect.any(Number) });

    const c = await call<CallInfo>(carol.devices.laptop!, 'call:start', { callees: [dave.sub] });
    await call(dave.devices.laptop!, 'call:accept', { callId: c.id });
    const inCall = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [dave.sub] });
    expect(stateOf(inCall, dave.sub)).toBe('busy');
  });

  it('an unanswered invitation is missed: the inviter is told, a DM notice with the link, a history entry', async () => {
    const server = await start({ MOIM_CALL_RING_TIMEOUT_MS: '400' });
    const alice = await person(server, 'alice', { grants: host });
    const bob = await person(server, 'bob', { grants: narrow(), devices: ['laptop', 'phone'] });
    const roomId = await meeting(alice, 'Budget 예산');
    const inviterHears = update(alice.devices.laptop!, (u) => u.state === 'missed');
    const inv = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [bob.sub] });
    const missed = await update(bob.devices.phone!, (u) => u.id === inv.id && u.state === 'missed');
    expect(missed).toMatchObject({ reason: 'timeout', me: { state: 'missed' } });
    expect(stateOf(await inviterHears, bob.sub)).toBe('missed');
    expect(await errorOf(bob.devices.laptop!, 'call:accept', { callId: inv.id })).toBe('CALL_NOT_RINGING');
    expect(await errorOf(bob.devices.laptop!, 'room:join', { roomId })).toBe('FORBIDDEN');

    await expect.poll(async () => (await history(server, bob.token)).unread).toBe(1);
    expect((await history(server, bob.token)).entries[0]).toMatchObject({
      callId: inv.id,
      outcome: 'missed',
      unread: true,
      with: [alice.sub],
    });
    await expect
      .poll(async () => (await dmMessages(bob, alice.sub)).map((m) => m.text).join('\n'))
      .toContain(`alice invited you to “Budget 예산” — missed`);
    const notice = (await dmMessages(bob, alice.sub)).find((m) => m.text.includes('invited you'))!;
    expect(notice.text).toContain(`#/meeting/${roomId}`);
    expect(notice.text).toContain('회의 초대');
    // the meeting goes on
    expect(await peersOf(alice.devices.laptop!, roomId)).toBe(1);
  });

  it('a group invitation: each invitee answers for themself; it ends once nobody rings', async () => {
    const server = await start({ MOIM_CALL_RING_TIMEOUT_MS: '1500' });
    const alice = await person(server, 'alice', { grants: host });
    const [bob, carol, dave] = await Promise.all(
      ['bob', 'carol', 'dave'].map((n) => person(server, n, { grants: narrow() })),
    );
    const roomId = await meeting(alice);
    const inv = await call<CallInfo>(alice.devices.laptop!, 'call:invite', {
      roomId,
      callees: [bob!.sub, carol!.sub, dave!.sub],
    });
    expect(inv.group).toBe(true);
    const a = await call<CallInfo>(bob!.devices.laptop!, 'call:accept', { callId: inv.id });
    expect(a.state).toBe('accepted');
    await call(bob!.devices.laptop!, 'room:join', { roomId });
    await call(carol!.devices.laptop!, 'call:decline', { callId: inv.id });
    const end = await update(alice.devices.laptop!, (u) => u.id === inv.id && u.state === 'ended');
    expect(end.callees.map((p) => [p.sub, p.state])).toEqual([
      [bob!.sub, 'joined'],
      [carol!.sub, 'declined'],
      [dave!.sub, 'missed'],
    ]);
    expect(await errorOf(carol!.devices.laptop!, 'room:join', { roomId })).toBe('FORBIDDEN');
    expect(await errorOf(dave!.devices.laptop!, 'room:join', { roomId })).toBe('FORBIDDEN');
    expect(await peersOf(alice.devices.laptop!, roomId)).toBe(2);
    // an invitation takes nobody more; its inviter hanging up once one answered stops the others' ring
    const next = await call<CallInfo>(alice.devices.laptop!, 'call:invite', {
      roomId,
      callees: [carol!.sub, dave!.sub],
    });
    expect(await errorOf(alice.devices.laptop!, 'call:add', { callId: next.id, callees: [bob!.sub] })).toBe(
      'FORBIDDEN',
    );
    await call(carol!.devices.laptop!, 'call:accept', { callId: next.id });
    const daveStops = update(dave!.devices.laptop!, (u) => u.id === next.id && u.state === 'cancelled');
    await call(alice.devices.laptop!, 'call:hangup', { callId: next.id });
    expect((await daveStops).me.state).toBe('cancelled');
    expect(stateOf(await daveStops, carol!.sub)).toBe('joined');
    await call(carol!.devices.laptop!, 'room:join', { roomId });
    expect(await peersOf(alice.devices.laptop!, roomId)).toBe(3);
  });

  it('refuses: the inviter not in the room, another org’s room, a closed or unknown room, bad input, bounds', async () => {
    const server = await start({ MOIM_CALL_MAX_PER_PERSON: '1', MOIM_CALL_STARTS_PER_MINUTE: '4' });
    const alice = await person(server, 'alice', { grants: host });
    const bob = await person(server, 'bob', { grants: narrow() });
    const carol = await person(server, 'carol', { grants: host });
    const roomId = await meeting(alice);
    const c = carol.devices.laptop!;
    const a = alice.devices.laptop!;

    // carol may join (her token names every room) but is not in it: refused
    expect(await errorOf(c, 'call:invite', { roomId, callees: [bob.sub] })).toBe('NOT_IN_ROOM');
    // the same sub in another org, in a room of its own org with the same grants: alice's room is not found
    const evil = await person(server, 'alice', { grants: host, org: 'evil-org' });
    await meeting(evil);
    expect(await errorOf(evil.socket, 'call:invite', { roomId, callees: [bob.sub] })).toBe('NOT_FOUND');
    expect(
      await errorOf(a, 'call:invite', { roomId: '00000000-0000-4000-8000-000000000000', callees: [bob.sub] }),
    ).toBe('NOT_FOUND');
    // bad input: never reaches the service
    for (const bad of [
      { roomId, callees: [] },
      { roomId, callees: [alice.sub] },
      { roomId: '__proto__/x', callees: [bob.sub] },
      { roomId: 'x'.repeat(65), callees: [bob.sub] },
      { roomId, callees: [bob.sub], extra: 1 },
      { roomId: 'call-00000000-0000-4000-8000-000000000000', callees: [bob.sub] },
      { callees: [bob.sub] },
    ])
      expect(await errorOf(a, 'call:invite', bad)).toBe('INVALID_PAYLOAD');

    // one invitation ringing at a time (MOIM_CALL_MAX_PER_PERSON=1)
    const inv = await call<CallInfo>(a, 'call:invite', { roomId, callees: [bob.sub] });
    expect(await errorOf(a, 'call:invite', { roomId, callees: [carol.sub] })).toBe('TOO_MANY_CALLS');
    await call(a, 'call:cancel', { callId: inv.id });

    // a closed meeting
    await call(a, 'room:close', { roomId });
    expect(await errorOf(a, 'call:invite', { roomId, callees: [bob.sub] })).toBe('ROOM_CLOSED');
    // starts per minute count invitations
    expect(await errorOf(a, 'call:invite', { roomId, callees: [bob.sub] })).toBe('RATE_LIMITED');
  });

  it('callees per invitation are bounded by the room’s tier', async () => {
    const server = await start({ MOIM_CALL_MAX_CALLEES: '49' });
    const alice = await person(server, 'alice', { grants: host });
    const room = await call<{ roomId: string }>(alice.socket, 'room:create', { tier: 'personal', name: 'one to one' });
    await call(alice.socket, 'room:join', { roomId: room.roomId });
    const many = Array.from({ length: 8 }, (_, i) => `someone-${i}`);
    expect(await errorOf(alice.socket, 'call:invite', { roomId: room.roomId, callees: many })).toBe('TOO_MANY_CALLEES');
  });
});
