import { randomUUID } from 'node:crypto';
import { type Channel, type ChatMessage, chatRequests, ERROR_CODES, presenceRequests } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, nextEvent, request, startTestServer, type TestServer } from '../server/src/testing.ts';

/**
 * Malformed payloads for EVERY presence and chat request. A new request without a sample here
 * fails to compile (the Record below) and fails the first test.
 */
type EventName = keyof typeof presenceRequests | keyof typeof chatRequests;

const GHOST = 'no-such-channel';
/** A valid payload for each request, naming things that do not exist. */
const samples: Record<EventName, Record<string, unknown>> = {
  'presence:set': { status: 'fuzzing', busy: false },
  'presence:activity': { idle: false },
  'presence:subscribe': { people: ['ghost'], teams: ['ghosts'], sites: ['nowhere'] },
  'presence:unsubscribe': { people: ['ghost'] },
  'presence:query': { site: 'nowhere', team: 'ghosts', states: ['online'], limit: 5 },
  'presence:get': { people: ['ghost'] },
  'chat:channels': {},
  'chat:channels:public': { after: 'a', limit: 5 },
  'chat:channel:create': {
    name: 'fuzz',
    kind: 'public',
    topic: 't',
    members: ['ghost'],
    policy: { downloadsAllowed: true },
  },
  'chat:channel:get': { channelId: GHOST },
  'chat:join': { channelId: GHOST },
  'chat:leave': { channelId: GHOST },
  'chat:members:update': { channelId: GHOST, add: ['ghost'], remove: ['ghost'] },
  'chat:members:list': { channelId: GHOST, after: 'a', limit: 5 },
  'chat:policy:set': { channelId: GHOST, policy: { downloadsAllowed: false } },
  'chat:dm:open': { people: ['ghost'] },
  'chat:subscribe': { channelId: GHOST },
  'chat:unsubscribe': { channelId: GHOST },
  'chat:send': {
    channelId: GHOST,
    clientMsgId: 'fuzz-1',
    text: 'x',
    threadRoot: 1,
    mentions: ['ghost'],
    attachments: ['ghost'],
  },
  'chat:history': { channelId: GHOST, before: 10, threadRoot: 1, limit: 5 },
  'chat:edit': { channelId: GHOST, seq: 1, text: 'x' },
  'chat:delete': { channelId: GHOST, seq: 1 },
  'chat:react': { channelId: GHOST, seq: 1, emoji: '👍', on: true },
  'chat:typing': { channelId: GHOST, typing: true },
  'chat:read': { channelId: GHOST, seq: 1 },
  'chat:receipts': { channelId: GHOST, after: 'a', limit: 5 },
  'chat:attachment:link': { channelId: GHOST, attachmentId: 'ghost' },
};

/** Requests that succeed on unknown ids by design (idempotent or creating). */
const OK_ON_UNKNOWN = new Set<EventName>([
  'presence:set',
  'presence:activity',
  'presence:subscribe',
  'presence:unsubscribe',
  'presence:query',
  'presence:get',
  'chat:channels',
  'chat:channels:public',
  'chat:channel:create',
  'chat:dm:open',
  'chat:unsubscribe',
]);

const HUGE = 'x'.repeat(200_000);
const WRONG_VALUES: unknown[] = [
  null,
  true,
  12.5,
  -1,
  0,
  '',
  HUGE,
  [],
  {},
  [HUGE],
  Array.from({ length: 5000 }, () => 'a'),
  { deep: { deeper: { deepest: [1, 2, { x: HUGE.slice(0, 1000) }] } } },
  '__proto__',
  { __proto__: { polluted: true } },
];
const NOT_OBJECTS: unknown[] = [null, 0, 'payload', [], true, [{}], HUGE];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    MOIM_RATE_LIMIT_PER_SEC: '100000',
    MOIM_RATE_LIMIT_BURST: '100000',
    MOIM_CHAT_MESSAGES_PER_SEC: '100000',
  });
});
afterAll(() => server.close());

const events = Object.keys({ ...presenceRequests, ...chatRequests }) as EventName[];

function shapeKeys(event: EventName): string[] {
  const schema = ({ ...presenceRequests, ...chatRequests } as Record<string, unknown>)[event] as {
    shape?: Record<string, unknown>;
  };
  return [...new Set([...Object.keys(schema.shape ?? {}), ...Object.keys(samples[event])])];
}

type AckShape = { data?: unknown; error?: { code: string; message: string } };

function expectCleanAck(ack: AckShape, label: string): void {
  if (ack.error) {
    expect(ERROR_CODES, label).toContain(ack.error.code);
    expect(ack.error.code, `${label}: ${ack.error.message}`).not.toBe('INTERNAL');
    expect(ack.error.code, label).not.toBe('UNKNOWN_EVENT');
    expect(typeof ack.error.message, label).toBe('string');
    expect(ack.error.message.length, label).toBeLessThan(2000);
  } else {
    expect(ack, label).toHaveProperty('data');
  }
}

