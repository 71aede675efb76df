import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Channel, type ChatMessage, PROTOCOL_VERSION } from '@moim/protocol';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { devToken, type ServerProcess, startServerProcess, workerThreads } from './support/serverProcess.ts';

const servers: ServerProcess[] = [];
const dirs: string[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function connect(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = ioClient(url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION },
      reconnection: false,
      forceNew: true,
    });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

async function call<T>(s: Socket, event: string, payload: unknown): Promise<T> {
  const ack = (await s.timeout(10_000).emitWithAck(event, payload)) as { data: T } | { error: unknown };
  if ('error' in ack) throw new Error(`${event}: ${JSON.stringify(ack.error)}`);
  return ack.data;
}

// commits on the write thread (the default) and on the event loop (MOIM_SQLITE_WRITE_THREADS=false)
describe.each(['true', 'false'])('chat durability, MOIM_SQLITE_WRITE_THREADS=%s', (threads) => {
  it('after a SIGKILL, every acknowledged message and read marker is still there, seqs dense', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-chat-crash-'));
    dirs.push(dataDir);
    const first = await startServerProcess(
      { MOIM_CHAT_MESSAGES_PER_SEC: '10000', MOIM_SQLITE_WRITE_THREADS: threads },
      { dataDir },
    );
    servers.push(first);
    const firstThreads = workerThreads(first);
    const [ta, tb] = await Promise.all([
      devToken(first.url, { name: 'Alice', sub: 'alice' }),
      devToken(first.url, { name: 'Bob', sub: 'bob' }),
    ]);
    const [a, b] = await Promise.all([connect(first.url, ta), connect(first.url, tb)]);
    const ch = await call<Channel>(a, 'chat:channel:create', { name: 'crash', kind: 'private', members: ['bob'] });
    // many sends in flight at once: they share group commits on the write worker
    const acks: ChatMessage[] = [];
    const sends = Array.from({ length: 200 }, (_, i) =>
      call<{ message: ChatMessage }>(i % 2 ? a : b, 'chat:send', {
        channelId: ch.id,
        clientMsgId: randomUUID(),
        text: `m${i}`,
      }).then((r) => acks.push(r.message)),
    );
    // and more that may or may not make it before the kill
    for (let i = 0; i < 200; i++)
      a.emit('chat:send', { channelId: ch.id, clientMsgId: randomUUID(), text: `late${i}` }, () => {});
    await Promise.all(sends);
    const read = await call<{ lastRead: number }>(b, 'chat:read', { channelId: ch.id, seq: 150 });
    first.child.kill('SIGKILL');
    await new Promise((res) => first.child.once('exit', res));

    // the restart commits on the write threads (the default), reading what the first one committed
    const second = await startServerProcess({}, { dataDir });
    servers.push(second);
    // on the event loop, the chat and document write threads are not started
    expect(workerThreads(second) - firstThreads).toBe(threads === 'false' ? 2 : 0);
    const b2 = await connect(second.url, await devToken(second.url, { name: 'Bob', sub: 'bob' }));
    const stored: ChatMessage[] = [];
    for (let after = 0; ; ) {
      const page = await call<{ messages: ChatMessage[]; hasMore: boolean }>(b2, 'chat:history', {
        channelId: ch.id,
        after,
        limit: 100,
      });
      stored.push(...page.messages);
      if (!page.hasMore) break;
      after = page.messages.at(-1)!.seq;
    }
    // dense seqs 1..n, and every acknowledged message among them as acknowledged
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    const bySeq = new Map(stored.map((m) => [m.seq, m]));
    for (const m of acks) expect(bySeq.get(m.seq)).toMatchObject({ clientMsgId: m.clientMsgId, text: m.text });
    expect(stored.length).toBeGreaterThanOrEqual(200);
    const receipts = await call<{ receipts: Array<{ sub: string; lastRead: number }> }>(b2, 'chat:receipts', {
      channelId: ch.id,
      limit: 10,
    });
    expect(receipts.receipts.find((r) => r.sub === 'bob')?.lastRead).toBeGreaterThanOrEqual(read.lastRead);
    const channel = await call<{ channel: Channel }>(b2, 'chat:channel:get', { channelId: ch.id });
    expect(channel.channel.lastSeq).toBe(stored.length);
  });
});
