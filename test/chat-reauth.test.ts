import { randomUUID } from 'node:crypto';
import type { Channel, ChatMessage } from '@moim/protocol';
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

/**
 * Issue 11 item 7: a token refreshed with fewer rights (`system:auth` without `chat`, or for
 * another organisation) must end the live subscriptions the new token no longer allows.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(LIFTED_RATE_LIMITS);
});
afterAll(() => server.close());

const send = (s: TestSocket, channelId: string, text: string, extra: Record<string, unknown> = {}) =>
  call<{ message: ChatMessage }>(s, 'chat:send', { channelId, clientMsgId: randomUUID(), text, ...extra });

const code = (ack: unknown) => (ack as { error?: { code: string } }).error?.code;

/** A round trip on `socket`: everything the server sent it before is in (one socket keeps its order). */
const settle = (socket: TestSocket) => call(socket, 'system:ping', { t: 0 });

/** A private channel of alice and bob, with bob's `watched` socket and a `control` socket both subscribed. */
async function privateChannel() {
  const alice = await server.person('alice');
  const bob = await server.person('bob');
  const control = await server.connect(bob.token); // bob's other tab keeps its token
  const ch = await call<Channel>(alice.socket, 'chat:channel:create', {
    name: 'board',
    kind: 'private',
    members: [bob.sub],
  });
  await call(bob.socket, 'chat:subscribe', { channelId: ch.id });
  await call(control, 'chat:subscribe', { channelId: ch.id });
  return { alice, bob, control, ch };
}

/** Send from alice; once bob's control tab has it, everything bound for bob's refreshed socket has arrived too. */
async function sendAndSettle(alice: TestSocket, control: TestSocket, channelId: string, text: string) {
  const arrived = nextEvent<ChatMessage>(control, 'chat:message', (m) => m.text === text);
  await send(alice, channelId, text);
  await arrived;
}

