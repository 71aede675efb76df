import { waitFor } from '@moim/sfu/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRoom, type MediaTestPeer, mediaPeer } from '../server/src/media/testing/testPeers.ts';
import { call, startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
type JoinAnswer = { peerId: string; peers: Array<{ peerId: string }> };
type Ack = { data: JoinAnswer } | { error: unknown };
type RawEmit = { emit(e: string, p: unknown, cb: (ack: Ack) => void): void };

beforeAll(async () => {
  server = await startTestServer({});
});
afterAll(async () => {
  await server.close();
});

/**
 * A client must hear of a room's other people only after its own join answer: simultaneous joiners
 * each get the other either in their answer's peer list or by a `room:peerJoined` after the answer,
 * never an event for a room they have not joined yet.
 */
describe('room events reach a joiner only after its join answer', () => {
  test('simultaneous joins, several rounds', async () => {
    const owner = await mediaPeer(server, { name: 'Owner', role: 'manager' });
    const people: MediaTestPeer[] = [];
    for (let i = 0; i < 6; i++) people.push(await mediaPeer(server, { name: `P${i}` }));
    try {
      for (let round = 0; round < 6; round++) {
        const { roomId } = await createRoom(owner, 'standard');
        // per person, in arrival order: 'answer' or the peer id of a room:peerJoined
        const order = people.map(() => [] as string[]);
        const listeners = people.map((p, i) => {
          const fn = (payload: { roomId?: string; peer?: { peerId?: string } }) => {
            if (payload?.roomId === roomId) order[i]!.push(payload.peer?.peerId ?? '?');
          };
          p.socket.on('room:peerJoined', fn);
          return fn;
        });
        const answers = await Promise.all(
          people.map(
            (p, i) =>
              // noted in the acknowledgement callback itself: a promise would note it a microtask
              // later, after events that arrived in the same network read
              new Promise<JoinAnswer>((resolve, reject) => {
                (p.socket as unknown as RawEmit).emit('room:join', { roomId }, (ack) => {
                  order[i]!.push('answer');
                  if ('data' in ack) resolve(ack.data);
                  else reject(new Error(JSON.stringify(ack)));
                });
              }),
          ),
        );
        const ids = answers.map((a) => a.peerId);
        for (let i = 0; i < people.length; i++) {
          const others = ids.filter((id) => id !== ids[i]).sort();
          const known = () => [
            ...new Set([...answers[i]!.peers.map((x) => x.peerId), ...order[i]!.filter((e) => e !== 'answer')]),
          ];
          await waitFor(() => known().length >= others.length, { timeoutMs: 5000 });
          expect(order[i]![0], `round ${round}, person ${i}: ${order[i]!.join(',')}`).toBe('answer');
          expect(known().sort()).toEqual(others);
        }
        for (let i = 0; i < people.length; i++) people[i]!.socket.off('room:peerJoined', listeners[i]!);
        await Promise.all(people.map((p) => call(p.socket, 'room:leave', { roomId })));
      }
    } finally {
      for (const p of people) p.close();
      owner.close();
    }
  });
});
