/**
 * Per-person limits across nodes (issue 13, CLARIFICATIONS: "per-person rate limits work across
 * nodes"): one person's socket.io and /yjs connections count against one cap whichever nodes they
 * are on (a race of handshakes on two nodes lets exactly the cap through), the person's request
 * budget is shared by their connections on every node, the counts survive a Redis restart (each
 * node writes its own back), and the connections of a node killed with SIGKILL stop counting once
 * its lease lapses.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { personKey } from '../../server/src/auth/Principal.ts';
import type { TestSocket } from '../../server/src/testing/index.ts';
import { destroyAllRaw, eventually, openRaw, until } from '../docs-support.ts';
import { devToken } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { connect } from './support.ts';

const fixture = useCluster(['node-a', 'node-b'], {
  MOIM_MAX_CONNECTIONS_PER_PERSON: '3',
  MOIM_DOC_MAX_CONNECTIONS_PER_PERSON: '2',
  // the per-connection bucket never binds here: only the person's
  MOIM_RATE_LIMIT_PER_SEC: '10000',
  MOIM_RATE_LIMIT_BURST: '10000',
  MOIM_RATE_LIMIT_PERSON_PER_SEC: '20',
  MOIM_RATE_LIMIT_PERSON_BURST: '20',
});
const nodes = fixture.nodes;
const sockets: TestSocket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
  destroyAllRaw();
});

async function person(): Promise<{ sub: string; token: string }> {
  const sub = `pl-${randomUUID().slice(0, 8)}`;
  return { sub, token: await devToken(nodes[0]!.url, { name: sub, sub }) };
}

/** Connect to node `i`; resolves with the socket or the refusal's code. */
async function tryConnect(i: number, token: string): Promise<TestSocket | string> {
  try {
    const s = await connect(nodes[i]!.url, token);
    sockets.push(s);
    return s;
  } catch (err) {
    return (err as { data?: { code?: string } }).data?.code ?? String(err);
  }
}

describe('per-person limits across nodes', () => {
  it('one person’s socket.io connections on two nodes count against one cap; a freed slot is usable on the other node', async () => {
    const { token } = await person();
    const a1 = await tryConnect(0, token);
    const b1 = await tryConnect(1, token);
    const a2 = await tryConnect(0, token);
    expect([a1, b1, a2].every((s) => typeof s !== 'string')).toBe(true);
    // a fourth on either node: the cap is the person's, not the node's
    expect(await tryConnect(1, token)).toBe('TOO_MANY_CONNECTIONS');
    expect(await tryConnect(0, token)).toBe('TOO_MANY_CONNECTIONS');
    (a1 as TestSocket).disconnect();
    // the release reaches Redis a moment after the disconnect
    await eventually(async () => typeof (await tryConnect(1, token)) !== 'string', {
      what: 'a connection on node b after one on node a closed',
      timeoutMs: 5000,
    });
    expect(await tryConnect(0, token)).toBe('TOO_MANY_CONNECTIONS');
  });

  it('eight handshakes of one person racing on two nodes: exactly the cap (3) get in', async () => {
    const { token } = await person();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => tryConnect(i % 2, token)));
    const admitted = results.filter((r) => typeof r !== 'string');
    const refused = results.filter((r) => r === 'TOO_MANY_CONNECTIONS');
    expect(admitted).toHaveLength(3);
    expect(refused).toHaveLength(5);
  });

  it('one person’s /yjs connections on two nodes count against one cap (2): the third is closed with 4429', async () => {
    const { sub, token } = await person();
    const doc = `pl-notes-${sub}`;
    const a = openRaw(nodes[0]!.url, doc, token);
    await a.opened;
    const b = openRaw(nodes[1]!.url, doc, token);
    await b.opened;
    // both are counted once their document answers (sync step 1 from the server)
    await until(() => a.frames.length > 0 && b.frames.length > 0, { what: 'both documents answered' });
    const c = openRaw(nodes[0]!.url, doc, token);
    const closed = await c.closed;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toContain('TOO_MANY_CONNECTIONS');
    a.ws.close();
    await a.closed;
    await eventually(
      async () => {
        const d = openRaw(nodes[0]!.url, doc, token);
        const first = await Promise.race([
          until(() => d.frames.length > 0, { what: 'an answer', timeoutMs: 5000 }).then(() => 'open' as const),
          d.closed.then(() => 'closed' as const),
        ]);
        return first === 'open';
      },
      { what: 'a /yjs connection after one closed', timeoutMs: 10_000 },
    );
  });

  it('the request budget is the person’s on all nodes together: two connections on two nodes get about one budget, not two', async () => {
    const { token } = await person();
    const on = [await tryConnect(0, token), await tryConnect(1, token)] as TestSocket[];
    // 50 requests/s on each connection for 3 s, against a person budget of 20/s with a burst of 20
    const SECONDS = 3;
    const counts = [0, 0];
    const limited = [0, 0];
    const started = performance.now();
    const sends: Promise<void>[] = [];
    for (let tick = 0; tick < SECONDS * 50; tick++) {
      const due = started + tick * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      on.forEach((s, i) => {
        sends.push(
          s
            .timeout(5000)
            .emitWithAck('system:ping', { t: Date.now() })
            .then((ack) => {
              if ('data' in ack) counts[i]!++;
              else if (ack.error.code === 'RATE_LIMITED') limited[i]!++;
            }),
        );
      });
    }
    await Promise.all(sends);
    const admitted = counts[0]! + counts[1]!;
    // one node's share alone would admit 20 + 3 × 20 = 80 per node, 160 on two; shared: 80 plus at
    // most a burst and the sync lag per node
    expect(admitted).toBeGreaterThanOrEqual(60);
    expect(admitted).toBeLessThanOrEqual(125);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
    expect(limited[0]! + limited[1]!).toBe(SECONDS * 50 * 2 - admitted);
  });

  it('Redis restarted empty: every node writes its counts back, so the cap holds again', async () => {
    const { sub, token } = await person();
    await tryConnect(0, token);
    await tryConnect(0, token);
    await tryConnect(1, token);
    const key = `${fixture.cluster.prefix}plim:conn:socket:${personKey('default', sub)}`;
    const counted = async () => {
      const r = new Redis(fixture.redis.url);
      try {
        return (await r.hvals(key)).reduce((sum, n) => sum + Number(n), 0);
      } finally {
        r.disconnect();
      }
    };
    expect(await counted()).toBe(3);
    await fixture.redis.kill();
    await new Promise((r) => setTimeout(r, 3000));
    await fixture.redis.start();
    await eventually(async () => (await counted()) === 3, { what: 'the counts written back', timeoutMs: 15_000 });
    expect(await tryConnect(1, token)).toBe('TOO_MANY_CONNECTIONS');
  });

  it('a node killed with SIGKILL: its connections stop counting once its lease lapses', async () => {
    const { token } = await person();
    await tryConnect(1, token);
    await tryConnect(1, token);
    await tryConnect(0, token);
    expect(await tryConnect(0, token)).toBe('TOO_MANY_CONNECTIONS');
    nodes[1]!.child.kill('SIGKILL');
    await eventually(async () => typeof (await tryConnect(0, token)) !== 'string', {
      what: 'a connection on node a after node b died',
      timeoutMs: 15_000,
    });
    expect(typeof (await tryConnect(0, token))).not.toBe('string');
    expect(await tryConnect(0, token)).toBe('TOO_MANY_CONNECTIONS');
  });
});
