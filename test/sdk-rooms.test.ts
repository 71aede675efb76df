import {
  connect,
  devToken,
  type LineLevel,
  type LogContext,
  type MoimClient,
  type RemoteTrack,
  type Room,
  type RoomsOptions,
  setLogExtension,
} from '@moim/client-sdk';
import { MoimError } from '@moim/protocol';
import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

/**
 * Media-room signalling through the client SDK against a real server and mediasoup worker, with
 * mediasoup-client's FakeHandler in Node (no RTP flows here; the browser tests show media).
 */
let server: TestServer;
const clients: MoimClient[] = [];

beforeEach(async () => {
  server = await startTestServer({ MOIM_PEER_GRACE_MS: '3000' });
});
afterEach(async () => {
  setLogExtension(undefined);
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) await c.close();
  await server.close();
});

async function client(
  sub: string,
  role: 'member' | 'manager' = 'member',
  rooms: RoomsOptions = {},
): Promise<MoimClient> {
  const c = await connect({
    url: server.url,
    transports: ['websocket'],
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 400,
    rooms: {
      createDevice: () => Device.factory({ handlerFactory: FakeHandler.createFactory(testFakeParameters) }),
      stallCheckMs: 0,
      qualityIntervalMs: 0,
      ...rooms,
    },
    getToken: async () => (await devToken(server.url, { name: sub, site: 'hq', role, sub })).token,
  });
  clients.push(c);
  return c;
}

let trackIds = 0;
function fakeTrack(kind: 'audio' | 'video'): MediaStreamTrack {
  const track = {
    id: `fake-${kind}-${++trackIds}`,
    kind,
    enabled: true,
    readyState: 'live',
    addEventListener() {},
    removeEventListener() {},
    stop() {
      track.readyState = 'ended';
    },
    getSettings: () => ({}),
  };
  return track as unknown as MediaStreamTrack;
}

