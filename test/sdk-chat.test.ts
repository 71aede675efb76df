import { type ChatMessage, connect, devToken, type MoimClient } from '@moim/client-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

/** Chat through the client SDK against a real server. */
let server: TestServer;
const clients: MoimClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server.close();
});

async function client(sub: string, site = 'hq'): Promise<MoimClient> {
  const c = await connect({
    url: server.url,
    transports: ['websocket'],
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 400,
    getToken: async () => (await devToken(server.url, { name: sub.toUpperCase(), site, role: 'member', sub })).token,
  });
  clients.push(c);
  return c;
}

function dropSockets(sub: string): void {
  for (const conn of server.app.gateway.connections()) if (conn.principal.sub === sub) conn.socket.disconnect(true);
}

function collect(c: MoimClient, channelId: string): ChatMessage[] {
  const seen: ChatMessage[] = [];
  c.chat.on('message', (m) => {
    if (m.channelId === channelId) seen.push(m);
  });
  return seen;
}

async function publicChannel(a: MoimClient, b: MoimClient): Promise<string> {
  const ch = await a.chat.createChannel({ name: '기획팀', kind: 'public' });
  await b.chat.join(ch.id);
  await a.chat.subscribe(ch.id);
  await b.chat.subscribe(ch.id);
  return ch.id;
}

describe('client SDK chat', () => {
  it('messages go both ways; edits, reactions, threads and typing reach the other side', async () => {
    const a = await client('ana');
    const b = await client('bob', 'so-sejong');
    const id = await publicChannel(a, b);
    const atB = collect(b, id);
    const atA = collect(a, id);

    const m1 = await a.chat.send(id, '안녕하세요 <b>not bold</b>');
    await expect.poll(() => atB.map((m) => m.text)).toEqual(['안녕하세요 <b>not bold</b>']);
    await b.chat.send(id, 'hello back');
    await expect.poll(() => atA.map((m) => m.text)).toContain('hello back');

    const updated: ChatMessage[] = [];
    b.chat.on('updated', (m) => updated.push(m));
    await a.chat.edit(id, m1.seq, 'edited');
    await a.chat.react(id, m1.seq, '👍');
    await expect.poll(() => b.chat.messages(id).find((m) => m.seq === m1.seq)?.text).toBe('edited');
    await expect
      .poll(() =>
        b.chat
          .messages(id)
          .find((m) => m.seq === m1.seq)
          ?.reactions.map((r) => r.emoji),
      )
      .toEqual(['👍']);

    const reply = await b.chat.send(id, 'in thread', { threadRoot: m1.seq });
    expect(reply.threadRoot).toBe(m1.seq);
    expect((await a.chat.thread(id, m1.seq)).map((m) => m.text)).toEqual(['in thread']);

    const typing = new Promise<string>((resolve) => a.chat.on('typing', (e) => e.typing && resolve(e.sub)));
    b.chat.typing(id, true);
    expect(await typing).toBe('bob');
    expect(a.chat.typingIn(id)).toEqual(['bob']);
  });

  it('catches up after a reconnect without gaps or duplicates while others keep writing', async () => {
    const a = await client('ari');
    const b = await client('bin');
    const id = await publicChannel(a, b);
    const atB = collect(b, id);
    await a.chat.send(id, 'm0');
    await expect.poll(() => atB.length).toBe(1);

    // B drops; A writes while B is away and while B reconnects
    const reconnected = new Promise<void>((resolve) => b.once('reconnected', () => resolve()));
    dropSockets('bin');
    const writes: Promise<ChatMessage>[] = [];
    for (let i = 1; i <= 30; i++) {
      writes.push(a.chat.send(id, `m${i}`));
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    await Promise.all(writes);
    await reconnected;
    for (let i = 31; i <= 35; i++) await a.chat.send(id, `m${i}`);

    await expect.poll(() => atB.length, { timeout: 15_000 }).toBe(36);
    const seqs = atB.map((m) => m.seq);
    expect(new Set(seqs).size).toBe(36);
    // announced in order
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(b.chat.messages(id).map((m) => m.text)).toEqual(Array.from({ length: 36 }, (_, i) => `m${i}`));
  });

  it('a message sent while disconnected is stored once when the connection is back', async () => {
    const a = await client('cat');
    const b = await client('dan');
    const id = await publicChannel(a, b);
    const atA = collect(a, id);
    const reconnecting = new Promise<void>((resolve) => b.once('reconnecting', () => resolve()));
    dropSockets('dan');
    await reconnecting;
    const sent = await b.chat.send(id, 'sent while offline');
    expect(sent.text).toBe('sent while offline');
    await expect.poll(() => atA.map((m) => m.text)).toEqual(['sent while offline']);
    expect((await a.chat.history({ channelId: id })).messages).toHaveLength(1);
  });

  it('counts unread messages and clears them on read; direct messages work', async () => {
    const a = await client('eve');
    const b = await client('fay');
    const dm = await a.chat.openDm(['fay']);
    await b.chat.channels();
    await b.chat.subscribe(dm.id);
    await a.chat.send(dm.id, 'one');
    await a.chat.send(dm.id, 'two');
    await expect.poll(() => b.chat.myChannels.find((c) => c.id === dm.id)?.unread).toBe(2);
    await b.chat.read(dm.id);
    expect(b.chat.myChannels.find((c) => c.id === dm.id)?.unread).toBe(0);
    expect((await b.chat.channels()).find((c) => c.id === dm.id)?.unread).toBe(0);
  });

  it('uploads an attachment and links it; a no-download channel refuses the link', async () => {
    const a = await client('gus');
    const open = await a.chat.createChannel({ name: 'files', kind: 'public' });
    const att = await a.chat.upload(open.id, new Blob(['hello file'], { type: 'text/plain' }), '보고서.txt');
    expect(att.name).toBe('보고서.txt');
    const m = await a.chat.send(open.id, 'see file', { attachments: [att.id] });
    expect(m.attachments.map((x) => x.id)).toEqual([att.id]);
    const link = await a.chat.attachmentLink(open.id, att.id);
    expect(await (await fetch(link.url)).text()).toBe('hello file');

    const closed = await a.chat.createChannel({
      name: 'no-download',
      kind: 'private',
      policy: { downloadsAllowed: false },
    });
    const att2 = await a.chat.upload(closed.id, new Blob(['secret'], { type: 'text/plain' }), 'secret.txt');
    await expect(a.chat.attachmentLink(closed.id, att2.id)).rejects.toMatchObject({ code: 'POLICY_FORBIDS' });
  });
});
