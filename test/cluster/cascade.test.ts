/**
 * Cascaded SFU nodes (issue 19): two node processes, headquarters on 127.0.0.1 and a site node
 * (MOIM_NODE_SITE) on 127.0.0.2, each serving its own clients' media with a router of the room;
 * producers cross between them over PipeTransports, once per producer whatever the number of
 * receivers (counted on the pipe transports, /metrics). Closing a producer closes its far side
 * within 1 s; killing the site node moves its clients to headquarters within 10 s.
 */
import { connect, devToken as sdkToken } from '@moim/client-sdk';
import { waitFor } from '@moim/sfu/testing';
import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consumerBytes,
  createRoom,
  type MediaTestPeer,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../../server/src/media/testing/testPeers.ts';
import type { TestServer } from '../../server/src/testing/index.ts';
import { devToken, type ServerProcess } from '../support/serverProcess.ts';
import { liveRooms, peerOn } from './media.ts';
import {
  type ClusterEnv,
  call,
  clusterEnv,
  connect as connectSocket,
  type RedisProcess,
  startNode,
  startRedis,
} from './support.ts';

const MEDIA = { MOIM_SFU_ALLOW_PLAIN: 'true', MOIM_PEER_GRACE_MS: '0', MOIM_MAX_SOCKETS_PER_ADDRESS: '5000' };
const SITE = { HOST: '127.0.0.2', MOIM_RTC_LISTEN: '[{"ip":"127.0.0.2"}]', MOIM_NODE_SITE: 'site' };

let redis: RedisProcess;
let cluster: ClusterEnv;
let hq: ServerProcess;
let site: ServerProcess;
const stops: Array<() => unknown> = [];

beforeAll(async () => {
  redis = await startRedis();
  cluster = clusterEnv();
  hq = await startNode(cluster, redis.url, 'hq', MEDIA);
  site = await startNode(cluster, redis.url, 'site', { ...MEDIA, ...SITE });
  // it prints localhost (read as 127.0.0.1); it listens on the site's address
  site.url = site.url.replace('127.0.0.1', '127.0.0.2');
}, 60_000);

afterAll(async () => {
  for (const s of stops.splice(0)) await s();
  await Promise.all([hq, site].filter(Boolean).map((n) => n.stop()));
  await redis?.stop();
  await cluster?.cleanup();
});