function next<T>(subscribe: (resolve: (v: T) => void) => void, timeoutMs = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    subscribe((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

function dropSockets(sub: string): void {
  for (const conn of server.app.gateway.connections()) if (conn.principal.sub === sub) conn.socket.disconnect(true);
}

/** Refuse this person's next `times` room joins on the server (UNAVAILABLE, as an overloaded server answers). */
function refuseJoins(sub: string, times = Number.POSITIVE_INFINITY): void {
  const media = server.app.media;
  const join = media.join.bind(media);
  let left = times;
  vi.spyOn(media, 'join').mockImplementation((caller, channel, data) => {
    if (caller.sub !== sub || left <= 0) return join(caller, channel, data);
    left--;
    return Promise.reject(new MoimError('UNAVAILABLE', 'test: joins refused'));
  });
}

function killWorkers(): void {
  for (const w of server.app.media.pool.workers()) process.kill(w.worker.pid, 'SIGKILL');
}

/** The SDK's log lines at warn and above (routed away from the console). */
function captureLogs(): Array<{ level: LineLevel; msg: string; context: LogContext }> {
  const lines: Array<{ level: LineLevel; msg: string; context: LogContext }> = [];
  setLogExtension((level, msg, context) => lines.push({ level, msg, context }));
  return lines;
}

describe('client SDK rooms', () => {
  it('creates rooms within the grant and joins with the tier the server stored', async () => {
    const member = await client('mina');
    await expect(member.rooms.create({ tier: 'immersive' })).rejects.toMatchObject({ code: 'TIER_NOT_ALLOWED' });
    const record = await member.rooms.create({ tier: 'standard', name: '주간 회의' });
    expect(record).toMatchObject({ tier: 'standard', name: '주간 회의', ownerSub: 'mina' });
    const room = await member.rooms.join(record.roomId);
    expect(room.tier).toBe('standard');
    expect(room.profile.cameraEncodings).toHaveLength(3);
    expect(member.rooms.get(record.roomId)).toBe(room);
    expect((await member.rooms.info(record.roomId)).peers.map((p) => p.sub)).toEqual(['mina']);
  });

  it('consumes every remote producer, sees peers, hands and departures', async () => {
    const a = await client('ara', 'manager');
    const b = await client('bora');
    const { roomId } = await a.rooms.create({ tier: 'standard' });
    const ra = await a.rooms.join(roomId, { displayName: 'Ara' });
    const joined = next<{ displayName: string }>((r) => ra.on('peerJoined', r));
    const rb = await b.rooms.join(roomId, { displayName: 'Bora' });
    expect((await joined).displayName).toBe('Bora');
    expect([...rb.peers.values()].map((p) => p.displayName)).toEqual(['Ara']);

    const tracks: RemoteTrack[] = [];
    rb.on('track', (t) => tracks.push(t));
    const cam = await ra.publishTrack(fakeTrack('video'), { source: 'camera' });
    await ra.publishTrack(fakeTrack('audio'), { source: 'mic' });
    expect(cam.encodings.map((e) => e.maxBitrate)).toEqual([150_000, 500_000, 1_500_000]);
    await expect.poll(() => tracks.map((t) => `${t.kind}:${t.source}`).sort()).toEqual(['audio:mic', 'video:camera']);
    expect(tracks.every((t) => t.peerId === ra.peerId && !t.paused)).toBe(true);
    expect(tracks.find((t) => t.kind === 'video')?.type).toBe('simulcast');

    // mute: the receiver learns the producer paused
    const paused = next<RemoteTrack>((r) => rb.on('trackPaused', r));
    await ra.setMicMuted(true);
    expect((await paused).source).toBe('mic');

    const hand = next<{ peerId: string; raised: boolean }>((r) => ra.on('handRaised', r));
    await rb.raiseHand(true);
    expect(await hand).toEqual({ peerId: rb.peerId, raised: true });

    const left = next<{ peerId: string; reason: string }>((r) => ra.on('peerLeft', r));
    await rb.leave();
    expect(await left).toEqual({ peerId: rb.peerId, reason: 'left' });
    expect(rb.closed).toBe(true);
  });

  it('after a dropped socket the room is resumed within the grace period, rebuilt after it', async () => {
    const a = await client('cho', 'manager');
    const b = await client('dan');
    const { roomId } = await a.rooms.create({ tier: 'personal' });
    const ra = await a.rooms.join(roomId);
    const rb = await b.rooms.join(roomId);
    await rb.publishTrack(fakeTrack('video'), { source: 'camera' });
    const firstCamera = await next<RemoteTrack>((r) => ra.on('track', r));

    // short drop: the same peer, its producer kept
    const resumed = next<{ resumed: boolean }>((r) => rb.on('rejoined', r));
    dropSockets('dan');
    expect(await resumed).toEqual({ resumed: true });
    expect(rb.peerId).toBe(firstCamera.peerId);
    expect(ra.remoteTracks.map((t) => t.consumerId)).toEqual([firstCamera.consumerId]);

    // long drop: the server removes the peer; back, it joins again and publishes again
    const gone = next<{ reason: string }>((r) => ra.on('peerLeft', r));
    // keep Dan offline past the grace period: refuse his handshakes for a while
    const until = Date.now() + 4500;
    server.app.gateway.io.use((socket, nextFn) => {
      if (Date.now() < until && clientIs(socket.handshake.auth, 'dan')) nextFn(new Error('not now'));
      else nextFn();
    });
    const rebuilt = next<{ resumed: boolean }>((r) => rb.on('rejoined', r), 20_000);
    dropSockets('dan');
    expect((await gone).reason).toBe('timeout');
    expect(await rebuilt).toEqual({ resumed: false });
    const again = await next<RemoteTrack>((r) => ra.on('track', r));
    expect(again.peerId).toBe(rb.peerId);
    expect(again.consumerId).not.toBe(firstCamera.consumerId);
  });

  it('a rejoin that keeps failing after the worker died closes the room with its reason and error', async () => {
    const logs = captureLogs();
    const a = await client('gil', 'manager', { rejoinAttempts: 2, rejoinDelayMs: 50 });
    const errors: MoimError[] = [];
    a.on('error', (e) => errors.push(e));
    const { roomId } = await a.rooms.create({ tier: 'standard' });
    const room = await a.rooms.join(roomId);
    const cam = await room.publishTrack(fakeTrack('video'), { source: 'camera' });
    refuseJoins('gil');
    const closed = next<{ reason: string; error?: MoimError }>((r) => room.on('closed', r));
    killWorkers();
    const e = await closed;
    expect(e.reason).toBe('rejoin failed');
    expect(e.error).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('after 2 attempt(s)') });
    expect(room.closed).toBe(true);
    expect(a.rooms.get(roomId)).toBeUndefined();
    expect(cam.track.readyState).toBe('ended');
    expect(errors).toContain(e.error);
    expect(logs.filter((l) => l.msg.startsWith('rejoin failed'))).toEqual([
      {
        level: 'warn',
        msg: 'rejoin failed; retrying',
        context: expect.objectContaining({ logger: 'moim.room', roomId, why: 'worker died', attempt: 1 }),
      },
      {
        level: 'warn',
        msg: 'rejoin failed; closing the room',
        context: expect.objectContaining({ logger: 'moim.room', roomId, why: 'worker died', attempts: 2 }),
      },
    ]);
  });

  it('a rejoin that fails once after the worker died is retried: the room is rebuilt and publishes again', async () => {
    const logs = captureLogs();
    const a = await client('hana', 'manager', { rejoinAttempts: 4, rejoinDelayMs: 100 });
    const b = await client('ian');
    const { roomId } = await a.rooms.create({ tier: 'standard' });
    const ra = await a.rooms.join(roomId);
    const rb = await b.rooms.join(roomId);
    const cam = await ra.publishTrack(fakeTrack('video'), { source: 'camera' });
    await next<RemoteTrack>((r) => rb.on('track', r));
    refuseJoins('hana', 1);
    const rejoined = next<{ resumed: boolean }>((r) => ra.on('rejoined', r), 20_000);
    const again = next<RemoteTrack>((r) => rb.on('track', (t) => t.peerId === ra.peerId && r(t)), 20_000);
    killWorkers();
    expect(await rejoined).toEqual({ resumed: false });
    expect(ra.closed).toBe(false);
    expect(a.rooms.get(roomId)).toBe(ra);
    const [republished] = ra.localTracks;
    expect(republished?.track).toBe(cam.track);
    expect(republished?.producerId).not.toBe(cam.producerId);
    expect((await again).producerId).toBe(republished?.producerId);
    expect(logs).toContainEqual({
      level: 'warn',
      msg: 'rejoin failed; retrying',
      context: expect.objectContaining({ roomId, attempt: 1, error: expect.objectContaining({ code: 'UNAVAILABLE' }) }),
    });
  });

  it('a moderator removes a peer, who cannot come back', async () => {
    const mod = await client('eun', 'manager');
    const guest = await client('fay');
    const { roomId } = await mod.rooms.create({ tier: 'standard' });
    const rm: Room = await mod.rooms.join(roomId);
    const rg = await guest.rooms.join(roomId);
    const removed = next<{ reason: string | null }>((r) => rg.on('removed', r));
    await rm.removePeer(rg.peerId, 'test');
    await removed;
    expect(rg.closed).toBe(true);
    await expect(guest.rooms.join(roomId)).rejects.toMatchObject({ code: 'PEER_REMOVED' });
  });
});

function clientIs(auth: unknown, sub: string): boolean {
  const token = (auth as { token?: string }).token ?? '';
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sub === sub;
  } catch {
    return false;
  }
}
