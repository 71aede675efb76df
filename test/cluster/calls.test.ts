/**
 * Calls across nodes (issue 16): a call lives on the node that placed it; a callee's devices on
 * other nodes ring (updates through the adapter), answer, decline and list through the relay;
 * two people calling each other through two nodes end in one call (one Lua claim in Redis); a
 * callee in a call held by another node is busy; a meeting invitation lets its invitee into a
 * meeting homed on another node, and ends when its inviter leaves or the meeting closes there.
 */
import { randomUUID } from 'node:crypto';
import { CALL_LEFT_REASON, type CallInfo, type Grants, PROTOCOL_VERSION } from '@moim/protocol';
import { io as ioClient } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestSocket } from '../../server/src/testing/index.ts';
import { devToken, type ServerProcess } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { call, nextEvent, request } from './support.ts';

const fixture = useCluster(['calls-a', 'calls-b'], {
  MOIM_CALL_RING_TIMEOUT_MS: '20000',
  MOIM_CALL_DROP_GRACE_MS: '300',
});
const nodes = fixture.nodes;
const sockets: TestSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});

function device(node: ServerProcess, token: string, deviceId: string): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket: TestSocket = ioClient(node.url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION, deviceId },
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

async function person(name: string, grants?: Grants): Promise<{ sub: string; token: string }> {
  const sub = `${name}-${randomUUID().slice(0, 6)}`;
  return { sub, token: await devToken(nodes[0]!.url, { name, sub, ...(grants ? { grants } : {}) }) };
}

/** Grants naming one unrelated room only: never a call's room. */
const narrow = (createRooms: Grants['createRooms'] = []): Grants => ({
  rooms: { 'team-standup': ['join', 'publish', 'subscribe'] },
  docs: {},
  chat: true,
  createRooms,
});

const update = (s: TestSocket, match: (c: CallInfo) => boolean) => nextEvent<CallInfo>(s, 'call:update', match);

