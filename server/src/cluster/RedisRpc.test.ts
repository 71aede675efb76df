/**
 * RedisRpc against the real Redis (127.0.0.1:6379, a key prefix of its own): requests answered
 * and routed by id, timeouts, nobody listening, a node that died, Redis away, malformed messages
 * dropped with a log line, failures of the work and of the message handler logged and answered.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { MoimError } from '@moim/protocol';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import { RedisRpc, type RpcAnswer, rpcAnswerSchema } from './RedisRpc.ts';
import { connectRedis, type RedisConnections } from './redis.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';

const schema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('ask'), id: z.string(), from: z.string(), n: z.number(), mode: z.string() }),
  z.object({ k: z.literal('note'), text: z.string() }),
  rpcAnswerSchema,
]);
type Message = z.infer<typeof schema>;

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A logger whose lines the test reads. */
function capture(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`not seen: ${what}`);
}

interface Node {
  id: string;
  rpc: RedisRpc<Message>;
  redis: RedisConnections;
  lines: LogLine[];
  notes: string[];
}

const prefix = `moim-test-rpc-${randomBytes(4).toString('hex')}:`;
const nodes: Node[] = [];

/** A node answering `ask` by `mode`: `echo` (data n*2 after `n` ms), `silent`, `refuse`, `crash`. */
async function startNode(id: string, opts: { timeoutMs?: number } = {}): Promise<Node> {
  const { log, lines } = capture();
  const redis = connectRedis({ url: REDIS_URL, prefix, log });
  await redis.ready();
  const notes: string[] = [];
  const node: Node = { id, redis, lines, notes, rpc: undefined as never };
  node.rpc = new RedisRpc<Message>({
    redis,
    nodeId: id,
    name: 'test-rpc',
    schema,
    answers: ['res'],
    timeoutMs: opts.timeoutMs,
    log,
    label: 'test relay',
    onMessage: (m) => {
      if (m.k === 'note') {
        if (m.text === 'throw') throw new Error('note handler broke');
        notes.push(m.text);
        return;
      }
      if (m.k !== 'ask' || m.mode === 'silent') return;
      return node.rpc.answer(
        m.from,
        m.id,
        async () => {
          await new Promise((r) => setTimeout(r, m.n));
          if (m.mode === 'refuse') throw new MoimError('FORBIDDEN', 'not you');
          if (m.mode === 'crash') throw new Error('something unexpected');
          return { data: m.n * 2 };
        },
        { n: m.n },
      );
    },
  });
  await node.rpc.start();
  nodes.push(node);
  return node;
}

const ask = (from: Node, to: string, n: number, mode = 'echo', timeoutMs?: number) =>
  from.rpc.request<RpcAnswer>(to, (id) => ({ k: 'ask', id, from: from.id, n, mode }), timeoutMs);

async function stop(node: Node): Promise<void> {
  const i = nodes.indexOf(node);
  if (i >= 0) nodes.splice(i, 1);
  await node.rpc.close();
  await node.redis.close();
}

let a: Node;
let b: Node;
beforeAll(async () => {
  a = await startNode('a', { timeoutMs: 10_000 });
  b = await startNode('b');
});
afterEach(() => {
  expect(a.rpc.pending).toBe(0);
});
afterAll(async () => {
  for (const n of [...nodes]) await stop(n);
});

