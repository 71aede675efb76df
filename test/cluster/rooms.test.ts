/**
 * Video rooms across nodes (issue 13): a room has one home node, chosen under a Redis
 * compare-and-set; signalling sent to any node reaches the home (relayed over Redis, events back
 * through the socket.io adapter) and media goes straight to the home node. When the home node is
 * killed, the clients in its room are told (WORKER_DIED), join again and the room continues on a
 * live node.
 */
import { waitFor } from '@moim/sfu/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { consumerBytes, createRoom, publishPlain, subscribePlain } from '../../server/src/media/testing/testPeers.ts';
import type { ServerProcess } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { liveRooms, peerOn, redisGet } from './media.ts';
import { call } from './support.ts';

const MEDIA = { MOIM_SFU_ALLOW_PLAIN: 'true', MOIM_PEER_GRACE_MS: '0', MOIM_MAX_SOCKETS_PER_ADDRESS: '5000' };

const stops: Array<() => void> = [];

const fixture = useCluster(['room-a', 'room-b', 'room-c'], MEDIA);
const nodes = fixture.nodes;

afterAll(async () => {
  for (const s of stops.splice(0)) s();
});

const homeOf = (roomId: string): Promise<string | null> =>
  redisGet(fixture.redis.url, `${fixture.cluster.prefix}room-home:${roomId}`);

describe('video rooms across nodes', () => {
  it('50 clients joining one new room through three nodes at once make exactly one room with one home', async () => {
    const owner = await peerOn(nodes[0]!, 'Owner');
    const { roomId } = await createRoom(owner);
    const peers = await Promise.all(Array.from({ length: 50 }, (_, i) => peerOn(nodes[i % 3]!, `p${i}`)));
    const joins = await Promise.all(peers.map((p) => p.join(roomId)));
    expect(new Set(joins.map((j) => j.room.roomId))).toEqual(new Set([roomId]));
    const home = await homeOf(roomId);
    expect(home).toMatch(/^room-[abc]\|/);
    expect((await Promise.all(nodes.map(liveRooms))).reduce((a, b) => a + b, 0)).toBe(1);
    // per-node and cross-node figures
    const figures = await (await fetch(`${nodes[1]!.url}/metrics`)).text();
    expect(figures).toMatch(/^moim_cluster_nodes_alive\{[^}]*\} 3$/m);
    expect(figures).toMatch(/^moim_cluster_redis_up\{[^}]*\} 1$/m);
    if (!home?.startsWith('room-b|'))
      expect(figures).toMatch(/^moim_cluster_relay_requests_total\{[^}]*outcome="ok"[^}]*\} [1-9]/m);
    // every node answers about the same room: 50 peers
    for (const k of [0, 1, 2]) {
      const p = peers[k]!; // peer k is on node k % 3
      const info = await call<{ peers: unknown[] }>(p.socket, 'room:info', { roomId });
      expect(info.peers).toHaveLength(50);
    }
    for (const p of [owner, ...peers]) p.close();
    await waitFor(async () => (await homeOf(roomId)) === null, { what: 'home released', timeoutMs: 10_000 });
  }, 60_000);

  it('media crosses nodes, and a killed home node moves the room to a live one where RTP flows again', async () => {
    const [a, b, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const carol = await peerOn(c, 'Carol');
    const { roomId } = await createRoom(carol);
    await carol.join(roomId); // the first join claims the home: node c
    expect(await homeOf(roomId)).toMatch(/^room-c\|/);
    const alice = await peerOn(a, 'Alice');
    const bob = await peerOn(b, 'Bob');
    await alice.join(roomId);
    const bj = await bob.join(roomId);

    const flows = async (label: string, routerCaps: unknown) => {
      const pub = await publishPlain(alice, roomId, { video: [4242] });
      stops.push(() => pub.gen.close());
      const sub = await subscribePlain(bob, roomId, routerCaps);
      stops.push(() => sub.sink.close());
      const consumer = await waitFor(() => bob.consumers.find((x) => x.producerId === pub.video), {
        what: `${label}: consumer`,
      });
      let sent = 0;
      await waitFor(
        async () => {
          sent = await consumerBytes(bob, roomId, consumer.consumerId);
          return sent > 5000;
        },
        { what: `${label}: bytes` },
      ).catch((err: unknown) => {
        const seen = bob.events.map((e) => e.event).join(', ');
        const logs = nodes.map((n) => n.output().slice(-2000)).join('\n---\n');
        throw new Error(`${(err as Error).message} (sent ${sent}; bob saw: ${seen})\n${logs}`);
      });
      await waitFor(() => sub.sink.packets > 50, { what: `${label}: packets at the sink` });
      return pub;
    };
    const first = await flows('home c', bj.routerRtpCapabilities);

    const killedAt = Date.now();
    c.child.kill('SIGKILL');
    for (const p of [alice, bob])
      await p.waitEvent(
        'room:closed',
        (e: { roomId: string; reason: string }) => e.roomId === roomId && e.reason === 'WORKER_DIED',
        15_000,
      );
    const toldMs = Date.now() - killedAt;
    first.gen.close();
    // what the SDK does on WORKER_DIED: join again; the room gets a home on a live node
    await alice.join(roomId);
    const again = await bob.join(roomId);
    expect(again.peers).toHaveLength(1);
    expect(await homeOf(roomId)).toMatch(/^room-[ab]\|/);
    bob.consumers.length = 0;
    await flows('new home', again.routerRtpCapabilities);
    expect(toldMs).toBeLessThan(10_000);
    for (const p of [alice, bob, carol]) p.close();
  }, 90_000);

  it('SIGTERM drains the home node: its rooms close first, so their clients move at once', async () => {
    const [a, b] = nodes as [ServerProcess, ServerProcess];
    const dan = await peerOn(a, 'Dan');
    const { roomId } = await createRoom(dan);
    await dan.join(roomId);
    expect(await homeOf(roomId)).toMatch(/^room-a\|/);
    const erin = await peerOn(b, 'Erin');
    await erin.join(roomId);
    const stoppedAt = Date.now();
    const stopping = a.stop();
    await erin.waitEvent(
      'room:closed',
      (e: { roomId: string; reason: string }) => e.roomId === roomId && e.reason === 'WORKER_DIED',
      5000,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(2000);
    await stopping;
    expect(a.child.exitCode).toBe(0);
    const again = await erin.join(roomId);
    expect(again.room.roomId).toBe(roomId);
    expect(await homeOf(roomId)).toMatch(/^room-b\|/);
    erin.close();
  }, 60_000);
});
