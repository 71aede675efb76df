import { randomUUID } from 'node:crypto';
import {
  type Channel,
  type ChatMessage,
  chatRequests,
  ERROR_CODES,
  type PersonPresence,
  presenceRequests,
} from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  LIFTED_RATE_LIMITS,
  nextEvent,
  request,
  startTestServer,
  type TestServer,
} from '../server/src/testing/index.ts';

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
    ...LIFTED_RATE_LIMITS,
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

/** Names that find `Object.prototype` members in a plain object. */
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'] as const;

type ZodDef = {
  type: string;
  innerType?: { def: ZodDef };
  element?: { def: ZodDef };
  shape?: Record<string, { def: ZodDef }>;
};

/** A field's type without its optional / nullable / default / readonly wrappers. */
function core(def: ZodDef): ZodDef {
  let d = def;
  while (d.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch'].includes(d.type))
    d = d.innerType.def;
  return d;
}

/**
 * Every field of a request that names something (a string, or a list of strings), found by walking
 * its schema in @moim/protocol (nested objects too), as a path and a setter.
 */
function namingFields(event: EventName): Array<{ path: string[]; list: boolean }> {
  const schema = ({ ...presenceRequests, ...chatRequests } as Record<string, { def: ZodDef }>)[event]!;
  const out: Array<{ path: string[]; list: boolean }> = [];
  const walk = (def: ZodDef, path: string[]) => {
    const d = core(def);
    if (d.type === 'string') out.push({ path, list: false });
    else if (d.type === 'array' && d.element && core(d.element.def).type === 'string') out.push({ path, list: true });
    else if (d.type === 'object' && d.shape)
      for (const [key, field] of Object.entries(d.shape)) walk(field.def, [...path, key]);
  };
  walk(schema.def, []);
  return out;
}

/** `base` with `value` at `path` (copies; never assigns through a prototype-named key). */
function withValue(base: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  const copy: Record<string, unknown> = { ...base };
  const inner = Object.hasOwn(base, head!) ? base[head!] : {};
  Object.defineProperty(copy, head!, {
    value: rest.length ? withValue((inner ?? {}) as Record<string, unknown>, rest, value) : value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
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

  it('derives a naming field for every request that names something', () => {
    for (const event of events) {
      const fields = namingFields(event).map((f) => f.path.join('.'));
      if ('channelId' in samples[event]) expect(fields, event).toContain('channelId');
      if ('people' in samples[event]) expect(fields, event).toContain('people');
    }
    expect(namingFields('chat:send').map((f) => f.path.join('.'))).toEqual(
      expect.arrayContaining(['channelId', 'clientMsgId', 'text', 'mentions', 'attachments']),
    );
  });

  it('prototype-named keys in every naming field and in the identity: clean codes, nothing leaks, the server survives', async () => {
    const fuzzer = await server.connect(await server.token({ name: 'Proto', sub: 'proto-fuzzer', teams: ['ghosts'] }));
    const alice = await server.connect(await server.token({ name: 'Alice', sub: 'proto-alice' }));
    const bob = await server.connect(await server.token({ name: 'Bob', sub: 'proto-bob' }));
    const bystanders = await call<Channel>(alice, 'chat:channel:create', {
      name: 'bystanders',
      kind: 'private',
      members: ['proto-bob'],
    });
    await call(bob, 'chat:subscribe', { channelId: bystanders.id });
    const own = await call<Channel>(fuzzer, 'chat:channel:create', { name: 'proto-own', kind: 'private' });
    await call(fuzzer, 'chat:send', { channelId: own.id, clientMsgId: 'seed', text: 'seed' });

    let requests = 0;
    for (const event of events) {
      const fields = namingFields(event);
      for (const field of fields) {
        for (const name of PROTO_NAMES) {
          const value = field.list ? [name] : name;
          // on unknown things, and (for every field but the channel) inside a channel that exists
          const bases = [samples[event]];
          if ('channelId' in samples[event] && field.path[0] !== 'channelId')
            bases.push({ ...samples[event], channelId: own.id });
          for (const base of bases) {
            const payload = withValue(base, field.path, value);
            const ack = (await request(fuzzer, event, payload)) as AckShape;
            requests++;
            expectCleanAck(ack, `${event}.${field.path.join('.')}=${JSON.stringify(value)}`);
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(events.length * PROTO_NAMES.length);

    // prototype names as event names: not in the handler registry
    for (const name of PROTO_NAMES) {
      const ack = (await request(fuzzer, name, {})) as AckShape;
      expect(ack.error?.code, name).toBe('UNKNOWN_EVENT');
    }

    // prototype names as who someone is: sub, org, teams and site come from the token
    const weird = await server.token({
      name: 'Weird',
      sub: '__proto__',
      org: 'constructor',
      site: 'constructor',
      teams: ['toString', 'hasOwnProperty'],
    });
    const odd = await server.token({ name: 'Odd', sub: 'valueOf', org: 'constructor', teams: ['toString'] });
    const w = await server.connect(weird);
    const o = await server.connect(odd);
    for (const event of events) {
      const ack = (await request(w, event, samples[event])) as AckShape;
      requests++;
      expectCleanAck(ack, `${event} as __proto__ of constructor`);
    }
    // and they work: presence and chat find the person, not Object.prototype
    await call(o, 'presence:subscribe', { people: ['__proto__'], teams: ['toString'] });
    const update = nextEvent<PersonPresence>(o, 'presence:update', (p) => p.sub === '__proto__' && p.status === 'odd');
    await call(w, 'presence:set', { status: 'odd' });
    expect((await update).teams).toEqual(['toString', 'hasOwnProperty']);
    const [seen] = (await call<{ people: PersonPresence[] }>(o, 'presence:get', { people: ['__proto__'] })).people;
    expect(seen).toMatchObject({ sub: '__proto__', status: 'odd', state: 'online' });
    // the same subs in the default organisation are other people
    expect(
      (await call<{ people: PersonPresence[] }>(alice, 'presence:get', { people: ['__proto__'] })).people[0],
    ).toMatchObject({
      state: 'offline',
      name: null,
    });
    const dm = await call<Channel>(w, 'chat:dm:open', { people: ['valueOf'] });
    await call(o, 'chat:subscribe', { channelId: dm.id });
    const msg = nextEvent<ChatMessage>(o, 'chat:message');
    await call(w, 'chat:send', { channelId: dm.id, clientMsgId: randomUUID(), text: 'hi', mentions: ['valueOf'] });
    expect((await msg).sender).toBe('__proto__');
    const site = await call<{ channels: Channel[] }>(w, 'chat:channels', {});
    expect(site.channels.map((c) => c.kind)).toContain('site');

    // the server and everyone else are still served
    expect(fuzzer.connected && w.connected && o.connected).toBe(true);
    expect(await call<{ t: number }>(fuzzer, 'system:ping', { t: 3 })).toMatchObject({ t: 3 });
    const got = nextEvent<ChatMessage>(bob, 'chat:message');
    await call(alice, 'chat:send', { channelId: bystanders.id, clientMsgId: randomUUID(), text: 'unharmed' });
    expect((await got).text).toBe('unharmed');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
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