describe('RedisRpc', () => {
  it('answers a request with the data its work resolves to', async () => {
    expect(await ask(a, 'b', 21)).toEqual({ k: 'res', id: expect.any(String), data: 42 });
  });

  it('routes each answer to its own request, whatever order they arrive in', async () => {
    const asked = [300, 10, 150, 0, 80].map((n) => ask(a, 'b', n));
    const answers = await Promise.all(asked);
    expect(answers.map((r) => r.data)).toEqual([600, 20, 300, 0, 160]);
    expect(new Set(answers.map((r) => r.id)).size).toBe(5);
  });

  it('ignores an answer nobody waits for', async () => {
    await a.rpc.publish('a', { k: 'res', id: 'nobody-asked', data: 1 });
    expect(await ask(a, 'b', 1)).toMatchObject({ data: 2 });
    expect(a.notes).toEqual([]);
  });

  it('refuses with UNAVAILABLE when the node does not answer in time', async () => {
    const err = await ask(a, 'b', 0, 'silent', 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MoimError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('did not answer (ask)') });
    expect(a.lines.some((l) => l.msg === 'test relay: no answer in time' && l.node === 'b')).toBe(true);
  });

  it('refuses with UNAVAILABLE at once when nobody listens on the node’s channel', async () => {
    // a 10 s timeout: only the 0 receivers of PUBLISH can end this one within the test's bounds
    const err = await ask(a, 'nobody', 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: 'node nobody is not reachable; try again' });
  });

  it('refuses requests to a node that died: gone from Redis, or declared dead while they wait', async () => {
    const c = await startNode('c');
    expect(await ask(a, 'c', 2)).toMatchObject({ data: 4 });
    const waiting = ask(a, 'c', 0, 'silent').catch((e: unknown) => e);
    await until(() => a.rpc.pending === 1, 'the request waiting');
    a.rpc.nodeDead('c');
    expect(await waiting).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('died') });
    await stop(c);
    expect(await ask(a, 'c', 2).catch((e: unknown) => e)).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('not reachable'),
    });
  });

  it('relays the work’s error as the client sees it; an unexpected one is logged and INTERNAL', async () => {
    expect(await ask(a, 'b', 0, 'refuse')).toMatchObject({ error: { code: 'FORBIDDEN', message: 'not you' } });
    expect(await ask(a, 'b', 0, 'crash')).toMatchObject({ error: { code: 'INTERNAL', message: 'internal error' } });
    const logged = b.lines.find((l) => l.msg === 'test relay: relayed request failed');
    expect(logged).toMatchObject({ n: 0, err: { message: 'something unexpected' } });
    expect(b.lines.filter((l) => l.msg === 'test relay: relayed request failed')).toHaveLength(1);
  });

  it('drops malformed messages with a log line and keeps serving', async () => {
    const channel = b.rpc.channelOf('b');
    const before = b.lines.length;
    for (const raw of [
      'not json {',
      'null',
      '[]',
      '"res"',
      JSON.stringify({ k: 'ask', id: 'x' }), // fields missing
      JSON.stringify({ k: 'nope' }),
      JSON.stringify({ k: 'note', text: 7 }),
      '{"__proto__":{"k":"note"},"text":"polluted?"}',
    ])
      await a.redis.cmd.publish(channel, raw);
    await b.rpc.publish('b', { k: 'note', text: 'after' });
    await until(() => b.notes.includes('after'), 'the note after the bad ones');
    const dropped = b.lines.slice(before).filter((l) => /message dropped$/.test(l.msg));
    expect(dropped.filter((l) => l.msg === 'test relay: unreadable message dropped')).toHaveLength(1);
    expect(dropped.filter((l) => l.msg === 'test relay: malformed message dropped')).toHaveLength(7);
    expect(dropped.every((l) => l.channel === channel)).toBe(true);
    expect(b.notes).toEqual(['after']);
    expect(({} as Record<string, unknown>).k).toBeUndefined();
    expect(await ask(a, 'b', 3)).toMatchObject({ data: 6 });
  });

  it('logs a message handler’s failure and goes on', async () => {
    a.rpc.send('b', { k: 'note', text: 'throw' });
    a.rpc.send('b', { k: 'note', text: 'next' });
    await until(() => b.notes.includes('next'), 'the next note');
    expect(b.lines.find((l) => l.msg === 'test relay: handling a message failed')).toMatchObject({
      kind: 'note',
      err: { message: 'note handler broke' },
    });
  });

  it('refuses with UNAVAILABLE when Redis is unreachable, and fire-and-forget logs the failure', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const { log, lines } = capture();
    const redis = connectRedis({ url: `redis://127.0.0.1:${port}`, prefix, log, commandTimeoutMs: 200 });
    const rpc = new RedisRpc<Message>({
      redis,
      nodeId: 'lost',
      name: 'test-rpc',
      schema,
      answers: ['res'],
      log,
      label: 'test relay',
      onMessage: () => undefined,
    });
    try {
      const err = await rpc.request('b', (id) => ({ k: 'ask', id, from: 'lost', n: 1, mode: 'echo' })).catch((e) => e);
      expect(err).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('unreachable') });
      rpc.send('b', { k: 'note', text: 'lost' });
      await until(() => lines.some((l) => l.msg === 'test relay: message not sent'), 'the send failure logged');
      expect(lines.find((l) => l.msg === 'test relay: message not sent')).toMatchObject({ node: 'b', kind: 'note' });
    } finally {
      await rpc.close();
      await redis.close();
    }
  });

  it('refuses what waits when it closes, and what is asked after', async () => {
    const d = await startNode('d', { timeoutMs: 10_000 });
    const waiting = ask(d, 'b', 0, 'silent').catch((e: unknown) => e);
    await until(() => d.rpc.pending === 1, 'the request waiting');
    await stop(d);
    expect(await waiting).toMatchObject({ code: 'UNAVAILABLE', message: 'this node is closing' });
    expect(await ask(d, 'b', 0).catch((e: unknown) => e)).toMatchObject({ code: 'UNAVAILABLE' });
    expect(d.rpc.pending).toBe(0);
  });
});
