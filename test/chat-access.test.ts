import { randomUUID } from 'node:crypto';
import type { AttachmentRef, Channel, ChatMessage } from '@moim/protocol';
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
    MOIM_CHAT_MESSAGES_PER_SEC: '5',
    MOIM_CHAT_MAX_MESSAGE_CHARS: '100',
    MOIM_CHAT_MAX_MEMBERS: '4',
    MOIM_ATTACHMENT_MAX_BYTES: '4096',
    MOIM_ATTACHMENT_TYPES: '["text/plain","image/*"]',
    MOIM_ATTACHMENT_LINK_TTL_S: '60',
  });
});
afterAll(() => server.close());

const send = (s: TestSocket, channelId: string, text: string, extra: Record<string, unknown> = {}) =>
  request<{ message: ChatMessage }>(s, 'chat:send', { channelId, clientMsgId: randomUUID(), text, ...extra });

const errorCode = (ack: unknown) => (ack as { error?: { code: string } }).error?.code;

async function upload(
  token: string,
  channelId: string,
  body: Uint8Array<ArrayBuffer> | string,
  type: string,
  name = 'notes.txt',
) {
  const res = await fetch(`${server.url}/chat/channels/${encodeURIComponent(channelId)}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type, 'x-filename': encodeURIComponent(name) },
    body,
  });
  return { status: res.status, body: (await res.json()) as { attachment?: AttachmentRef; error?: { code: string } } };
}

async function audit(action: string) {
  return server.app.stores.audit.list({ action, limit: 1000 });
}

describe('chat access', () => {
  it('refuses a non-member the history and the events of a private channel', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const eve = await server.person('eve');
    const ch = await call<Channel>(alice.socket, 'chat:channel:create', {
      name: 'board',
      kind: 'private',
      members: [bob.sub],
    });
    await send(alice.socket, ch.id, 'secret plan');
    for (const [event, payload] of [
      ['chat:history', { channelId: ch.id }],
      ['chat:subscribe', { channelId: ch.id }],
      ['chat:send', { channelId: ch.id, clientMsgId: 'x', text: 'hi' }],
      ['chat:members:list', { channelId: ch.id }],
      ['chat:receipts', { channelId: ch.id }],
      ['chat:read', { channelId: ch.id, seq: 1 }],
      ['chat:typing', { channelId: ch.id }],
      ['chat:join', { channelId: ch.id }],
    ] as const) {
      expect(errorCode(await request(eve.socket, event, payload)), event).toBe('NOT_A_MEMBER');
    }
    // eve receives nothing of it: bob (subscribed) gets the next message, eve got no chat event at all
    await call(bob.socket, 'chat:subscribe', { channelId: ch.id });
    const eveGot = collect(eve.socket, 'chat:message');
    const bobGot = nextEvent<ChatMessage>(bob.socket, 'chat:message');
    await send(alice.socket, ch.id, 'more secrets');
    await bobGot;
    expect(eveGot).toEqual([]);
  });

  it('a removed member stops receiving events at once and loses access; membership changes are audited', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const carol = await server.person('carol');
    const ch = await call<Channel>(alice.socket, 'chat:channel:create', {
      name: 'hr',
      kind: 'private',
      members: [bob.sub, carol.sub],
    });
    await call(bob.socket, 'chat:subscribe', { channelId: ch.id });
    await call(carol.socket, 'chat:subscribe', { channelId: ch.id });
    // bob is not an owner: he cannot remove others
    expect(errorCode(await request(bob.socket, 'chat:members:update', { channelId: ch.id, remove: [carol.sub] }))).toBe(
      'FORBIDDEN',
    );
    const told = nextEvent<{ change: string; channel: Channel }>(
      bob.socket,
      'chat:channel',
      (e) => e.change === 'left',
    );
    expect(await call(alice.socket, 'chat:members:update', { channelId: ch.id, remove: [bob.sub] })).toMatchObject({
      removed: [bob.sub],
      memberCount: 2,
    });
    await told;
    const bobGot = collect(bob.socket, 'chat:message');
    const carolGot = nextEvent<ChatMessage>(carol.socket, 'chat:message');
    await send(alice.socket, ch.id, 'after bob left');
    await carolGot;
    expect(bobGot).toEqual([]);
    expect(errorCode(await request(bob.socket, 'chat:history', { channelId: ch.id }))).toBe('NOT_A_MEMBER');
    const entries = await audit('chat.members.update');
    expect(entries.some((e) => e.target === ch.id && e.actor === alice.sub)).toBe(true);
  });

  it('public channels are readable by everyone in the organisation, writable after joining', async () => {
    const alice = await server.person('alice');
    const dan = await server.person('dan');
    const outsider = await server.person('olga', { org: 'other-org' });
    const ch = await call<Channel>(alice.socket, 'chat:channel:create', { name: 'general', kind: 'public' });
    await send(alice.socket, ch.id, 'welcome');
    expect(
      (await call<{ messages: ChatMessage[] }>(dan.socket, 'chat:history', { channelId: ch.id })).messages,
    ).toHaveLength(1);
    expect(errorCode(await send(dan.socket, ch.id, 'hi'))).toBe('NOT_A_MEMBER');
    await call(dan.socket, 'chat:join', { channelId: ch.id });
    expect(errorCode(await send(dan.socket, ch.id, 'hi'))).toBeUndefined();
    // another organisation does not even see it
    expect(errorCode(await request(outsider.socket, 'chat:history', { channelId: ch.id }))).toBe('NOT_FOUND');
    const listed = await call<{ channels: Channel[] }>(dan.socket, 'chat:channels:public', {});
    expect(listed.channels.map((c) => c.id)).toContain(ch.id);
  });

  it('direct messages: the same people always get the same channel; others are refused', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const eve = await server.person('eve');
    const a = await call<Channel>(alice.socket, 'chat:dm:open', { people: [bob.sub] });
    const b = await call<Channel>(bob.socket, 'chat:dm:open', { people: [alice.sub, bob.sub] });
    expect(b.id).toBe(a.id);
    expect(a.kind).toBe('dm');
    const group = await call<Channel>(alice.socket, 'chat:dm:open', { people: [bob.sub, eve.sub] });
    expect(group.id).not.toBe(a.id);
    await send(alice.socket, a.id, 'psst');
    expect(errorCode(await request(eve.socket, 'chat:history', { channelId: a.id }))).toBe('NOT_A_MEMBER');
    expect(errorCode(await request(alice.socket, 'chat:leave', { channelId: a.id }))).toBe('FORBIDDEN');
  });

  it('enforces message length, messages per second and members per channel with their codes', async () => {
    const alice = await server.person('alice');
    const ch = await call<Channel>(alice.socket, 'chat:channel:create', { name: 'limits', kind: 'public' });
    expect(errorCode(await send(alice.socket, ch.id, 'x'.repeat(101)))).toBe('MESSAGE_TOO_LONG');
    // 100 characters even when they are astral (2 UTF-16 units each)
    expect(errorCode(await send(alice.socket, ch.id, '😀'.repeat(100)))).toBeUndefined();
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => send(alice.socket, ch.id, `b${i}`)));
    expect(burst.map(errorCode)).toContain('RATE_LIMITED');
    expect(burst.map(errorCode).filter((c) => c !== undefined && c !== 'RATE_LIMITED')).toEqual([]);

    const full = await call<Channel>(alice.socket, 'chat:channel:create', {
      name: 'small',
      kind: 'private',
      members: ['m1', 'm2'],
    });
    expect(full.memberCount).toBe(3);
    expect(
      errorCode(await request(alice.socket, 'chat:members:update', { channelId: full.id, add: ['m3', 'm4'] })),
    ).toBe('CHANNEL_FULL');
    expect(await call(alice.socket, 'chat:members:update', { channelId: full.id, add: ['m3'] })).toMatchObject({
      memberCount: 4,
    });
    expect(
      errorCode(
        await request(alice.socket, 'chat:channel:create', {
          name: 'big',
          kind: 'private',
          members: ['a', 'b', 'c', 'd'],
        }),
      ),
    ).toBe('CHANNEL_FULL');
  });
});

describe('chat attachments', () => {
  it('uploads within limits, downloads through a short-lived link, and enforces a no-download policy', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const eve = await server.person('eve');
    const ch = await call<Channel>(alice.socket, 'chat:channel:create', {
      name: 'docs',
      kind: 'private',
      members: [bob.sub],
    });

    const content = 'quarterly numbers\n'.repeat(10);
    const up = await upload(alice.token, ch.id, content, 'text/plain; charset=utf-8', '../../etc/분기 보고서.txt');
    expect(up.status).toBe(201);
    const att = up.body.attachment!;
    expect(att).toMatchObject({ name: '분기 보고서.txt', type: 'text/plain', size: Buffer.byteLength(content) });

    // limits and access on upload
    expect(await upload(alice.token, ch.id, new Uint8Array(5000), 'text/plain')).toMatchObject({
      status: 413,
      body: { error: { code: 'PAYLOAD_TOO_LARGE' } },
    });
    expect(await upload(alice.token, ch.id, 'MZ', 'application/x-msdownload')).toMatchObject({
      status: 415,
      body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } },
    });
    expect(await upload(eve.token, ch.id, 'hi', 'text/plain')).toMatchObject({
      status: 403,
      body: { error: { code: 'NOT_A_MEMBER' } },
    });
    expect((await upload('not-a-token', ch.id, 'hi', 'text/plain')).status).toBe(401);

    // attach to a message; bob downloads through a link
    const sent = await call<{ message: ChatMessage }>(alice.socket, 'chat:send', {
      channelId: ch.id,
      clientMsgId: randomUUID(),
      text: 'see attached',
      attachments: [att.id],
    });
    expect(sent.message.attachments).toEqual([att]);
    expect(errorCode(await send(alice.socket, ch.id, 'x', { attachments: ['no-such-attachment'] }))).toBe('NOT_FOUND');
    const link = await call<{ url: string; expiresAt: number }>(bob.socket, 'chat:attachment:link', {
      channelId: ch.id,
      attachmentId: att.id,
    });
    const got = await fetch(`${server.url}${link.url}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('text/plain');
    expect(got.headers.get('content-disposition')).toContain('attachment;');
    expect(await got.text()).toBe(content);
    expect(
      errorCode(await request(eve.socket, 'chat:attachment:link', { channelId: ch.id, attachmentId: att.id })),
    ).toBe('NOT_A_MEMBER');
    // a tampered link is refused
    const tampered = link.url.replace(/sub=[^&]+/, `sub=${eve.sub}`);
    expect((await fetch(`${server.url}${tampered}`)).status).toBe(403);

    // only owners and admins change the policy
    expect(
      errorCode(
        await request(bob.socket, 'chat:policy:set', { channelId: ch.id, policy: { downloadsAllowed: false } }),
      ),
    ).toBe('FORBIDDEN');
    await call(bob.socket, 'chat:subscribe', { channelId: ch.id });
    const notice = nextEvent<{ change: string; channel: Channel }>(
      bob.socket,
      'chat:channel',
      (e) => e.change === 'policy',
    );
    await call(alice.socket, 'chat:policy:set', { channelId: ch.id, policy: { downloadsAllowed: false } });
    expect((await notice).channel.policy).toEqual({ downloadsAllowed: false });

    // new links are refused, and the link issued before the change no longer works
    expect(
      errorCode(await request(bob.socket, 'chat:attachment:link', { channelId: ch.id, attachmentId: att.id })),
    ).toBe('POLICY_FORBIDS');
    const late = await fetch(`${server.url}${link.url}`);
    expect(late.status).toBe(403);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('POLICY_FORBIDS');

    // all of it is in the audit log
    expect((await audit('chat.policy.set')).some((e) => e.target === ch.id && e.actor === alice.sub)).toBe(true);
    expect((await audit('chat.attachment.download')).some((e) => e.target === ch.id && e.actor === bob.sub)).toBe(true);
    // refused by the one data-leak policy check (policy/ContentPolicy.ts), before the service
    expect((await audit('policy.refused')).filter((e) => e.target === ch.id).length).toBe(2);
  });

  it('a link stops working when the person is removed from the channel', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const ch = await call<Channel>(alice.socket, 'chat:channel:create', {
      name: 'x',
      kind: 'private',
      members: [bob.sub],
    });
    const att = (await upload(alice.token, ch.id, 'data', 'text/plain')).body.attachment!;
    const link = await call<{ url: string }>(bob.socket, 'chat:attachment:link', {
      channelId: ch.id,
      attachmentId: att.id,
    });
    await call(alice.socket, 'chat:members:update', { channelId: ch.id, remove: [bob.sub] });
    const res = await fetch(`${server.url}${link.url}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_A_MEMBER');
  });
});
