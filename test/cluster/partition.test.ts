/**
 * A partition (issue 13): a room's home node is stopped (SIGSTOP) past its lease, so the others
 * declare it dead and the room moves; when it resumes (SIGCONT) it finds itself fenced, closes
 * the rooms it held under its old epoch and registers again — the room exists once, on its new
 * home, and a join through the resumed node reaches that one.
 */
import { waitFor } from '@moim/sfu/testing';
import { describe, expect, it } from 'vitest';
import { createRoom } from '../../server/src/media/testing/testPeers.ts';
import type { ServerProcess } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { liveRooms, peerOn, redisGet } from './media.ts';
import { call } from './support.ts';

const ENV = { MOIM_PEER_GRACE_MS: '0' };

const fixture = useCluster(['part-a', 'part-b', 'part-c'], ENV);
const nodes = fixture.nodes;

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
    expect(await redisGet(fixture.redis.url, homeKey)).toMatch(/^part-a\|/);

    a.child.kill('SIGSTOP');
    for (const p of [alice, bob])
      await p.waitEvent(
        'room:closed',
        (e: { roomId: string; reason: string }) => e.roomId === roomId && e.reason === 'WORKER_DIED',
        15_000,
      );
    await alice.join(roomId);
    await bob.join(roomId);
    const moved = await redisGet(fixture.redis.url, homeKey);
    expect(moved).toMatch(/^part-[bc]\|/);

    a.child.kill('SIGCONT');
    // the resumed node finds its tombstone, closes what it held and registers under a new epoch
    await waitFor(async () => (await liveRooms(a)) === 0, {
      what: 'the fenced node closed its room',
      timeoutMs: 10_000,
    });
    expect(a.output()).toContain('this node was declared dead; fenced');
    expect(await redisGet(fixture.redis.url, homeKey)).toBe(moved);
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