/** One figure of a node's /metrics (the sum over the lines matching `labels`). */
async function metric(node: ServerProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Wait until `peer` has a consumer of `producerId` that has sent media; returns it. */
async function receives(peer: MediaTestPeer, roomId: string, producerId: string, what: string) {
  const consumer = await waitFor(() => peer.consumers.find((c) => c.producerId === producerId), {
    what: `${what}: consumer`,
  });
  await waitFor(async () => (await consumerBytes(peer, roomId, consumer.consumerId)) > 3000, {
    what: `${what}: bytes`,
  });
  return consumer;
}

async function producerBytes(peer: MediaTestPeer, roomId: string, producerId: string): Promise<number> {
  const { stats } = await call<{ stats: Array<{ type: string; byteCount: number }> }>(peer.socket, 'media:getStats', {
    roomId,
    type: 'producer',
    id: producerId,
  });
  return stats.reduce((a, s) => a + (s.type === 'inbound-rtp' ? s.byteCount : 0), 0);
}

describe('cascaded SFU nodes', () => {
  it('participants on both nodes receive each other’s audio and video; each producer crosses once', async () => {
    const alice = await peerOn(hq, 'Alice');
    const { roomId } = await createRoom(alice);
    const aj = await alice.join(roomId);
    const bob = await peerOn(site, 'Bob');
    const bj = await bob.join(roomId);
    // each node's room lists the other's participant once the nodes linked
    await bob.waitEvent('room:peerJoined', (e: { peer: { displayName: string } }) => e.peer.displayName === 'Alice');
    await alice.waitEvent('room:peerJoined', (e: { peer: { displayName: string } }) => e.peer.displayName === 'Bob');
    const alicePub = await publishPlain(alice, roomId, { video: [1111], audio: 1112 });
    const bobPub = await publishPlain(bob, roomId, { video: [2221], audio: 2222 });
    stops.push(
      () => alicePub.gen.close(),
      () => bobPub.gen.close(),
    );
    const aliceSub = await subscribePlain(alice, roomId, aj.routerRtpCapabilities);
    const bobSub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
    stops.push(
      () => aliceSub.sink.close(),
      () => bobSub.sink.close(),
    );
    for (const [who, peer, pub] of [
      ['Alice gets Bob', alice, bobPub],
      ['Bob gets Alice', bob, alicePub],
    ] as const) {
      await receives(peer, roomId, pub.video!, `${who}'s video`);
      await receives(peer, roomId, pub.audio!, `${who}'s audio`);
    }
    await waitFor(() => aliceSub.sink.packets > 100 && bobSub.sink.packets > 100, { what: 'packets at both sinks' });
    // a hand raised at the site is seen at headquarters
    await call(bob.socket, 'room:raiseHand', { roomId, raised: true });
    await alice.waitEvent(
      'room:handRaised',
      (e: { peerId: string; raised: boolean }) => e.peerId === bj.peerId && e.raised,
      5000,
    );
    // each node's speaker reports include the other node's speaker
    const hasLevel = (peerId: string) => (e: { levels: Array<{ peerId: string }> }) =>
      e.levels.some((l) => l.peerId === peerId);
    await alice.waitEvent('media:audioLevels', hasLevel(bj.peerId), 10_000);
    await bob.waitEvent('media:audioLevels', hasLevel(aj.peerId), 10_000);

    // three more receivers at headquarters: Bob's producers still cross once
    const more = await Promise.all(['Carol', 'Dan', 'Erin'].map((n) => peerOn(hq, n)));
    for (const p of more) {
      const j = await p.join(roomId);
      const sub = await subscribePlain(p, roomId, j.routerRtpCapabilities);
      stops.push(() => sub.sink.close());
    }
    const consumers = await Promise.all(more.map((p) => receives(p, roomId, bobPub.video!, 'a headquarters receiver')));
    expect(await metric(hq, 'moim_cascade_pipes', { peer_node: 'site', direction: 'in' })).toBe(2);
    expect(await metric(site, 'moim_cascade_pipes', { peer_node: 'hq', direction: 'out' })).toBe(2);
    // over a window: what crossed the link in ≈ what Bob sent, while the receivers got it four times
    const sample = async () => ({
      link: await metric(hq, 'moim_cascade_link_bytes', { peer_node: 'site', direction: 'in' }),
      sent: (await producerBytes(bob, roomId, bobPub.video!)) + (await producerBytes(bob, roomId, bobPub.audio!)),
      received: (await Promise.all(more.map((p, i) => consumerBytes(p, roomId, consumers[i]!.consumerId)))).reduce(
        (a, b) => a + b,
        0,
      ),
    });
    const before = await sample();
    await new Promise((r) => setTimeout(r, 2000));
    const after = await sample();
    const link = after.link - before.link;
    const sent = after.sent - before.sent;
    const received = after.received - before.received;
    console.log(`cascade: over 2 s Bob sent ${sent} B, the link carried ${link} B in, 3 receivers got ${received} B`);
    expect(sent).toBeGreaterThan(10_000);
    expect(link).toBeGreaterThan(sent * 0.7);
    expect(link).toBeLessThan(sent * 1.4);
    expect(received).toBeGreaterThan(link * 2);
    // per-link figures: bitrate each way, packets lost (none on loopback)
    expect(await metric(hq, 'moim_cascade_link_bitrate_bps', { peer_node: 'site', direction: 'in' })).toBeGreaterThan(
      0,
    );
    const text = await (await fetch(`${hq.url}/metrics`)).text();
    expect(text).toMatch(/^moim_cascade_link_packets_lost\{peer_node="site"[^}]*\} 0$/m);
    // headquarters empties: its router of the room closes, the room goes on at the site
    for (const p of [alice, ...more]) p.close();
    await waitFor(async () => (await metric(hq, 'moim_cascade_pipes')) === 0, { what: 'hq left the room' });
    expect(await liveRooms(site)).toBe(1);
    const info = await call<{ peers: Array<{ displayName: string }> }>(bob.socket, 'room:info', { roomId });
    expect(info.peers.map((p) => p.displayName)).toEqual(['Bob']);
    // headquarters, holding no router of it now, still tells who is in the room
    const zed = await peerOn(hq, 'Zed');
    const seen = await call<{ peers: Array<{ displayName: string }> }>(zed.socket, 'room:info', { roomId });
    expect(seen.peers.map((p) => p.displayName)).toEqual(['Bob']);
    zed.close();
    // and ends once its last participant anywhere left: no link, no pipe remains
    bob.close();
    await waitFor(async () => (await metric(hq, 'moim_cascade_pipes')) === 0, { what: 'pipes closed at hq' });
    await waitFor(async () => (await metric(site, 'moim_cascade_pipes')) === 0, { what: 'pipes closed at the site' });
  }, 60_000);

  it('a pipe runs only while someone there watches; pause, resume follow; closing a producer closes its far side within 1 s', async () => {
    const sam = await peerOn(site, 'Sam');
    const { roomId } = await createRoom(sam);
    await sam.join(roomId);
    const hana = await peerOn(hq, 'Hana');
    const hj = await hana.join(roomId);
    const pub = await publishPlain(sam, roomId, { video: [3331] });
    stops.push(() => pub.gen.close());
    // piped to headquarters, but paused while nobody there consumes it: no media on the link
    const linkIn = () => metric(hq, 'moim_cascade_link_bytes', { peer_node: 'site', direction: 'in' });
    await waitFor(async () => (await metric(hq, 'moim_cascade_pipes', { peer_node: 'site', direction: 'in' })) === 1, {
      what: 'the pipe at headquarters',
    });
    const idle0 = await linkIn();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await linkIn()) - idle0).toBeLessThan(2000);
    const sub = await subscribePlain(hana, roomId, hj.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    const consumer = await receives(hana, roomId, pub.video!, 'Hana gets Sam');
    const flowing = await linkIn();
    expect(flowing - idle0).toBeGreaterThan(3000);
    // Hana hides Sam's tile (pauses her consumer): nobody there watches, the pipe pauses; and resumes
    await call(hana.socket, 'media:pauseConsumer', { roomId, consumerId: consumer.consumerId });
    await new Promise((r) => setTimeout(r, 500));
    const hidden = await linkIn();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await linkIn()) - hidden).toBeLessThan(2000);
    await call(hana.socket, 'media:resumeConsumer', { roomId, consumerId: consumer.consumerId });
    await waitFor(async () => (await linkIn()) - hidden > 3000, { what: 'the pipe running again' });

    await call(sam.socket, 'media:pauseProducer', { roomId, producerId: pub.video });
    await hana.waitEvent('media:producerPaused', (e: { producerId: string }) => e.producerId === pub.video, 5000);
    await call(sam.socket, 'media:resumeProducer', { roomId, producerId: pub.video });
    await hana.waitEvent('media:producerResumed', (e: { producerId: string }) => e.producerId === pub.video, 5000);

    const closedAt = Date.now();
    await call(sam.socket, 'media:closeProducer', { roomId, producerId: pub.video });
    await hana.waitEvent(
      'media:consumerClosed',
      (e: { consumerId: string }) => e.consumerId === consumer.consumerId,
      1000,
    );
    const closeMs = Date.now() - closedAt;
    console.log(`cascade: far side of a closed producer closed after ${closeMs} ms`);
    expect(closeMs).toBeLessThan(1000);
    for (const p of [sam, hana]) p.close();
  }, 60_000);

  it('a moderator at headquarters mutes, stops the video of, removes a site participant, and closes the room everywhere', async () => {
    const olivia = await peerOn(hq, 'Olivia'); // the owner: a moderator
    const { roomId } = await createRoom(olivia);
    const oj = await olivia.join(roomId);
    const osub = await subscribePlain(olivia, roomId, oj.routerRtpCapabilities);
    stops.push(() => osub.sink.close());
    const bob = await peerOn(site, 'Bob');
    const carl = await peerOn(site, 'Carl');
    const bj = await bob.join(roomId);
    await carl.join(roomId);
    const pub = await publishPlain(bob, roomId, { video: [6661], audio: 6662 });
    stops.push(() => pub.gen.close());
    const video = await receives(olivia, roomId, pub.video!, 'Olivia gets Bob');
    await receives(olivia, roomId, pub.audio!, 'Olivia gets Bob’s audio');

    const muted = await call<{ paused: string[] }>(olivia.socket, 'room:mutePeer', { roomId, peerId: bj.peerId });
    expect(muted.paused).toEqual([pub.audio]);
    await bob.waitEvent(
      'media:producerPaused',
      (e: { producerId: string; byModerator?: boolean }) => e.producerId === pub.audio && e.byModerator === true,
      5000,
    );
    await olivia.waitEvent('media:producerPaused', (e: { producerId: string }) => e.producerId === pub.audio, 5000);

    await call(olivia.socket, 'room:stopVideo', { roomId, peerId: bj.peerId });
    await bob.waitEvent(
      'media:producerClosed',
      (e: { producerId: string; reason: string }) => e.producerId === pub.video && e.reason === 'moderator',
      5000,
    );
    await olivia.waitEvent(
      'media:consumerClosed',
      (e: { consumerId: string }) => e.consumerId === video.consumerId,
      5000,
    );

    await call(olivia.socket, 'room:removePeer', { roomId, peerId: bj.peerId, reason: 'off topic' });
    await bob.waitEvent('room:removed', (e: { reason: string | null }) => e.reason === 'off topic', 5000);
    await olivia.waitEvent('room:peerLeft', (e: { peerId: string }) => e.peerId === bj.peerId, 5000);

    await call(olivia.socket, 'room:close', { roomId });
    await carl.waitEvent('room:closed', (e: { roomId: string; reason: string }) => e.roomId === roomId, 5000);
    await waitFor(async () => (await liveRooms(site)) === 0, { what: 'the site’s router of the room closed' });
    for (const p of [olivia, bob, carl]) p.close();
  }, 60_000);

  it('a person of the site who reached headquarters is served by the site node', async () => {
    const owner = await peerOn(hq, 'Owner');
    const { roomId } = await createRoom(owner);
    const token = await devToken(hq.url, { name: 'Visitor', site: 'site' });
    const visitor = await mediaPeer(
      { connect: (t: string) => connectSocket(hq.url, t) } as unknown as TestServer,
      { name: 'Visitor' },
      token,
    );
    const vj = await visitor.join(roomId);
    const { transport } = await subscribePlain(visitor, roomId, vj.routerRtpCapabilities);
    stops.push(() => visitor.close());
    // the media address handed out is the site node's
    expect(transport.ip).toBe('127.0.0.2');
    expect(await liveRooms(site)).toBeGreaterThan(0);
    visitor.close();
    owner.close();
  }, 60_000);

  it('what was lost while Redis was away (a producer closed, a participant left) is repaired once it is back', async () => {
    const tom = await peerOn(site, 'Tom');
    const { roomId } = await createRoom(tom);
    await tom.join(roomId);
    const uma = await peerOn(site, 'Uma');
    const uj = await uma.join(roomId);
    const pub = await publishPlain(tom, roomId, { video: [8881] });
    stops.push(() => pub.gen.close());
    const vera = await peerOn(hq, 'Vera');
    const vj = await vera.join(roomId);
    const sub = await subscribePlain(vera, roomId, vj.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    const consumer = await receives(vera, roomId, pub.video!, 'Vera gets Tom');
    await vera.waitEvent('room:peerJoined', (e: { peer: { peerId: string } }) => e.peer.peerId === uj.peerId);

    await redis.kill();
    await call(tom.socket, 'media:closeProducer', { roomId, producerId: pub.video });
    uma.close();
    await new Promise((r) => setTimeout(r, 3000));
    await redis.start();
    const back = Date.now();
    await vera.waitEvent(
      'media:consumerClosed',
      (e: { consumerId: string }) => e.consumerId === consumer.consumerId,
      20_000,
    );
    await vera.waitEvent('room:peerLeft', (e: { peerId: string }) => e.peerId === uj.peerId, 20_000);
    console.log(`cascade: repaired ${Date.now() - back} ms after Redis came back`);
    // the cluster is whole again for what follows
    await waitFor(async () => (await fetch(`${site.url}/readyz`)).ok && (await fetch(`${hq.url}/readyz`)).ok, {
      what: 'both nodes ready',
      timeoutMs: 20_000,
    });
    for (const p of [tom, vera]) p.close();
  }, 60_000);

  it('killing the site node moves its clients to headquarters within 10 s, where media flows again', async () => {
    const yuna = await peerOn(hq, 'Yuna');
    const { roomId } = await createRoom(yuna);
    const yj = await yuna.join(roomId);
    const ysub = await subscribePlain(yuna, roomId, yj.routerRtpCapabilities);
    stops.push(() => ysub.sink.close());
    // an SDK client at the site, with headquarters as its fallback: it rejoins on its own
    const sdk = await connect({
      url: site.url,
      fallbackUrls: [hq.url],
      reconnectDelayMs: 100,
      reconnectDelayMaxMs: 400,
      rooms: {
        createDevice: () => Device.factory({ handlerFactory: FakeHandler.createFactory(testFakeParameters) }),
        stallCheckMs: 0,
        qualityIntervalMs: 0,
      },
      getToken: async () => (await sdkToken(site.url, { name: 'Jin', sub: 'jin', role: 'member', site: 'hq' })).token,
    });
    stops.push(() => sdk.close());
    await sdk.rooms.join(roomId, { displayName: 'Jin' });
    // a plain-RTP participant at the site, publishing
    const minho = await peerOn(site, 'Minho');
    await minho.join(roomId);
    const pub = await publishPlain(minho, roomId, { video: [4441], audio: 4442 });
    stops.push(() => pub.gen.close());
    await receives(yuna, roomId, pub.video!, 'Yuna gets Minho');
    const atHq = async () =>
      (
        await call<{ peers: Array<{ peerId: string; displayName: string; connected: boolean }> }>(
          yuna.socket,
          'room:info',
          { roomId },
        )
      ).peers;
    expect((await atHq()).map((p) => p.displayName).sort()).toEqual(['Jin', 'Minho', 'Yuna']);
    // the site's participants as headquarters sees them (remote peers, until the site node is declared dead)
    const remoteIds = new Set((await atHq()).filter((p) => p.displayName !== 'Yuna').map((p) => p.peerId));

    expect(await metric(hq, 'moim_cascade_pipes', { peer_node: 'site', direction: 'in' })).toBe(2);
    const killedAt = Date.now();
    site.child.kill('SIGKILL');
    // Minho's client does what the SDK does: its socket dropped, so it connects to headquarters and joins again
    await waitFor(() => minho.socket.disconnected, { what: 'the site socket dropped' });
    const minhoAgain = await peerOn(hq, 'Minho');
    await minhoAgain.join(roomId);
    const pub2 = await publishPlain(minhoAgain, roomId, { video: [5551] });
    stops.push(() => pub2.gen.close());
    yuna.consumers.length = 0;
    await receives(yuna, roomId, pub2.video!, 'Yuna gets Minho again');
    // the SDK client is back at headquarters, in the room, on its own (a peer of headquarters' own)
    await waitFor(
      async () => (await atHq()).some((p) => p.displayName === 'Jin' && p.connected && !remoteIds.has(p.peerId)),
      { what: 'Jin rejoined at headquarters', timeoutMs: 10_000 },
    );
    const movedMs = Date.now() - killedAt;
    expect(movedMs).toBeLessThan(10_000);
    // the dead node's pipes close and its participants leave headquarters' room
    await waitFor(async () => (await metric(hq, 'moim_cascade_pipes', { peer_node: 'site' })) === 0, {
      what: 'pipes of the dead node closed',
      timeoutMs: 15_000,
    });
    await waitFor(async () => (await atHq()).length === 3, { what: 'the dead node’s participants gone' });
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    console.log(
      `cascade: site clients back at hq ${movedMs} ms after the kill; the dead node's pipes closed and its participants gone after ${Date.now() - killedAt} ms`,
    );
    expect(sdk.state).toBe('connected');
    for (const p of [yuna, minhoAgain]) p.close();
  }, 60_000);
});
