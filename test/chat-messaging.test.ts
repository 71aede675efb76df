import { randomUUID } from 'node:crypto';
import type { Channel, ChatMessage, MyChannel } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  collect,
  LIFTED_RATE_LIMITS,
  nextEvent,
  request,
  startTestServer,
  type TestServer,
  type TestSocket,
} from '../server/src/testing/index.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    ...LIFTED_RATE_LIMITS,
    MOIM_CHAT_MESSAGES_PER_SEC: '10000',
  });
});
afterAll(() => server.close());

const send = (s: TestSocket, channelId: string, text: string, extra: Record<string, unknown> = {}) =>
  call<{ message: ChatMessage; duplicate: boolean }>(s, 'chat:send', {
    channelId,
    clientMsgId: randomUUID(),
    text,
    ...extra,
  });

let channels = 0;
async function channelWith(owner: TestSocket, members: string[], kind: 'public' | 'private' = 'public') {
  return call<Channel>(owner, 'chat:channel:create', { name: `room ${++channels}`, kind, members });
}

describe('chat messaging', () => {
  it('sends, acknowledges after storing, and delivers to subscribers', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const ch = await channelWith(alice.socket, [bob.sub]);
    await call(alice.socket, 'chat:subscribe', { channelId: ch.id });
    expect(await call(bob.socket, 'chat:subscribe', { channelId: ch.id })).toEqual({ lastSeq: 0 });
    const received = nextEvent<ChatMessage>(bob.socket, 'chat:message');
    const ack = await send(alice.socket, ch.id, 'hello bob');
    expect(ack).toMatchObject({ duplicate: false, message: { seq: 1, sender: alice.sub, text: 'hello bob' } });
    expect(await received).toEqual(ack.message);
    // acknowledged means stored: it is in the history
    const h = await call<{ messages: ChatMessage[] }>(bob.socket, 'chat:history', { channelId: ch.id });
    expect(h.messages).toEqual([ack.message]);
  });

  it('times its group commits in /metrics (moim_chat_commit_seconds, writes per commit)', async () => {
    const read = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const value = (name: string) =>
        Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return {
        commits: value('moim_chat_commit_seconds_count'),
        seconds: value('moim_chat_commit_seconds_sum'),
        writes: value('moim_chat_commit_batch_writes_sum'),
      };
    };
    const before = await read();
    const alice = await server.person('alice');
    const ch = await channelWith(alice.socket, []);
    // five sends in one turn: at most five commits, at least one, five writes in all
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((t) => send(alice.socket, ch.id, t)));
    const after = await read();
    expect(after.writes - before.writes).toBe(5);
    expect(after.commits - before.commits).toBeGreaterThanOrEqual(1);
    expect(after.commits - before.commits).toBeLessThanOrEqual(5);
    expect(after.seconds).toBeGreaterThan(before.seconds);
  });

  it('has one channel per site, joined on first use', async () => {
    const a = await server.person('ahn', { site: 'busan' });
    const b = await server.person('baek', { site: 'busan' });
    const mine = await call<{ channels: MyChannel[] }>(a.socket, 'chat:channels', {});
    expect(mine.channels.map((c) => [c.id, c.kind])).toContainEqual(['site-busan', 'site']);
    await call(b.socket, 'chat:channels', {});
    await call(a.socket, 'chat:subscribe', { channelId: 'site-busan' });
    const got = nextEvent<ChatMessage>(a.socket, 'chat:message');
    await send(b.socket, 'site-busan', 'lunch?');
    expect((await got).text).toBe('lunch?');
  });

  it('a resend with the same client message id returns the stored message and never duplicates it', async () => {
    const alice = await server.person('alice');
    const ch = await channelWith(alice.socket, []);
    const clientMsgId = randomUUID();
    const payload = { channelId: ch.id, clientMsgId, text: 'once' };
    // concurrent resends (lost ack, retry at once) and a late one
    const [a, b] = await Promise.all([
      call<{ message: ChatMessage; duplicate: boolean }>(alice.socket, 'chat:send', payload),
      call<{ message: ChatMessage; duplicate: boolean }>(alice.socket, 'chat:send', payload),
    ]);
    const c = await call<{ message: ChatMessage; duplicate: boolean }>(alice.socket, 'chat:send', payload);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(c.duplicate).toBe(true);
    expect(new Set([a.message.seq, b.message.seq, c.message.seq])).toEqual(new Set([1]));
    const h = await call<{ messages: ChatMessage[] }>(alice.socket, 'chat:history', { channelId: ch.id });
    expect(h.messages).toHaveLength(1);
  });

  it('keeps one order for everyone under concurrent senders', async () => {
    const people = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((x) => server.person(x)));
    const ch = await channelWith(
      people[0]!.socket,
      people.slice(1).map((p) => p.sub),
    );
    const watcher = await server.person('watcher');
    await call(watcher.socket, 'chat:join', { channelId: ch.id });
    for (const p of [...people, watcher]) await call(p.socket, 'chat:subscribe', { channelId: ch.id });
    const live = [...people, watcher].map((p) => collect<ChatMessage>(p.socket, 'chat:message'));
    const perSender = 40;
    const acks = await Promise.all(
      people.map((p) =>
        Promise.all(Array.from({ length: perSender }, (_, i) => send(p.socket, ch.id, `${p.sub} #${i}`))),
      ),
    );
    const total = perSender * people.length;
    // seqs are dense and unique
    expect(
      acks
        .flat()
        .map((a) => a.message.seq)
        .sort((x, y) => x - y),
    ).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // each sender's messages keep the order they were sent in
    for (const list of acks) {
      const seqs = list.map((a) => a.message.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    // every subscriber saw every message, in seq order
    for (const got of live) {
      await expect.poll(() => got.length).toBe(total);
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    }
  });

  it('pages history backwards and forwards', async () => {
    const alice = await server.person('alice');
    const ch = await channelWith(alice.socket, []);
    for (let i = 1; i <= 25; i++) await send(alice.socket, ch.id, `m${i}`);
    type Page = { messages: ChatMessage[]; hasMore: boolean };
    const page = async (q: Record<string, unknown>) => {
      const p = await call<Page>(alice.socket, 'chat:history', { channelId: ch.id, limit: 10, ...q });
      return [p.messages.map((m) => m.seq), p.hasMore] as const;
    };
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    expect(await page({})).toEqual([range(16, 25), true]);
    expect(await page({ before: 16 })).toEqual([range(6, 15), true]);
    expect(await page({ before: 6 })).toEqual([range(1, 5), false]);
    expect(await page({ after: 0 })).toEqual([range(1, 10), true]);
    expect(await page({ after: 10 })).toEqual([range(11, 20), true]);
    expect(await page({ after: 20 })).toEqual([range(21, 25), false]);
    expect(await request(alice.socket, 'chat:history', { channelId: ch.id, before: 5, after: 1 })).toMatchObject({
      error: { code: 'INVALID_PAYLOAD' },
    });
  });

  it('edits, deletes, reactions, threads, mentions, typing, receipts and unread counts', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const carol = await server.person('carol');
    const ch = await channelWith(alice.socket, [bob.sub, carol.sub], 'private');
    await call(alice.socket, 'chat:subscribe', { channelId: ch.id });
    await call(bob.socket, 'chat:subscribe', { channelId: ch.id });

    // mention: bob is notified on all his connections even without subscribing to anything
    const bobPhone = await server.connect(bob.token);
    const mention = nextEvent<{ channelId: string; seq: number; sender: string; excerpt: string }>(
      bobPhone,
      'chat:mention',
    );
    const root = (
      await send(alice.socket, ch.id, 'standup notes, @bob please review', { mentions: [bob.sub, 'nobody-here'] })
    ).message;
    expect(await mention).toEqual({ channelId: ch.id, seq: root.seq, sender: alice.sub, excerpt: root.text });

    // reaction
    const reacted = nextEvent<ChatMessage>(alice.socket, 'chat:updated', (m) => m.reactions.length > 0);
    await call(bob.socket, 'chat:react', { channelId: ch.id, seq: root.seq, emoji: '👍' });
    expect((await reacted).reactions).toEqual([{ emoji: '👍', count: 1, people: [bob.sub] }]);

    // edit: only the sender; marked edited
    expect(await request(bob.socket, 'chat:edit', { channelId: ch.id, seq: root.seq, text: 'mine now' })).toMatchObject(
      {
        error: { code: 'FORBIDDEN' },
      },
    );
    const edited = nextEvent<ChatMessage>(bob.socket, 'chat:updated', (m) => m.editedAt !== null);
    await call(alice.socket, 'chat:edit', { channelId: ch.id, seq: root.seq, text: 'standup notes v2' });
    expect(await edited).toMatchObject({ seq: root.seq, text: 'standup notes v2', reactions: [{ emoji: '👍' }] });

    // thread
    const reply = (await send(bob.socket, ch.id, 'looks good', { threadRoot: root.seq })).message;
    expect(reply.threadRoot).toBe(root.seq);
    const thread = await call<{ messages: ChatMessage[] }>(alice.socket, 'chat:history', {
      channelId: ch.id,
      threadRoot: root.seq,
    });
    expect(thread.messages.map((m) => m.text)).toEqual(['looks good']);
    const all = await call<{ messages: ChatMessage[] }>(alice.socket, 'chat:history', { channelId: ch.id });
    expect(all.messages.find((m) => m.seq === root.seq)?.replyCount).toBe(1);
    expect(
      await request(bob.socket, 'chat:send', { channelId: ch.id, clientMsgId: 'r-x', text: 'x', threadRoot: 999 }),
    ).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });

    // typing: ephemeral, throttled
    const typing = nextEvent<{ sub: string; typing: boolean }>(alice.socket, 'chat:typing');
    expect(await call(bob.socket, 'chat:typing', { channelId: ch.id })).toEqual({ broadcast: true });
    expect(await typing).toMatchObject({ sub: bob.sub, typing: true });
    expect(await call(bob.socket, 'chat:typing', { channelId: ch.id })).toEqual({ broadcast: false });

    // delete: marked deleted, text gone
    const third = (await send(alice.socket, ch.id, 'oops')).message;
    const deleted = nextEvent<ChatMessage>(bob.socket, 'chat:updated', (m) => m.deletedAt !== null);
    await call(alice.socket, 'chat:delete', { channelId: ch.id, seq: third.seq });
    expect(await deleted).toMatchObject({ seq: third.seq, text: '' });
    expect(await request(alice.socket, 'chat:edit', { channelId: ch.id, seq: third.seq, text: 'back' })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });

    // unread counts and read receipts: carol has read nothing (2 live messages by others)
    const carolList = await call<{ channels: MyChannel[] }>(carol.socket, 'chat:channels', {});
    expect(carolList.channels.find((c) => c.id === ch.id)).toMatchObject({ unread: 2, lastRead: 0, lastSeq: 3 });
    const receipt = nextEvent<{ sub: string; lastRead: number }>(
      alice.socket,
      'chat:receipt',
      (r) => r.sub === carol.sub,
    );
    expect(await call(carol.socket, 'chat:read', { channelId: ch.id, seq: reply.seq })).toEqual({
      lastRead: 2,
      unread: 0,
    });
    expect(await receipt).toMatchObject({ lastRead: 2 });
    const receipts = await call<{ receipts: Array<{ sub: string; lastRead: number }> }>(alice.socket, 'chat:receipts', {
      channelId: ch.id,
    });
    expect(receipts.receipts).toContainEqual({ sub: carol.sub, lastRead: 2 });
    expect(receipts.receipts).toContainEqual({ sub: alice.sub, lastRead: 3 });
  });

  it('catches up after being offline: subscribe, fetch after the last seq, drop duplicates', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const ch = await channelWith(alice.socket, [bob.sub]);
    await call(bob.socket, 'chat:subscribe', { channelId: ch.id });
    const seen = collect<ChatMessage>(bob.socket, 'chat:message');
    for (let i = 1; i <= 3; i++) await send(alice.socket, ch.id, `before ${i}`);
    await expect.poll(() => seen.length).toBe(3);
    const lastSeen = Math.max(...seen.map((m) => m.seq));
    bob.socket.disconnect();

    for (let i = 1; i <= 7; i++) await send(alice.socket, ch.id, `while away ${i}`);

    const again = await server.connect(bob.token);
    const live = collect<ChatMessage>(again, 'chat:message');
    await call(again, 'chat:subscribe', { channelId: ch.id });
    // alice keeps writing while bob catches up
    const writing = Promise.all(Array.from({ length: 5 }, (_, i) => send(alice.socket, ch.id, `during ${i}`)));
    const fetched: ChatMessage[] = [];
    let after = lastSeen;
    for (;;) {
      const p = await call<{ messages: ChatMessage[]; hasMore: boolean }>(again, 'chat:history', {
        channelId: ch.id,
        after,
        limit: 3,
      });
      fetched.push(...p.messages);
      after = p.messages.at(-1)?.seq ?? after;
      if (!p.hasMore) break;
    }
    const last = Math.max(...(await writing).map((a) => a.message.seq));
    await expect.poll(() => live.some((m) => m.seq === last)).toBe(true);
    const merged = new Map<number, ChatMessage>();
    for (const m of [...fetched, ...live]) merged.set(m.seq, m);
    expect([...merged.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: last - lastSeen }, (_, i) => lastSeen + 1 + i),
    );
  });
});
