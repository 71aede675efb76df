import type { JoinResponse, TransportInfo } from '@moim/protocol';
import { waitFor } from '@moim/sfu/testing';
import { afterEach, describe, expect, test } from 'vitest';
import {
  consumerBytes,
  createRoom,
  type MediaTestPeer,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testing/testPeers.ts';
import { call, startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer | undefined;
const stops: Array<() => void> = [];

afterEach(async () => {
  for (const s of stops.splice(0)) s();
  await server?.close();
  server = undefined;
});

async function setup(graceMs: number) {
  server = await startTestServer({ MOIM_SFU_ALLOW_PLAIN: 'true', MOIM_PEER_GRACE_MS: String(graceMs) });
  const members: string[] = [];
  server.app.media.on('memberJoined', (_roomId, sub, conn) => members.push(`+${sub}:${conn}`));
  server.app.media.on('memberLeft', (_roomId, sub, conn) => members.push(`-${sub}:${conn}`));
  const alice = await mediaPeer(server, { name: 'Alice' });
  const bob = await mediaPeer(server, { name: 'Bob' });
  const { roomId } = await createRoom(alice);
  await alice.join(roomId);
  const bj = await bob.join(roomId);
  const pub = await publishPlain(alice, roomId, { video: [1234_1], audio: 1234_2 });
  stops.push(() => pub.gen.close());
  const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
  stops.push(() => sub.sink.close());
  await waitFor(() => bob.consumers.length === 2, { what: 'consumers' });
  const webrtc = await call<TransportInfo>(bob.socket, 'media:createTransport', { roomId, direction: 'recv' });
  return { srv: server, alice, bob, roomId, bj, sub, webrtc, members };
}

async function reconnect(srv: TestServer, old: MediaTestPeer): Promise<MediaTestPeer> {
  return mediaPeer(srv, { name: 'unused' }, old.token);
}

describe('peer grace period', () => {
  test('a client back within the grace period keeps its peer, transports and consumers', async () => {
    const { srv, alice, bob, roomId, bj, sub, webrtc, members } = await setup(10_000);
    const video = bob.consumers.find((c) => c.kind === 'video')!;
    bob.close();
    await alice.waitEvent(
      'room:peerJoined',
      (e: { peer: { peerId: string; connected: boolean } }) => e.peer.peerId === bj.peerId && !e.peer.connected,
    );
    const bob2 = await reconnect(srv, bob);
    const res = await bob2.join(roomId, { resume: { peerId: bj.peerId } });
    expect(res.resumed).toBe(true);
    expect(res.peerId).toBe(bj.peerId);
    expect(res.transports?.map((t) => t.transportId).sort()).toEqual(
      [sub.transport.transportId, webrtc.transportId].sort(),
    );
    expect(res.consumers?.map((c) => c.consumerId)).toContain(video.consumerId);
    await alice.waitEvent(
      'room:peerJoined',
      (e: { peer: { peerId: string; connected: boolean } }) => e.peer.peerId === bj.peerId && e.peer.connected,
    );
    // ICE restart on the kept WebRTC transport
    const { iceParameters } = await call<{ iceParameters: { usernameFragment: string } }>(
      bob2.socket,
      'media:restartIce',
      {
        roomId,
        transportId: webrtc.transportId,
      },
    );
    expect(iceParameters.usernameFragment).not.toBe(
      (webrtc.iceParameters as { usernameFragment: string }).usernameFragment,
    );
    // media keeps flowing to the kept consumer, now driven from the new socket
    const before = await consumerBytes(bob2, roomId, video.consumerId);
    await waitFor(async () => (await consumerBytes(bob2, roomId, video.consumerId)) > before + 5000, {
      what: 'bytes after resume',
    });
    expect(alice.events.some((e) => e.event === 'room:peerLeft')).toBe(false);
    // presence saw: joined (old connection), left (old), joined (new)
    const { sub: bobSub } = await call<{ sub: string }>(bob2.socket, 'system:whoami', {});
    const bobLines = members.filter((m) => m.slice(1).startsWith(`${bobSub}:`));
    expect(bobLines.map((m) => m[0])).toEqual(['+', '-', '+']);
    expect(bobLines[0]!.slice(1)).toBe(bobLines[1]!.slice(1));
  });

  test('after the grace period the peer is gone and the client rejoins from scratch', async () => {
    const { srv, alice, bob, roomId, bj, members } = await setup(300);
    bob.close();
    await alice.waitEvent(
      'room:peerLeft',
      (e: { peerId: string; reason: string }) => e.peerId === bj.peerId && e.reason === 'timeout',
    );
    const bob2 = await reconnect(srv, bob);
    const res: JoinResponse = await bob2.join(roomId, { resume: { peerId: bj.peerId } });
    expect(res.resumed).toBe(false);
    expect(res.peerId).not.toBe(bj.peerId);
    expect(res.transports).toBeUndefined();
    expect(res.peers).toHaveLength(1);
    expect(res.peers[0]?.producers).toHaveLength(2);
    // the fresh peer can subscribe again and receives media
    const sub = await subscribePlain(bob2, roomId, res.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    const c = await waitFor(() => bob2.consumers.find((x) => x.kind === 'video'), { what: 'new consumer' });
    await waitFor(async () => (await consumerBytes(bob2, roomId, c.consumerId)) > 5000, { what: 'bytes' });
    // each memberJoined is matched by one memberLeft for the same connection
    const joined = members.filter((m) => m.startsWith('+')).map((m) => m.slice(1));
    const left = members.filter((m) => m.startsWith('-')).map((m) => m.slice(1));
    expect(left.every((l) => joined.includes(l))).toBe(true);
    expect(joined).toHaveLength(3);
    expect(left).toHaveLength(1);
  });

  test('with grace 0 a dropped socket leaves at once', async () => {
    const { alice, bob, bj } = await setup(0);
    bob.close();
    await alice.waitEvent('room:peerLeft', (e: { peerId: string }) => e.peerId === bj.peerId);
  });
});
