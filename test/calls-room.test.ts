/**
 * A call's video room (issue 16): the server decides who is in it — the call's people join it
 * whatever their token's room grants, nobody else does (whatever theirs), and it is closed when
 * the call ends. A real server; people join over socket.io (no media flows).
 */
import type { CallInfo } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { call, nextEvent } from '../server/src/testing/index.ts';
import { closeServers, connected, errorOf, everything, narrow, person, start } from './calls-support.ts';

afterEach(closeServers);

describe("a call's room", () => {
  it("lets exactly the call's people in, whatever their token's room grants", async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: narrow(['personal']) });
    const bob = await person(server, 'bob', { grants: narrow() });
    const c = await connected(alice, [bob]);
    const roomId = c.roomId!;

    // neither token names the room: the call lets both in, to publish and to subscribe
    const aj = await call<{ room: { tier: string }; peerId: string }>(alice.socket, 'room:join', { roomId });
    expect(aj.room.tier).toBe('personal');
    await call(bob.socket, 'room:join', { roomId });
    for (const who of [alice, bob])
      for (const direction of ['send', 'recv'])
        expect(await call<{ transportId: string }>(who.socket, 'media:createTransport', { roomId, direction })).toEqual(
          expect.objectContaining({ transportId: expect.any(String) }),
        );
    expect((await call<{ peers: unknown[] }>(bob.socket, 'room:info', { roomId })).peers).toHaveLength(2);

    // someone of the same org with narrow grants, and even one whose token names every room: refused
    const carol = await person(server, 'carol', { grants: narrow() });
    const boss = await person(server, 'boss', { grants: everything });
    for (const outsider of [carol, boss]) {
      expect(await errorOf(outsider.socket, 'room:join', { roomId })).toBe('FORBIDDEN');
      expect(await errorOf(outsider.socket, 'room:info', { roomId })).toBe('FORBIDDEN');
      expect(await errorOf(outsider.socket, 'room:close', { roomId })).toBe('FORBIDDEN');
      expect(await errorOf(outsider.socket, 'room:mutePeer', { roomId, peerId: aj.peerId })).toBe('FORBIDDEN');
    }
    // the same sub in another org, its token naming every room: the room does not exist there
    const evil = await server.token({ name: 'alice', sub: alice.sub, org: 'evil', grants: everything });
    const evilSocket = await server.connect(evil, { deviceId: 'laptop' });
    expect(await errorOf(evilSocket, 'room:join', { roomId })).toBe('NOT_FOUND');

    // an ordinary room still follows the token: narrow grants do not reach it
    const own = await call<{ roomId: string }>(boss.socket, 'room:create', { tier: 'personal' });
    expect(await errorOf(carol.socket, 'room:join', { roomId: own.roomId })).toBe('FORBIDDEN');
    await call(boss.socket, 'room:join', { roomId: own.roomId });
  });

  it("lets in a callee who answers and a person added once they answer, not while they ring; a group call's room is standard", async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: narrow(['personal', 'standard']) });
    const bob = await person(server, 'bob', { grants: narrow() });
    const dan = await person(server, 'dan', { grants: narrow() });
    const erin = await person(server, 'erin', { grants: narrow() });
    const started = await call<CallInfo>(alice.socket, 'call:start', { callees: [bob.sub, dan.sub] });
    const roomId = `call-${started.id}`;
    // ringing, nobody answered: there is no room yet
    expect(await errorOf(bob.socket, 'room:join', { roomId })).toBe('FORBIDDEN');
    const accepted = await call<CallInfo>(bob.socket, 'call:accept', { callId: started.id });
    expect(accepted.roomId).toBe(roomId);
    expect((await call<{ room: { tier: string } }>(bob.socket, 'room:join', { roomId })).room.tier).toBe('standard');
    await call(alice.socket, 'room:join', { roomId });
    // dan still rings: not in the call yet
    expect(await errorOf(dan.socket, 'room:join', { roomId })).toBe('FORBIDDEN');
    await call(dan.socket, 'call:accept', { callId: started.id });
    await call(dan.socket, 'room:join', { roomId });

    // erin is added: refused while ringing, in once she answers
    await call(bob.socket, 'call:add', { callId: started.id, callees: [erin.sub] });
    expect(await errorOf(erin.socket, 'room:join', { roomId })).toBe('FORBIDDEN');
    await call(erin.socket, 'call:accept', { callId: started.id });
    await call(erin.socket, 'room:join', { roomId });

    // a callee who hung up may not come back into the running call
    await call(dan.socket, 'room:leave', { roomId });
    await call(dan.socket, 'call:hangup', { callId: started.id });
    expect(await errorOf(dan.socket, 'room:join', { roomId })).toBe('FORBIDDEN');
  });

  it('is closed when the call ends: peers are told, nobody joins it again', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: narrow(['personal']) });
    const bob = await person(server, 'bob', { grants: narrow() });
    const c = await connected(alice, [bob]);
    const roomId = c.roomId!;
    await call(alice.socket, 'room:join', { roomId });
    await call(bob.socket, 'room:join', { roomId });
    const aliceTold = nextEvent<{ roomId: string; reason: string }>(
      alice.socket,
      'room:closed',
      (e) => e.roomId === roomId,
    );
    const bobTold = nextEvent<{ roomId: string; reason: string }>(
      bob.socket,
      'room:closed',
      (e) => e.roomId === roomId,
    );
    await call(bob.socket, 'call:hangup', { callId: c.id });
    expect((await aliceTold).reason).toBe('ROOM_CLOSED');
    expect((await bobTold).reason).toBe('ROOM_CLOSED');

    // the stored record is closed, and the call's people are not let in again
    const record = await server.app.stores.rooms.get('default', roomId);
    expect(record?.closedAt).toEqual(expect.any(Number));
    expect(await errorOf(alice.socket, 'room:join', { roomId })).toBe('FORBIDDEN');
  });

  it('is closed when a call ends because fewer than two are left (drop grace)', async () => {
    const server = await start({ MOIM_CALL_DROP_GRACE_MS: '200' });
    const alice = await person(server, 'alice', { grants: narrow(['personal']) });
    const bob = await person(server, 'bob', { grants: narrow() });
    const c = await connected(alice, [bob]);
    const roomId = c.roomId!;
    await call(alice.socket, 'room:join', { roomId });
    const aliceTold = nextEvent<{ roomId: string; reason: string }>(
      alice.socket,
      'room:closed',
      (e) => e.roomId === roomId,
    );
    bob.socket.disconnect();
    expect((await aliceTold).reason).toBe('ROOM_CLOSED');
    expect((await server.app.stores.rooms.get('default', roomId))?.closedAt).toEqual(expect.any(Number));
  });
});
