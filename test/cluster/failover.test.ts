/**
 * A node killed with SIGKILL while clients chat, edit and sit in a video room homed on it (issue 13):
 * the clients, behind a load balancer that skips dead nodes (nginx without ip_hash), are back on
 * survivors within 5 s; every acknowledged message is stored exactly once; every edit any client made
 * is in the document; the room's peers are told, join again and RTP flows on a live home.
 */
import { randomUUID } from 'node:crypto';
import { type ChatMessage, connect, devToken, type MoimClient } from '@moim/client-sdk';
import { waitFor } from '@moim/sfu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerBytes, createRoom, publishPlain, subscribePlain } from '../../server/src/media/testing/testPeers.ts';
import { destroyAllClients, openDoc, synced, until } from '../docs-support.ts';
import type { ServerProcess } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { peerOn } from './media.ts';
import { type Balancer, startBalancer } from './support.ts';

const LIMITS = {
  MOIM_CHAT_MESSAGES_PER_SEC: '1000',
  MOIM_RATE_LIMIT_PER_SEC: '1000',
  MOIM_RATE_LIMIT_BURST: '1000',
  MOIM_SFU_ALLOW_PLAIN: 'true',
  MOIM_PEER_GRACE_MS: '0',
};

let lb: Balancer;
const clients: MoimClient[] = [];
const gens: Array<{ close(): void }> = [];
const sinks: Array<{ close(): void }> = [];

const fixture = useCluster(['fo-a', 'fo-b', 'fo-c'], LIMITS);
const nodes = fixture.nodes;

beforeAll(async () => {
  lb = await startBalancer(() => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null));
});

afterAll(async () => {
  for (const x of [...gens, ...sinks]) x.close();
  destroyAllClients();
  for (const c of clients.splice(0)) await c.close();
  await lb?.close();
});

async function client(sub: string): Promise<MoimClient> {
  const c = await connect({
    url: lb.url,
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 300,
    getToken: async () => (await devToken(lb.url, { name: sub, sub, role: 'member', site: 'hq' })).token,
  });
  clients.push(c);
  return c;
}

describe('a node killed during traffic', () => {
  it('clients are back within 5 s; acknowledged messages are stored once; every edit is kept; the room goes on', async () => {
    const run = randomUUID().slice(0, 6);
    // a video room homed on the node that will be killed, with media peers on the two others
    const [a, victimNode, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const host = await peerOn(victimNode, 'Host');
    const { roomId } = await createRoom(host);
    await host.join(roomId);
    const alice = await peerOn(a, 'Alice');
    const bob = await peerOn(c, 'Bob');
    await alice.join(roomId);
    const bj = await bob.join(roomId);
    const rtpFlows = async (label: string, caps: unknown) => {
      const pub = await publishPlain(alice, roomId, { video: [5151] });
      gens.push(pub.gen);
      const sub = await subscribePlain(bob, roomId, caps);
      sinks.push(sub.sink);
      const consumer = await waitFor(() => bob.consumers.find((x) => x.producerId === pub.video), {
        what: `${label}: consumer`,
      });
      await waitFor(async () => (await consumerBytes(bob, roomId, consumer.consumerId)) > 5000, {
        what: `${label}: media`,
        timeoutMs: 10_000,
      });
      return pub;
    };
    const firstMedia = await rtpFlows('before', bj.routerRtpCapabilities);
    const people = await Promise.all(Array.from({ length: 6 }, (_, i) => client(`fo${run}-${i}`)));
    const ch = await people[0]!.chat.createChannel({
      name: `failover ${run}`,
      kind: 'private',
      members: people.slice(1).map((p) => p.me.sub),
    });
    await Promise.all(people.map((p) => p.chat.subscribe(ch.id)));
    const seen = people.map(() => new Set<string>());
    for (const [i, p] of people.entries())
      p.chat.on('message', (m: ChatMessage) => {
        if (m.channelId === ch.id) seen[i]!.add(m.clientMsgId);
      });
    const docName = `failover-${run}`;
    const writers = await Promise.all(
      Array.from({ length: 3 }, async (_, i) =>
        openDoc(lb.url, docName, (await devToken(lb.url, { name: `w${i}`, site: 'hq', role: 'member' })).token),
      ),
    );
    await Promise.all(writers.map((w) => synced(w)));

    const acked = new Set<string>();
    let sending = true;
    const senders = people.map(async (p, i) => {
      for (let k = 0; sending; k++) {
        try {
          const m = await p.chat.send(ch.id, `${i}:${k}`);
          acked.add(m.clientMsgId);
        } catch {
          // refused while its node was down: not acknowledged, so it does not count
        }
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    let editing = true;
    const edits = writers.map(async (w, i) => {
      for (let k = 0; editing; k++) {
        w.text.insert(w.text.length, `[${i}.${k}]`);
        await new Promise((r) => setTimeout(r, 40));
      }
    });
    await new Promise((r) => setTimeout(r, 1000));

    // kill the node that serves the most of them
    const victim = victimNode;
    const dropped = new Set<number>();
    for (const [i, p] of people.entries())
      p.on('state', (state) => {
        if (state === 'reconnecting') dropped.add(i);
      });
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await until(() => people.every((p) => p.state === 'connected') && Date.now() - killedAt > 300, {
      timeoutMs: 10_000,
      what: 'every client connected again',
    });
    const backMs = Date.now() - killedAt;
    // the room: its clients are told (WORKER_DIED), join again, and media flows on a live home
    for (const p of [alice, bob])
      await p.waitEvent(
        'room:closed',
        (e: { roomId: string; reason: string }) => e.roomId === roomId && e.reason === 'WORKER_DIED',
        15_000,
      );
    firstMedia.gen.close();
    await alice.join(roomId);
    const again = await bob.join(roomId);
    bob.consumers.length = 0;
    await rtpFlows('after', again.routerRtpCapabilities);
    expect(dropped.size).toBeGreaterThan(0); // some of them were on the killed node
    await new Promise((r) => setTimeout(r, 1500));
    sending = false;
    editing = false;
    await Promise.all([...senders, ...edits]);

    // every acknowledged message is stored exactly once
    const stored: ChatMessage[] = [];
    for (let before: number | undefined; ; ) {
      const page = await people[0]!.chat.history({ channelId: ch.id, limit: 200, ...(before ? { before } : {}) });
      stored.unshift(...page.messages);
      if (!page.hasMore || page.messages.length === 0) break;
      before = page.messages[0]!.seq;
    }
    const ids = stored.map((m) => m.clientMsgId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of acked) expect(ids).toContain(id);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, k) => k + 1));
    // documents: the writers converge, and a fresh client loads every edit any of them made
    const all = () => writers.map((w) => w.text.toString());
    await until(() => new Set(all()).size === 1, { timeoutMs: 15_000, what: 'writers converged' });
    const fresh = openDoc(
      lb.url,
      docName,
      (await devToken(lb.url, { name: 'reader', site: 'hq', role: 'member' })).token,
    );
    await synced(fresh);
    await until(() => fresh.text.toString() === all()[0], { timeoutMs: 10_000, what: 'stored content complete' });
    expect(backMs).toBeLessThan(5000);
  }, 90_000);
});
