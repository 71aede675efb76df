import { connect, devToken, type MoimClient, type RoomsOptions } from '@moim/client-sdk';
import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, startTestServer, type TestServer } from '../server/src/testing/index.ts';

/**
 * The SDK's network policy against a real server (mediasoup-client's FakeHandler in Node; the
 * browser test turn.e2e.test.ts shows media through coturn): strict network without a TURN relay
 * on the server is refused with NO_RELAY instead of a transport that can never connect; the
 * policy can be changed between joins; moim hands every person their own TURN credential.
 */
let server: TestServer | undefined;
const clients: MoimClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.close();
  server = undefined;
});

async function client(s: TestServer, sub: string, rooms: RoomsOptions = {}): Promise<MoimClient> {
  const c = await connect({
    url: s.url,
    transports: ['websocket'],
    rooms: {
      createDevice: () => Device.factory({ handlerFactory: FakeHandler.createFactory(testFakeParameters) }),
      stallCheckMs: 0,
      qualityIntervalMs: 0,
      ...rooms,
    },
    getToken: async () => (await devToken(s.url, { name: sub, site: 'hq', role: 'member', sub })).token,
  });
  clients.push(c);
  return c;
}

describe('strict network (relay only)', () => {
  it('is refused with NO_RELAY when the server offers no TURN relay, and joins once turned off', async () => {
    const s = await startTestServer({});
    server = s;
    const c = await client(s, 'strict-1', { strictNetwork: true });
    expect(c.rooms.network).toEqual({ strictNetwork: true, forceTcp: false });
    const { roomId } = await c.rooms.create({ tier: 'standard' });
    await expect(c.rooms.join(roomId)).rejects.toMatchObject({ code: 'NO_RELAY' });
    // the failed join left the room on the server
    const info = await c.rooms.info(roomId);
    expect(info.peers).toEqual([]);

    c.rooms.setNetwork({ strictNetwork: false });
    const room = await c.rooms.join(roomId);
    expect(room.transports.recv).toBeDefined();
  });

  it('joins with a TURN relay configured; each person gets their own short-lived credential', async () => {
    const s = await startTestServer({
      MOIM_TURN_URLS: '["turns:turn.example.org:443?transport=tcp"]',
      MOIM_TURN_SECRET: 'strict-network-test-secret-0123456789',
      MOIM_TURN_TTL_S: '120',
    });
    server = s;
    const a = await client(s, 'strict-a', { strictNetwork: true, forceTcp: true });
    const { roomId } = await a.rooms.create({ tier: 'standard' });
    const room = await a.rooms.join(roomId);
    expect(room.transports.recv).toBeDefined();

    // the join answer as a raw socket sees it: a username "<expiry>:<org>/<sub>" about the TTL ahead
    const person = await s.person('strict-b');
    const join = await call<{ iceServers: Array<{ urls: string[]; username: string; credential: string }> }>(
      person.socket,
      'room:join',
      { roomId },
    );
    const [ice] = join.iceServers;
    expect(ice?.urls).toEqual(['turns:turn.example.org:443?transport=tcp']);
    const [expiry, user] = ice!.username.split(':');
    const { org } = await call<{ org: string }>(person.socket, 'system:whoami', {});
    expect(user).toBe(`${encodeURIComponent(org)}/${encodeURIComponent(person.sub)}`);
    expect(Math.abs(Number(expiry) - (Date.now() / 1000 + 120))).toBeLessThan(30);
  });

  it('an ICE restart brings fresh TURN credentials, which the SDK gives the transport before restarting', async () => {
    const s = await startTestServer({
      MOIM_TURN_URLS: '["turns:turn.example.org:443?transport=tcp"]',
      MOIM_TURN_SECRET: 'strict-network-test-secret-0123456789',
      MOIM_TURN_TTL_S: '600',
    });
    server = s;
    const a = await client(s, 'strict-r', { strictNetwork: true });
    const { roomId } = await a.rooms.create({ tier: 'standard' });
    const room = await a.rooms.join(roomId);
    const recv = room.transports.recv!;
    const updated: RTCIceServer[][] = [];
    const update = recv.updateIceServers.bind(recv);
    recv.updateIceServers = async (o) => {
      updated.push(o?.iceServers ?? []);
      await update(o);
    };
    const restarted = vi.spyOn(recv, 'restartIce');
    // ICE failed on this transport: the SDK restarts it
    (recv as unknown as { emit(e: string, s: string): void }).emit('connectionstatechange', 'failed');
    await vi.waitFor(() => expect(restarted).toHaveBeenCalled(), { timeout: 5000 });
    expect(updated).toHaveLength(1);
    const [ice] = updated[0]!;
    expect(ice?.urls).toEqual(['turns:turn.example.org:443?transport=tcp']);
    const [expiry, user] = String(ice?.username).split(':');
    expect(user).toBe('default/strict-r'); // <org>/<sub>
    expect(Math.abs(Number(expiry) - (Date.now() / 1000 + 600))).toBeLessThan(30);
  });
});