describe('fuzzing presence and chat requests', () => {
  it('has a sample for every presence and chat request', () => {
    for (const event of events) expect(samples[event], `add a fuzz sample for ${event}`).toBeDefined();
    expect(Object.keys(samples).sort()).toEqual([...events].sort());
  });

  it('answers malformed payloads with clear codes; the server and other clients are unaffected', async () => {
    const fuzzer = await server.connect(await server.token({ name: 'Fuzzer', sub: 'fuzzer', teams: ['ghosts'] }));
    const alice = await server.connect(await server.token({ name: 'Alice', sub: 'alice' }));
    const bob = await server.connect(await server.token({ name: 'Bob', sub: 'bob' }));
    const ch = await call<Channel>(alice, 'chat:channel:create', {
      name: 'bystanders',
      kind: 'private',
      members: ['bob'],
    });
    await call(bob, 'chat:subscribe', { channelId: ch.id });
    // a channel the fuzzer is a member of, with one message, for "unknown seq / attachment" cases
    const own = await call<Channel>(fuzzer, 'chat:channel:create', { name: 'fuzz-own', kind: 'private' });
    await call(fuzzer, 'chat:send', { channelId: own.id, clientMsgId: 'seed', text: 'seed' });

    let requests = 0;
    for (const event of events) {
      // not an object at all
      for (const payload of NOT_OBJECTS) {
        const ack = (await request(fuzzer, event, payload)) as AckShape;
        requests++;
        expect(ack.error?.code, `${event} ${JSON.stringify(payload)?.slice(0, 40)}`).toBe('INVALID_PAYLOAD');
      }
      // an unknown field
      const extra = (await request(fuzzer, event, { ...samples[event], unexpected: 1 })) as AckShape;
      requests++;
      expect(extra.error?.code, `${event} + unknown field`).toBe('INVALID_PAYLOAD');
      // each field replaced by wrong types, huge strings, deep objects
      for (const key of shapeKeys(event)) {
        for (const value of WRONG_VALUES) {
          const ack = (await request(fuzzer, event, { ...samples[event], [key]: value })) as AckShape;
          requests++;
          expectCleanAck(ack, `${event}.${key}=${JSON.stringify(value)?.slice(0, 40)}`);
        }
      }
      // valid shape, unknown ids
      const unknown = (await request(fuzzer, event, samples[event])) as AckShape;
      requests++;
      expectCleanAck(unknown, `${event} (unknown ids)`);
      if (!OK_ON_UNKNOWN.has(event)) expect(unknown.error?.code, `${event} (unknown ids)`).toBe('NOT_FOUND');
      // unknown message / attachment in a channel that exists
      if ('seq' in samples[event] || 'attachmentId' in samples[event]) {
        const payload = { ...samples[event], channelId: own.id, ...('seq' in samples[event] ? { seq: 999 } : {}) };
        const inOwn = (await request(fuzzer, event, payload)) as AckShape;
        requests++;
        expectCleanAck(inOwn, `${event} (unknown seq/attachment)`);
        if (event !== 'chat:read') expect(inOwn.error?.code, `${event} in own channel`).toBe('NOT_FOUND');
      }
    }
    expect(requests).toBeGreaterThan(events.length * 10);

    // the fuzzer is still connected and served
    expect(fuzzer.connected).toBe(true);
    expect(await call<{ t: number }>(fuzzer, 'system:ping', { t: 1 })).toMatchObject({ t: 1 });
    // the others still talk; their channel was never touched
    const got = nextEvent<ChatMessage>(bob, 'chat:message');
    await call(alice, 'chat:send', { channelId: ch.id, clientMsgId: randomUUID(), text: 'still here?' });
    expect((await got).text).toBe('still here?');
    const history = await call<{ messages: ChatMessage[] }>(bob, 'chat:history', { channelId: ch.id });
    expect(history.messages.map((m) => m.text)).toEqual(['still here?']);
    expect(
      (await call<{ messages: ChatMessage[] }>(fuzzer, 'chat:history', { channelId: own.id })).messages,
    ).toHaveLength(1);
  });

  it('a payload beyond the socket limit drops only that connection', async () => {
    const big = await server.connect(await server.token({ name: 'Big', sub: 'big' }));
    const alice = await server.connect(await server.token({ name: 'Alice', sub: 'alice2' }));
    const closed = new Promise<string>((resolve) => big.once('disconnect', (reason) => resolve(reason)));
    (big as unknown as { emit(e: string, p: unknown): void }).emit('chat:send', {
      channelId: GHOST,
      clientMsgId: 'big',
      text: 'x'.repeat(2_000_000),
    });
    expect(await closed).toBeTruthy();
    expect(alice.connected).toBe(true);
    expect(await call<{ t: number }>(alice, 'system:ping', { t: 2 })).toMatchObject({ t: 2 });
  });
});
