/**
 * A partition (issue 13): a room's home node is stopped (SIGSTOP) past its lease, so the others
 * declare it dead and the room moves; when it resumes (SIGCONT) it finds itself fenced, closes
 * the rooms it held under its old epoch and registers again — the room exists once, on its new
 * home, and a join through the resumed node reaches that one.
 */
import { waitFor } from '@moim/sfu/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRoom, type MediaTestPeer, mediaPeer } from '../../server/src/media/testing/testPeers.ts';
import type { TestServer } from '../../server/src/testing/index.ts';
import { devToken, type ServerProcess } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { call, connect } from './support.ts';

const ENV = { MOIM_PEER_GRACE_MS: '0' };

const fixture = useCluster(['part-a', 'part-b', 'part-c'], ENV);
const nodes = fixture.nodes;

function peerOn(node: ServerProcess, name: string): Promise<MediaTestPeer> {
  const server = {
    url: node.url,
    token: (input: { name: string }) => devToken(node.url, input),
    connect: (token: string) => connect(node.url, token),
  } as unknown as TestServer;
  return mediaPeer(server, { name });
}

async function redisGet(key: string): Promise<string | null> {
  const r = new Redis(fixture.redis.url);
  try {
    return await r.get(key);
  } finally {
    r.disconnect();
  }
}

async function liveRooms(node: ServerProcess): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return Number(/^moim_sfu_rooms\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? '0');
}

describe('a partition heals', () => {
  it('the home stopped past its lease is fenced when it resumes: one room, on its new home', async () => {
    const [a, b, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const carol = await peerOn(a, 'Carol');
    const { roomId } = await createRoom(carol);
    await carol.join(roomId);
    const alice = await peerOn(b, 'Alice');
    const bob = await peerOn(c, 'Bob');
    await alice.join(roomId);
    await bob.join(roomId);
    const homeKey = `${fixture.cluster.prefix}room-home:${roomId}`;
    expect(await redisGet(homeKey)).toMatch(/^part-a\|/);

    a.child.kill('SIGSTOP');
    for (const p of [alice, bob])
      await p.waitEvent(
        'room:closed',
        (e: { roomId: string; reason: string }) => e.roomId === roomId && e.reason === 'WORKER_DIED',
        15_000,
      );
    await alice.join(roomId);
    await bob.join(roomId);
    const moved = await redisGet(homeKey);
    expect(moved).toMatch(/^part-[bc]\|/);

    a.child.kill('SIGCONT');
    // the resumed node finds its tombstone, closes what it held and registers under a new epoch
    await waitFor(async () => (await liveRooms(a)) === 0, {
      what: 'the fenced node closed its room',
      timeoutMs: 10_000,
    });
    expect(a.output()).toContain('this node was declared dead; fenced');
    expect(await redisGet(homeKey)).toBe(moved);
    expect((await Promise.all(nodes.map(liveRooms))).reduce((x, y) => x + y, 0)).toBe(1);
    // a join through the resumed node reaches the one room
    const dave = await peerOn(a, 'Dave');
    const dj = await dave.join(roomId);
    expect(dj.peers.map((p) => p.displayName).sort()).toEqual(['Alice', 'Bob']);
    const info = await call<{ peers: unknown[] }>(alice.socket, 'room:info', { roomId });
    expect(info.peers).toHaveLength(3);
    for (const p of [alice, bob, carol, dave]) p.close();
  }, 90_000);
});