describe('calls across nodes', () => {
  it('rings the callee’s devices on both nodes; an answer on the other node is relayed; a late one refused', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const caller = await device(nodes[0]!, alice.token, 'a1');
    const bobHere = await device(nodes[0]!, bob.token, 'b-here');
    const bobThere = await device(nodes[1]!, bob.token, 'b-there');
    const ringing = [bobHere, bobThere].map((s) => update(s, (c) => c.me.state === 'ringing'));
    const started = await call<CallInfo>(caller, 'call:start', { callees: [bob.sub] });
    for (const r of await Promise.all(ringing)) expect(r.id).toBe(started.id);

    // the device on the other node lists it (through the relay) and answers it
    const listed = await call<{ calls: CallInfo[] }>(bobThere, 'call:list', {});
    expect(listed.calls.map((c) => c.id)).toEqual([started.id]);
    const stopped = update(bobHere, (c) => c.me.state === 'joined');
    const callerSees = update(caller, (c) => c.state === 'accepted' && c.roomId !== null);
    const accepted = await call<CallInfo>(bobThere, 'call:accept', { callId: started.id });
    expect(accepted).toMatchObject({ state: 'accepted', me: { answeredOn: 'b-there' } });
    expect((await stopped).me.answeredOn).toBe('b-there');
    expect((await callerSees).roomId).toBe(accepted.roomId);
    const late = await request(bobHere, 'call:accept', { callId: started.id });
    expect('error' in late && late.error.code).toBe('CALL_NOT_RINGING');

    // someone calling bob from the other node hears busy: bob is in a call held by node a
    const carol = await person('carol');
    const carolThere = await device(nodes[1]!, carol.token, 'c1');
    expect((await call<CallInfo>(carolThere, 'call:start', { callees: [bob.sub] })).state).toBe('busy');

    // hanging up from the other node ends the call everywhere
    const ended = update(caller, (c) => c.id === started.id && c.state === 'ended');
    await call(bobThere, 'call:hangup', { callId: started.id });
    await ended;
  });

  it('two people calling each other through two nodes at the same moment end in one call', async () => {
    for (let round = 0; round < 4; round++) {
      const alice = await person('alice');
      const bob = await person('bob');
      const a = await device(nodes[0]!, alice.token, 'a1');
      const b = await device(nodes[1]!, bob.token, 'b1');
      const [fromA, fromB] = await Promise.all([
        call<CallInfo>(a, 'call:start', { callees: [bob.sub] }),
        call<CallInfo>(b, 'call:start', { callees: [alice.sub] }),
      ]);
      expect(fromA.id).toBe(fromB.id);
      const lists = await Promise.all([a, b].map((s) => call<{ calls: CallInfo[] }>(s, 'call:list', {})));
      for (const l of lists) {
        expect(l.calls).toHaveLength(1);
        expect(l.calls[0]).toMatchObject({ id: fromA.id, state: 'accepted' });
      }
      await call(a, 'call:hangup', { callId: fromA.id });
    }
  });

  it("a call's room, homed on the node that does not hold the call, lets only the call's people in and closes with the call", async () => {
    const alice = await person('alice', narrow(['personal']));
    const bob = await person('bob', narrow());
    const carol = await person('carol');
    const a = await device(nodes[0]!, alice.token, 'a1');
    const b = await device(nodes[1]!, bob.token, 'b1');
    const c = await device(nodes[1]!, carol.token, 'c1');
    const placed = await call<CallInfo>(a, 'call:start', { callees: [bob.sub] });
    const accepted = await call<CallInfo>(b, 'call:accept', { callId: placed.id });
    const roomId = accepted.roomId!;
    // bob joins first from node b: the room is homed there, the call on node a (judged from its snapshot)
    await call(b, 'room:join', { roomId });
    await call(a, 'room:join', { roomId });
    // carol's token names every room; she is not in the call
    const refused = await request(c, 'room:join', { roomId });
    expect('error' in refused && refused.error.code).toBe('FORBIDDEN');

    // the caller hangs up on node a: the room closes on node b, both are told, nobody joins again
    const told = [a, b].map((s) =>
      nextEvent<{ roomId: string; reason: string }>(s, 'room:closed', (e) => e.roomId === roomId),
    );
    await call(a, 'call:hangup', { callId: placed.id });
    for (const t of await Promise.all(told)) expect(t.reason).toBe('ROOM_CLOSED');
    const again = await request(b, 'room:join', { roomId });
    expect('error' in again && again.error.code).toBe('FORBIDDEN');
  });

  it('a person who hangs up a call that goes on leaves its room on the other node that homes it', async () => {
    const alice = await person('alice', narrow(['personal', 'standard']));
    const bob = await person('bob', narrow());
    const dan = await person('dan', narrow());
    const a = await device(nodes[0]!, alice.token, 'a1');
    const b = await device(nodes[1]!, bob.token, 'b1');
    const d = await device(nodes[0]!, dan.token, 'd1');
    const placed = await call<CallInfo>(a, 'call:start', { callees: [bob.sub, dan.sub] });
    const accepted = await call<CallInfo>(b, 'call:accept', { callId: placed.id });
    await call(d, 'call:accept', { callId: placed.id });
    const roomId = accepted.roomId!;
    // bob joins first from node b: the room is homed there, the call on node a
    await call(b, 'room:join', { roomId });
    await call(a, 'room:join', { roomId });
    const dj = await call<{ peerId: string }>(d, 'room:join', { roomId });
    const bobSaw = nextEvent<{ roomId: string; peerId: string; reason: string }>(
      b,
      'room:peerLeft',
      (e) => e.roomId === roomId && e.peerId === dj.peerId,
    );
    const danTold = nextEvent<{ roomId: string; reason: string | null }>(d, 'room:removed', (e) => e.roomId === roomId);
    const after = await call<CallInfo>(d, 'call:hangup', { callId: placed.id });
    expect(after.state).toBe('accepted');
    expect((await bobSaw).reason).toBe('removed');
    expect((await danTold).reason).toBe(CALL_LEFT_REASON);
    const info = await call<{ peers: Array<{ peerId: string }> }>(b, 'room:info', { roomId });
    expect(info.peers.map((p) => p.peerId)).not.toContain(dj.peerId);
    expect(info.peers).toHaveLength(2);
  });

  it('a meeting invitation placed on one node lets the invitee into the meeting homed on the other', async () => {
    const alice = await person('alice', {
      rooms: { '*': ['join', 'publish', 'subscribe', 'moderate'] },
      docs: {},
      chat: true,
      createRooms: ['standard'],
    });
    const bob = await person('bob', narrow());
    // alice is in the meeting through node b (its home); she invites from her other device on node a
    const inMeeting = await device(nodes[1]!, alice.token, 'a-meeting');
    const inviter = await device(nodes[0]!, alice.token, 'a-board');
    const { roomId } = await call<{ roomId: string }>(inMeeting, 'room:create', { tier: 'standard', name: 'Review' });
    await call(inMeeting, 'room:join', { roomId });
    const bobA = await device(nodes[0]!, bob.token, 'b-a');
    const bobB = await device(nodes[1]!, bob.token, 'b-b');
    expect(await request(bobA, 'room:join', { roomId })).toMatchObject({ error: { code: 'FORBIDDEN' } });

    // the inviter's membership is known through presence on every node (it reaches Redis shortly)
    const ringing = [bobA, bobB].map((s) => update(s, (c) => c.me.state === 'ringing'));
    let invited: CallInfo | undefined;
    await expect
      .poll(async () => {
        const ack = await request<CallInfo>(inviter, 'call:invite', { roomId, callees: [bob.sub] });
        if ('error' in ack) return ack.error.code;
        invited = ack.data;
        return 'ok';
      })
      .toBe('ok');
    expect(invited!.meeting).toEqual({ roomId, name: 'Review' });
    for (const r of await Promise.all(ringing)) expect(r.id).toBe(invited!.id);

    // answered on node b (the relay takes it to node a, which holds the invitation)
    const stopped = update(bobA, (c) => c.id === invited!.id && c.me.state === 'joined');
    const accepted = await call<CallInfo>(bobB, 'call:accept', { callId: invited!.id });
    expect(accepted).toMatchObject({ state: 'ended', me: { answeredOn: 'b-b' } });
    expect((await stopped).me.answeredOn).toBe('b-b');
    // joined from node a: relayed to the room's home, node b, which finds the grant in Redis
    await call(bobA, 'room:join', { roomId });
    expect((await call<{ peers: unknown[] }>(inMeeting, 'room:info', { roomId })).peers).toHaveLength(2);
    // the invitation is over (hung up on the node that held it); the meeting goes on
    await call(bobA, 'call:hangup', { callId: invited!.id });
    expect((await call<{ peers: unknown[] }>(inMeeting, 'room:info', { roomId })).peers).toHaveLength(2);
  });

  it('an invitation held on one node ends when its inviter leaves, or the meeting closes, on the other', async () => {
    const host: Grants = {
      rooms: { '*': ['join', 'publish', 'subscribe', 'moderate'] },
      docs: {},
      chat: true,
      createRooms: ['standard'],
    };
    const alice = await person('alice', host);
    const bob = await person('bob', narrow());
    // the meeting is homed on node b; alice is in it on node b and, relayed, from node a, where she invites
    const aliceB = await device(nodes[1]!, alice.token, 'a-b');
    const aliceA = await device(nodes[0]!, alice.token, 'a-a');
    const bobA = await device(nodes[0]!, bob.token, 'b-a');
    const bobB = await device(nodes[1]!, bob.token, 'b-b');
    const invite = async (roomId: string): Promise<CallInfo> => {
      let invited: CallInfo | undefined;
      // the inviter's membership reaches the other node's presence shortly
      await expect
        .poll(async () => {
          const ack = await request<CallInfo>(aliceA, 'call:invite', { roomId, callees: [bob.sub] });
          if ('error' in ack) return ack.error.code;
          invited = ack.data;
          return 'ok';
        })
        .toBe('ok');
      return invited!;
    };
    const listed = async (s: TestSocket, id: string) =>
      (await call<{ calls: CallInfo[] }>(s, 'call:list', {})).calls.find((c) => c.id === id)?.state;

    const first = await call<{ roomId: string }>(aliceB, 'room:create', { tier: 'standard', name: 'Leave' });
    await call(aliceB, 'room:join', { roomId: first.roomId });
    await call(aliceA, 'room:join', { roomId: first.roomId });
    const inv = await invite(first.roomId);
    // one of her two devices leaves (on the room's node): it still rings
    await call(aliceB, 'room:leave', { roomId: first.roomId });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await listed(bobB, inv.id)).toBe('ringing');
    // the other leaves (relayed from node a): both of bob's devices stop, with the reason
    const stops = [bobA, bobB].map((s) => update(s, (c) => c.id === inv.id && c.state === 'cancelled'));
    await call(aliceA, 'room:leave', { roomId: first.roomId });
    for (const stopped of await Promise.all(stops)) expect(stopped.reason).toBe('inviter-left');
    // too late on the node holding it (another node no longer finds a finished call: NOT_FOUND)
    expect(await request(bobA, 'call:accept', { callId: inv.id })).toMatchObject({
      error: { code: 'CALL_NOT_RINGING' },
    });

    // a meeting closed on node b ends the invitation node a holds
    const second = await call<{ roomId: string }>(aliceB, 'room:create', { tier: 'standard', name: 'Close' });
    await call(aliceB, 'room:join', { roomId: second.roomId });
    await call(aliceA, 'room:join', { roomId: second.roomId });
    const inv2 = await invite(second.roomId);
    const closed = [bobA, bobB].map((s) => update(s, (c) => c.id === inv2.id && c.state === 'cancelled'));
    await call(aliceB, 'room:close', { roomId: second.roomId });
    for (const stopped of await Promise.all(closed)) expect(stopped.reason).toBe('meeting-closed');
    expect(await request(bobA, 'room:join', { roomId: second.roomId })).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
  });

  it('the drop grace counts a person’s connections on every node', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const a = await device(nodes[0]!, alice.token, 'a1');
    const bobOnA = await device(nodes[0]!, bob.token, 'b-a');
    const bobOnB = await device(nodes[1]!, bob.token, 'b-b');
    const placed = await call<CallInfo>(a, 'call:start', { callees: [bob.sub] });
    await call(bobOnB, 'call:accept', { callId: placed.id });

    // bob leaves node a, the call's home, but is still connected to node b: he stays in the call
    bobOnA.disconnect();
    await new Promise((r) => setTimeout(r, 1500));
    const still = await call<{ calls: CallInfo[] }>(a, 'call:list', {});
    expect(still.calls).toHaveLength(1);
    expect(still.calls[0]).toMatchObject({ id: placed.id, state: 'accepted' });
    expect(still.calls[0]!.callees[0]).toMatchObject({ sub: bob.sub, state: 'joined' });

    // his last connection (on node b, not the home) goes: after the grace the home drops him
    const ended = nextEvent<CallInfo>(a, 'call:update', (u) => u.id === placed.id && u.state === 'ended', 15_000);
    bobOnB.disconnect();
    expect((await ended).callees[0]).toMatchObject({ sub: bob.sub, state: 'left' });
  });

  // last: it kills node a
  it('the calls of a node that died fail: their people are told, not busy, not listed', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const carol = await person('carol');
    const a = await device(nodes[0]!, alice.token, 'a1');
    const b = await device(nodes[1]!, bob.token, 'b1');
    const c = await device(nodes[1]!, carol.token, 'c1');
    const placed = await call<CallInfo>(a, 'call:start', { callees: [bob.sub] });
    await call(b, 'call:accept', { callId: placed.id });
    expect((await call<CallInfo>(c, 'call:start', { callees: [bob.sub] })).state).toBe('busy');

    const failed = nextEvent<CallInfo>(b, 'call:update', (u) => u.id === placed.id && u.state === 'failed', 20_000);
    nodes[0]!.child.kill('SIGKILL');
    // when the node is declared dead, the people of its calls are told they failed
    expect(await failed).toMatchObject({ reason: 'node-died', me: { sub: bob.sub, state: 'left' } });
    // once node a's lease lapsed, bob is free again and the dead call is not listed
    const deadline = Date.now() + 20_000;
    let state = 'busy';
    while (state === 'busy' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const attempt = await call<CallInfo>(c, 'call:start', { callees: [bob.sub] });
      state = attempt.state;
      if (state === 'ringing') await call(c, 'call:cancel', { callId: attempt.id });
    }
    expect(state).toBe('ringing');
    const listed = await call<{ calls: CallInfo[] }>(b, 'call:list', {});
    expect(listed.calls.map((x) => x.id)).not.toContain(placed.id);
  });
});
