/**
 * Presence follows video-room membership exactly (the "presence gap": an inviter in a meeting,
 * video flowing, whom presence did not show in it). One person joins and leaves rooms on several
 * devices in quick succession — one connection in two rooms at once, switching rooms (join the
 * next before leaving the last), a socket reconnect resumed within the grace period, a join sent
 * before presence's first update — and after each step both what others see (`presence:get`:
 * `in-meeting`) and where the server says the person is (`inRoom`, which invitations ask) are right.
 * A real server with real mediasoup workers; no media flows.
 */
import { type PersonPresence, PROTOCOL_VERSION } from '@moim/protocol';
import { io as ioClient } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { call, type TestServer, type TestSocket } from '../server/src/testing/index.ts';
import { closeServers, everything, person, start } from './calls-support.ts';

afterEach(closeServers);

const ORG = 'default';

async function stateOf(observer: TestSocket, sub: string): Promise<string | undefined> {
  const { people } = await call<{ people: PersonPresence[] }>(observer, 'presence:get', { people: [sub] });
  return people[0]?.state;
}

/** Rooms of `rooms` the server finds the person in (presence, every device). */
async function roomsIn(server: TestServer, sub: string, rooms: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const r of rooms) if (await server.app.presence.inRoom(ORG, sub, r)) found.push(r);
  return found;
}

describe('presence follows room membership on every device', () => {
  it('joins and leaves on two devices, two rooms on one connection, switching rooms', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: everything, devices: ['laptop', 'phone'] });
    const bob = await person(server, 'bob', { grants: everything });
    const org = (await server.app.tokens.verify(alice.token)).org;
    expect(org).toBe(ORG);
    const r1 = (await call<{ roomId: string }>(bob.socket, 'room:create', { tier: 'standard', name: 'one' })).roomId;
    const r2 = (await call<{ roomId: string }>(bob.socket, 'room:create', { tier: 'standard', name: 'two' })).roomId;
    const rooms = [r1, r2];
    const laptop = alice.devices.laptop!;
    const phone = alice.devices.phone!;
    const expectNow = async (inRooms: string[]) => {
      expect(await roomsIn(server, alice.sub, rooms)).toEqual(inRooms);
      expect(await stateOf(bob.socket, alice.sub)).toBe(inRooms.length > 0 ? 'in-meeting' : 'online');
    };

    await expectNow([]);
    await call(laptop, 'room:join', { roomId: r1 });
    await expectNow([r1]);
    await call(phone, 'room:join', { roomId: r2 });
    await expectNow([r1, r2]);
    // one connection in two rooms at once
    await call(laptop, 'room:join', { roomId: r2 });
    await expectNow([r1, r2]);
    await call(laptop, 'room:leave', { roomId: r2 });
    await expectNow([r1, r2]);
    await call(phone, 'room:leave', { roomId: r2 });
    await expectNow([r1]);
    // switching rooms on one connection: the next joined before the last is left
    await call(laptop, 'room:join', { roomId: r2 });
    await call(laptop, 'room:leave', { roomId: r1 });
    await expectNow([r2]);
    // and back again, in quick succession without waiting in between
    await Promise.all([call(laptop, 'room:join', { roomId: r1 }), call(phone, 'room:join', { roomId: r1 })]);
    await call(laptop, 'room:leave', { roomId: r2 });
    await expectNow([r1]);
    await Promise.all([call(laptop, 'room:leave', { roomId: r1 }), call(phone, 'room:leave', { roomId: r1 })]);
    await expectNow([]);
  });

  it('a socket reconnect while in the room (resumed) and a join before presence’s first update', async () => {
    const server = await start({ MOIM_PEER_GRACE_MS: '10000' });
    const alice = await person(server, 'alice', { grants: everything });
    const bob = await person(server, 'bob', { grants: everything });
    const roomId = (await call<{ roomId: string }>(bob.socket, 'room:create', { tier: 'standard' })).roomId;
    const joined = await call<{ peerId: string }>(alice.socket, 'room:join', { roomId });
    expect(await roomsIn(server, alice.sub, [roomId])).toEqual([roomId]);

    // the socket drops and a new one resumes the peer (as the SDK does after a reconnect)
    alice.socket.disconnect();
    const again = await server.connect(alice.token, { deviceId: 'laptop' });
    const resumed = await call<{ resumed: boolean }>(again, 'room:join', { roomId, resume: { peerId: joined.peerId } });
    expect(resumed.resumed).toBe(true);
    await expect.poll(() => roomsIn(server, alice.sub, [roomId])).toEqual([roomId]);
    expect(await stateOf(bob.socket, alice.sub)).toBe('in-meeting');

    // a fresh device whose join is sent in the same tick as its connection (presence not ready yet)
    const carolToken = await server.token({ name: 'carol', sub: 'carol-early', grants: everything });
    const early = await new Promise<TestSocket>((resolve, reject) => {
      const s: TestSocket = ioClient(server.url, {
        transports: ['websocket'],
        auth: { token: carolToken, protocol: PROTOCOL_VERSION, deviceId: 'early' },
        reconnection: false,
        forceNew: true,
      });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
    try {
      await call(early, 'room:join', { roomId });
      expect(await roomsIn(server, 'carol-early', [roomId])).toEqual([roomId]);
      await expect.poll(() => stateOf(bob.socket, 'carol-early')).toBe('in-meeting');
      await call(early, 'room:leave', { roomId });
      expect(await roomsIn(server, 'carol-early', [roomId])).toEqual([]);
      expect(await stateOf(bob.socket, 'carol-early')).toBe('online');
    } finally {
      early.disconnect();
    }
  });
});
