import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { frames, openRaw, pendingUpdate } from './docs-support.ts';
import { PROTOTYPE_NAMES } from './support/hostile.ts';
import { devToken, type ServerProcess, startServerProcess } from './support/serverProcess.ts';

/**
 * Issue 11: a soak of the abuse cases against a real process. Every round repeats each attack; the
 * process's open descriptors come back to their baseline once the attackers are gone, and its heap
 * does not grow with the number of rounds (a leak grows linearly; a bounded process levels off).
 */
const ROUNDS = 8;

let proc: ServerProcess;
beforeAll(async () => {
  proc = await startServerProcess({ MOIM_MAX_SOCKETS_PER_ADDRESS: '64', MOIM_LOG_LEVEL: 'error' });
});
afterAll(() => proc.stop());

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('moim_process_nodejs_heap_size_used_bytes'));
  return Number(line?.split(' ').pop() ?? 0);
}

function send(port: number, text: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    // read (and drop) the answer: a paused socket would never see the server's FIN
    s.on('data', () => undefined);
    s.setTimeout(3000, () => s.destroy());
    s.write(text);
  });
}

async function round(url: string, port: number, token: string): Promise<void> {
  const attacks: Promise<unknown>[] = [];

  // unclaimed upgrades (item 3)
  for (let i = 0; i < 40; i++)
    attacks.push(
      send(
        port,
        `GET /nope-${i} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ),
    );
  // malformed escapes (item 1)
  for (const target of ['/%ff', '/docs/%ZZ', '/%c0%ae', '/x/%'])
    attacks.push(fetch(`${url}${target}`).then((r) => r.arrayBuffer()));
  // documents named after Object.prototype members (item 2), opened and dropped
  for (const name of PROTOTYPE_NAMES) {
    attacks.push(
      new Promise<void>((resolve) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}/yjs/${name}?token=${token}`);
        ws.on('error', () => resolve());
        ws.on('close', () => resolve());
        ws.on('open', () => setTimeout(() => ws.terminate(), 50));
      }),
    );
  }
  // socket.io connections that send prototype-named garbage, then vanish
  for (let i = 0; i < 5; i++) {
    attacks.push(
      new Promise<void>((resolve) => {
        const s = io(url, {
          transports: ['websocket'],
          auth: { token, protocol: PROTOCOL_VERSION },
          reconnection: false,
          forceNew: true,
        });
        s.on('connect', () => {
          for (const name of PROTOTYPE_NAMES) s.emit(name as never, { [name]: name } as never);
          s.timeout(2000).emit('room:info' as never, { roomId: '__proto__' } as never, () => {
            s.disconnect();
            resolve();
          });
        });
        s.on('connect_error', () => resolve());
        s.on('disconnect', () => resolve());
      }),
    );
  }
  // Yjs updates with missing dependencies (item 4) and oversized, spoofed awareness (item 6) on one document
  for (let i = 0; i < 3; i++) {
    const raw = openRaw(url, 'soak-doc', token);
    attacks.push(
      raw.opened
        .then(() => {
          for (let k = 0; k < 12; k++) raw.send(frames.update(pendingUpdate(1_000_000 + k, 64 * 1024)));
          raw.send(frames.awareness([{ id: 424242, clock: 1, state: { name: 'x'.repeat(64 * 1024) } }]));
          raw.send(frames.awareness([{ id: 1, clock: 99, state: { user: 'spoofed' } }]));
        })
        .catch(() => undefined)
        .then(() => Promise.race([raw.closed, new Promise((r) => setTimeout(r, 2000))]))
        .then(() => raw.ws.terminate()),
    );
  }
  // more TCP connections than one address may hold, all dropped at once
  const held = Array.from({ length: 80 }, () => {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => undefined);
    return s;
  });
  await Promise.all(attacks);
  await new Promise((r) => setTimeout(r, 100));
  for (const s of held) s.destroy();
}

async function settle(pid: number, baseline: number): Promise<number> {
  const end = Date.now() + 10_000;
  let n = fds(pid);
  while (n > baseline && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    n = fds(pid);
  }
  return n;
}

describe('soak of the abuse cases', () => {
  it(`descriptors return to baseline and the heap levels off over ${ROUNDS} rounds`, async () => {
    const pid = proc.child.pid!;
    const token = await devToken(proc.url, { name: 'Soak' });
    // warm up every code path once, then take the baseline
    await round(proc.url, proc.port, token);
    const baseFds = await settle(pid, 0);
    await new Promise((r) => setTimeout(r, 500));
    const baseline = { fds: fds(pid), rss: rssBytes(pid), heap: await heapUsed(proc.url) };
    const heaps: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await round(proc.url, proc.port, token);
      heaps.push(await heapUsed(proc.url));
    }
    const after = { fds: await settle(pid, baseline.fds), rss: rssBytes(pid), heap: await heapUsed(proc.url) };
    console.log(
      `soak: fds ${baseFds}/${baseline.fds} → ${after.fds}; rss ${(baseline.rss / 2 ** 20).toFixed(1)} → ${(after.rss / 2 ** 20).toFixed(1)} MiB; heap per round (MiB) ${heaps.map((h) => (h / 2 ** 20).toFixed(1)).join(' ')}`,
    );
    // the health check is served throughout and after
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
    expect(proc.child.exitCode).toBeNull();
    // descriptors: back to the baseline (a couple of pooled client connections of this process may remain)
    expect(after.fds).toBeLessThanOrEqual(baseline.fds + 2);
    // memory: no growth with rounds beyond GC noise (a leak of even 100 KB per attacker would show)
    expect(after.rss - baseline.rss).toBeLessThan(64 * 2 ** 20);
    const firstHalf = Math.max(...heaps.slice(0, ROUNDS / 2));
    const secondHalf = Math.min(...heaps.slice(ROUNDS / 2));
    expect(secondHalf - firstHalf).toBeLessThan(16 * 2 ** 20);
  }, 120_000);
});
