/**
 * Presence across nodes (issue 13): each node reports its devices of a person to Redis, which
 * merges them; the registry's leader sweeps the devices of a node whose lease lapsed; after Redis
 * lost everything, every node reports its devices again.
 */
import { randomUUID } from 'node:crypto';
import type { PersonPresence } from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import type { TestSocket } from '../../server/src/testing/index.ts';
import { devToken, type ServerProcess } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { call, connect } from './support.ts';

const fixture = useCluster(['pres-a', 'pres-b', 'pres-c']);
const nodes = fixture.nodes;

async function device(node: ServerProcess, sub: string, extra: Record<string, unknown> = {}): Promise<TestSocket> {
  return connect(node.url, await devToken(node.url, { name: sub, sub, ...extra }));
}

async function presenceOf(observer: TestSocket, sub: string): Promise<PersonPresence> {
  const { people } = await call<{ people: PersonPresence[] }>(observer, 'presence:get', { people: [sub] });
  return people[0]!;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('presence across nodes', () => {
  it('a device whose connection drops on one node and comes back on another is never seen offline', async () => {
    const sub = `lee-${randomUUID().slice(0, 6)}`;
    const observer = await device(nodes[0]!, `obs-${randomUUID().slice(0, 6)}`);
    const states: string[] = [];
    observer.on('presence:update', (p: PersonPresence) => {
      if (p.sub === sub) states.push(p.state);
    });
    await call(observer, 'presence:subscribe', { people: [sub] });
    const token = await devToken(nodes[2]!.url, { name: sub, sub });
    const first = await connect(nodes[2]!.url, token, { deviceId: 'laptop' });
    await until(
      'online',
      () => presenceOf(observer, sub),
      (p) => p.state === 'online',
      5000,
    );

    // the connection closes under node c (as a network change does), the device connects to node a
    first.io.engine.close();
    const second = await connect(nodes[0]!.url, token, { deviceId: 'laptop' });
    // node c's device lingers for the grace (10 s) next to the new one, then leaves; the person
    // stays online throughout
    await until(
      'both connections',
      () => presenceOf(observer, sub),
      (p) => p.devices === 2,
      5000,
    );
    const settled = await until(
      'node c let go',
      () => presenceOf(observer, sub),
      (p) => p.devices === 1,
      20_000,
    );
    expect(settled.state).toBe('online');
    await new Promise((r) => setTimeout(r, 500));
    expect(states).not.toContain('offline');
    expect((await presenceOf(observer, sub)).state).toBe('online');
    second.disconnect();
    observer.disconnect();
  }, 60_000);

  it('merges a person’s devices over nodes, and follows a killed node within the lease', async () => {
    const sub = `kim-${randomUUID().slice(0, 6)}`;
    const observer = await device(nodes[0]!, `obs-${randomUUID().slice(0, 6)}`);
    const updates: PersonPresence[] = [];
    observer.on('presence:update', (p: PersonPresence) => {
      if (p.sub === sub) updates.push(p);
    });
    await call(observer, 'presence:subscribe', { people: [sub] });

    const onA = await device(nodes[0]!, sub);
    const onB = await device(nodes[1]!, sub);
    const both = await until(
      'two devices',
      () => presenceOf(observer, sub),
      (p) => p.devices === 2,
      5000,
    );
    expect(both.state).toBe('online');

    // one device closes: still online (the other node's device)
    onA.disconnect();
    const one = await until(
      'one device',
      () => presenceOf(observer, sub),
      (p) => p.devices === 1,
      5000,
    );
    expect(one.state).toBe('online');

    // the node with the other device dies: offline within the lease (5 s) and a sweep
    const killedAt = Date.now();
    nodes[1]!.child.kill('SIGKILL');
    const gone = await until(
      'offline',
      () => presenceOf(observer, sub),
      (p) => p.state === 'offline',
      10_000,
    );
    const tookMs = Date.now() - killedAt;
    expect(gone.devices).toBe(0);
    expect(tookMs).toBeLessThan(8000);
    // the observer was told (once per change, never "online" after "offline")
    await until(
      'update',
      async () => updates.at(-1)?.state,
      (s) => s === 'offline',
      3000,
    );
    const states = updates.map((u) => u.state);
    expect(states.lastIndexOf('online')).toBeLessThan(states.indexOf('offline'));
    // nobody is stuck online: the site's board on a survivor lists nobody of the dead node
    const board = await call<{ people: PersonPresence[] }>(observer, 'presence:query', { site: 'hq', limit: 100 });
    expect(board.people.map((p) => p.sub)).not.toContain(sub);
    onB.disconnect();
    observer.disconnect();
  }, 60_000);

  it('Redis down for 3 s: no node exits, and presence is rebuilt within 10 s of its return', async () => {
    const live = [nodes[0]!, nodes[2]!];
    const subs = Array.from({ length: 6 }, (_, i) => `r${i}-${randomUUID().slice(0, 6)}`);
    const people = await Promise.all(subs.map((sub, i) => device(live[i % 2]!, sub)));
    const observer = people[0]!;
    await until(
      'all online',
      () => call<{ people: PersonPresence[] }>(observer, 'presence:get', { people: subs }),
      (r) => r.people.every((p) => p.state === 'online'),
      5000,
    );
    await fixture.redis.kill();
    await new Promise((r) => setTimeout(r, 3000));
    await fixture.redis.start();
    const back = Date.now();
    await until(
      'presence rebuilt',
      () =>
        call<{ people: PersonPresence[] }>(observer, 'presence:get', { people: subs }).catch(() => ({
          people: [] as PersonPresence[],
        })),
      (r) => r.people.length === subs.length && r.people.every((p) => p.state === 'online'),
      10_000,
    );
    expect(Date.now() - back).toBeLessThan(10_000);
    for (const n of live) expect(n.child.exitCode).toBeNull();
    for (const s of people) s.disconnect();
  }, 60_000);
});