describe('chat subscriptions follow a refreshed token', () => {
  it('a refresh without the chat grant stops live messages, mentions and invitations at once', async () => {
    const { alice, bob, control, ch } = await privateChannel();
    const messages = collect<ChatMessage>(bob.socket, 'chat:message');
    const mentions = collect<unknown>(bob.socket, 'chat:mention');
    const invitations = collect<unknown>(bob.socket, 'chat:channel');
    await sendAndSettle(alice.socket, control, ch.id, 'before');
    expect(messages.map((m) => m.text)).toEqual(['before']);

    const noChat = await server.token({ name: 'bob', sub: bob.sub, grants: { chat: false } });
    await call(bob.socket, 'system:auth', { token: noChat });
    // history was already refused before the fix; the live room was not
    expect(code(await request(bob.socket, 'chat:history', { channelId: ch.id }))).toBe('FORBIDDEN');
    await sendAndSettle(alice.socket, control, ch.id, 'after the refresh');
    const mentioned = nextEvent(control, 'chat:mention');
    await send(alice.socket, ch.id, `@bob secret`, { mentions: [bob.sub] });
    await mentioned;
    const invited = nextEvent(control, 'chat:channel');
    await call(alice.socket, 'chat:channel:create', { name: 'another', kind: 'private', members: [bob.sub] });
    await invited;
    await settle(bob.socket);
    expect(messages.map((m) => m.text)).toEqual(['before']);
    expect(mentions).toEqual([]);
    expect(invitations).toEqual([]);

    // what remains allowed still works on the same connection
    expect(bob.socket.connected).toBe(true);
    expect(await call(bob.socket, 'system:ping', { t: 1 })).toMatchObject({ t: 1 });
    expect(await call<{ people: unknown[] }>(bob.socket, 'presence:get', { people: [alice.sub] })).toHaveProperty(
      'people',
    );
    // and a token with chat again brings chat back (re-subscribing is the client's move)
    await call(bob.socket, 'system:auth', { token: bob.token });
    await call(bob.socket, 'chat:subscribe', { channelId: ch.id });
    const back = nextEvent<ChatMessage>(bob.socket, 'chat:message', (m) => m.text === 'welcome back');
    await send(alice.socket, ch.id, 'welcome back');
    expect((await back).text).toBe('welcome back');
    const reinvited = nextEvent(bob.socket, 'chat:channel');
    await call(alice.socket, 'chat:channel:create', { name: 'third', kind: 'private', members: [bob.sub] });
    await reinvited;
  });

  it('a refresh for another organisation drops every channel of the old one; the new one is served', async () => {
    const { alice, bob, control, ch } = await privateChannel();
    const pub = await call<Channel>(alice.socket, 'chat:channel:create', { name: 'town-hall', kind: 'public' });
    await call(bob.socket, 'chat:subscribe', { channelId: pub.id });
    const [site] = (await call<{ channels: Channel[] }>(bob.socket, 'chat:channels', {})).channels.filter(
      (c) => c.kind === 'site',
    );
    expect(site).toBeDefined();
    await call(bob.socket, 'chat:subscribe', { channelId: site!.id });
    await call(alice.socket, 'chat:join', { channelId: site!.id });
    const dm = await call<Channel>(alice.socket, 'chat:dm:open', { people: [bob.sub] });
    await call(bob.socket, 'chat:subscribe', { channelId: dm.id });
    for (const id of [pub.id, site!.id, dm.id]) await call(control, 'chat:subscribe', { channelId: id });
    const seen = collect<ChatMessage>(bob.socket, 'chat:message');

    const elsewhere = await server.token({ name: 'bob', sub: bob.sub, org: 'elsewhere' });
    await call(bob.socket, 'system:auth', { token: elsewhere });
    for (const id of [ch.id, pub.id, site!.id, dm.id]) {
      await sendAndSettle(alice.socket, control, id, `to ${id}`);
      // the old organisation's channels do not exist for the new token
      expect(code(await request(bob.socket, 'chat:history', { channelId: id }))).toBe('NOT_FOUND');
      expect(code(await request(bob.socket, 'chat:subscribe', { channelId: id }))).toBe('NOT_FOUND');
    }
    const invited = nextEvent(control, 'chat:channel');
    const invitations = collect<unknown>(bob.socket, 'chat:channel');
    await call(alice.socket, 'chat:channel:create', { name: 'later', kind: 'private', members: [bob.sub] });
    await invited;
    await settle(bob.socket);
    expect(seen).toEqual([]);
    expect(invitations).toEqual([]);

    // in the new organisation bob is served as anyone there
    const carol = await server.person('carol', { org: 'elsewhere' });
    const theirs = await call<Channel>(carol.socket, 'chat:channel:create', {
      name: 'theirs',
      kind: 'private',
      members: [bob.sub],
    });
    await call(bob.socket, 'chat:subscribe', { channelId: theirs.id });
    const got = nextEvent<ChatMessage>(bob.socket, 'chat:message');
    await send(carol.socket, theirs.id, 'hello from elsewhere');
    expect((await got).text).toBe('hello from elsewhere');
  });

  it('a refresh that keeps the rights keeps the subscriptions', async () => {
    const { alice, bob, control, ch } = await privateChannel();
    const seen = collect<ChatMessage>(bob.socket, 'chat:message');
    const fresh = await server.token({ name: 'bob', sub: bob.sub, site: 'home' });
    await call(bob.socket, 'system:auth', { token: fresh });
    await sendAndSettle(alice.socket, control, ch.id, 'still here');
    // the background re-check of each subscription leaves an allowed one alone
    await new Promise((r) => setTimeout(r, 100));
    await sendAndSettle(alice.socket, control, ch.id, 'still here 2');
    await settle(bob.socket);
    expect(seen.map((m) => m.text)).toEqual(['still here', 'still here 2']);
  });

  it('the same sub in another organisation is someone else: no pushes of the other one', async () => {
    const alice = await server.person('alice');
    const bob = await server.person('bob');
    const twin = await server.connect(await server.token({ name: 'bob', sub: bob.sub, org: 'twins' }));
    const pushes = collect<unknown>(twin, 'chat:channel');
    const mentions = collect<unknown>(twin, 'chat:mention');
    const invited = nextEvent(bob.socket, 'chat:channel');
    const ch = await call<Channel>(alice.socket, 'chat:channel:create', {
      name: 'only-bob',
      kind: 'private',
      members: [bob.sub],
    });
    await invited;
    const mentioned = nextEvent(bob.socket, 'chat:mention');
    await send(alice.socket, ch.id, 'psst', { mentions: [bob.sub] });
    await mentioned;
    await settle(twin);
    expect(pushes).toEqual([]);
    expect(mentions).toEqual([]);
  });
});
