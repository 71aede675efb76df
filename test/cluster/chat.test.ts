/**
 * Chat across nodes (issue 13): separate node processes on one PostgreSQL schema and one Redis,
 * clients on every node. A message is stored once (seq from the channel row, in the transaction
 * of the insert), acknowledged after COMMIT and fanned out through the socket.io Redis streams
 * adapter, so a subscriber on any node gets each message once, in seq order.
 */
import { randomUUID } from 'node:crypto';
import type { Channel, ChatMessage } from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import type { TestSocket } from '../../server/src/testing/index.ts';
import { bytesOf, upload } from '../attachments-support.ts';
import { devToken } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { call, collect, connect } from './support.ts';

const LIMITS = {
  MOIM_RATE_LIMIT_PER_SEC: '10000',
  MOIM_RATE_LIMIT_BURST: '10000',
  MOIM_CHAT_MESSAGES_PER_SEC: '10000',
  MOIM_MAX_SOCKETS_PER_ADDRESS: '5000',
};

const fixture = useCluster(['node-a', 'node-b', 'node-c'], LIMITS);
const nodes = fixture.nodes;

interface Member {
  sub: string;
  socket: TestSocket;
  node: number;
}

async function member(sub: string, node: number): Promise<Member> {
  const url = nodes[node]!.url;
  const token = await devToken(url, { name: sub, sub });
  return { sub, socket: await connect(url, token), node };
}

const send = (s: TestSocket, channelId: string, text: string, clientMsgId: string = randomUUID()) =>
  call<{ message: ChatMessage; duplicate: boolean }>(s, 'chat:send', { channelId, clientMsgId, text });

describe('chat across nodes', () => {
  it('200 clients on two nodes at 100 messages/s: each gets each message of its channel once, in seq order', async () => {
    const CHANNELS = 10;
    const PER_CHANNEL = 20;
    const run = randomUUID().slice(0, 6);
    const channels: Array<{ id: string; members: Member[] }> = [];
    for (let c = 0; c < CHANNELS; c++) {
      const members = await Promise.all(
        Array.from({ length: PER_CHANNEL }, (_, i) => member(`p${run}-${c}-${i}`, i % 2)),
      );
      const ch = await call<Channel>(members[0]!.socket, 'chat:channel:create', {
        name: `cluster ${run} ${c}`,
        kind: 'private',
        members: members.slice(1).map((m) => m.sub),
      });
      await Promise.all(members.map((m) => call(m.socket, 'chat:subscribe', { channelId: ch.id })));
      channels.push({ id: ch.id, members });
    }
    const received = new Map<Member, ChatMessage[]>();
    for (const ch of channels)
      for (const m of ch.members) received.set(m, collect<ChatMessage>(m.socket, 'chat:message'));

    // 300 messages at 100/s from members on both nodes
    const acks: Array<Promise<{ message: ChatMessage }>> = [];
    for (let i = 0; i < 300; i++) {
      const ch = channels[i % CHANNELS]!;
      const from = ch.members[(i * 7) % PER_CHANNEL]!;
      acks.push(send(from.socket, ch.id, `m${i}`));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
    }
    const sent = await Promise.all(acks);
    const perChannel = new Map<string, number>();
    for (const a of sent) perChannel.set(a.message.channelId, (perChannel.get(a.message.channelId) ?? 0) + 1);

    const deadline = Date.now() + 10_000;
    const complete = () =>
      channels.every((ch) => ch.members.every((m) => received.get(m)!.length >= perChannel.get(ch.id)!));
    while (!complete() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const ch of channels) {
      const n = perChannel.get(ch.id)!;
      for (const m of ch.members) {
        const seqs = received.get(m)!.map((x) => x.seq);
        // once each, in seq order, dense from 1 (nothing else was sent into these channels)
        expect(seqs, `${m.sub} on node ${m.node}`).toEqual(Array.from({ length: n }, (_, k) => k + 1));
      }
    }
    for (const ch of channels) for (const m of ch.members) m.socket.disconnect();
  }, 90_000);

  it('3 nodes × 20 writers into 5 channels: dense seqs, and a retry with the same client id on another node is no duplicate', async () => {
    const run = randomUUID().slice(0, 6);
    const writers = await Promise.all(Array.from({ length: 60 }, (_, i) => member(`w${run}-${i}`, i % 3)));
    const channels: string[] = [];
    for (let c = 0; c < 5; c++) {
      const ch = await call<Channel>(writers[c]!.socket, 'chat:channel:create', {
        name: `writers ${run} ${c}`,
        kind: 'private',
        members: writers.filter((w) => w !== writers[c]).map((w) => w.sub),
      });
      channels.push(ch.id);
    }
    // each writer: 5 messages, each sent on its own node and retried at once from a second connection on the next node
    const results = await Promise.all(
      writers.map(async (w, wi) => {
        const url = nodes[(w.node + 1) % 3]!.url;
        const again = await connect(url, await devToken(url, { name: w.sub, sub: w.sub }));
        const out: Array<{ message: ChatMessage; duplicate: boolean }> = [];
        for (let k = 0; k < 5; k++) {
          const channelId = channels[(wi + k) % 5]!;
          const id = randomUUID();
          const [first, retry] = await Promise.all([
            send(w.socket, channelId, `${w.sub} ${k}`, id),
            send(again, channelId, `${w.sub} ${k}`, id),
          ]);
          expect(retry.message.seq).toBe(first.message.seq);
          expect([first.duplicate, retry.duplicate].filter(Boolean)).toHaveLength(1);
          out.push(first, retry);
        }
        again.disconnect();
        return out;
      }),
    );
    expect(results.flat()).toHaveLength(600);
    for (const channelId of channels) {
      const h = await call<{ messages: ChatMessage[] }>(writers[0]!.socket, 'chat:history', { channelId, limit: 100 });
      expect(h.messages.map((m) => m.seq)).toEqual(Array.from({ length: 60 }, (_, k) => k + 1));
      expect(new Set(h.messages.map((m) => m.clientMsgId)).size).toBe(60);
    }
    for (const w of writers) w.socket.disconnect();
  }, 90_000);

  it('an attachment uploaded on one node is downloaded from another, and /readyz reports Redis', async () => {
    const run = randomUUID().slice(0, 6);
    const sub = `att-${run}`;
    const tokenA = await devToken(nodes[0]!.url, { name: sub, sub });
    const a = await connect(nodes[0]!.url, tokenA);
    const ch = await call<Channel>(a, 'chat:channel:create', { name: `files ${run}`, kind: 'private' });
    const bytes = bytesOf(300_000, 3);
    const up = await upload(nodes[0]!.url, tokenA, ch.id, bytes);
    expect(up.status).toBe(201);
    // the link is minted and served by node B
    const b = await connect(nodes[1]!.url, await devToken(nodes[1]!.url, { name: sub, sub }));
    const link = await call<{ url: string }>(b, 'chat:attachment:link', {
      channelId: ch.id,
      attachmentId: up.attachment!.id,
    });
    const res = await fetch(`${nodes[1]!.url}${link.url}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    const ready = (await (await fetch(`${nodes[1]!.url}/readyz`)).json()) as { checks: Record<string, boolean> };
    expect(ready.checks).toMatchObject({ storage: true, redis: true });
    a.disconnect();
    b.disconnect();
  });
});
