import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { heartbeatJitterMs, spreadHeartbeats } from '../server/src/gateway/heartbeatSpread.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A socket.io server (real engine.io heartbeats) with `clients` connected; the times each connection's pings were sent. */
async function serverWith(clients: number, jitterMs: number) {
  const http: HttpServer = createServer();
  const io = new Server(http, { pingInterval: 300, pingTimeout: 3000, transports: ['websocket'] });
  spreadHeartbeats(io, jitterMs);
  const pings = new Map<string, number[]>();
  io.engine.on('connection', (conn: { id: string; on(e: 'packetCreate', f: (p: { type: string }) => void): void }) => {
    const times: number[] = [];
    pings.set(conn.id, times);
    conn.on('packetCreate', (p) => {
      if (p.type === 'ping') times.push(performance.now());
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) sockets.push(connect(url, { transports: ['websocket'], reconnection: false }));
  await Promise.all(sockets.map((s) => new Promise<void>((r) => (s.connected ? r() : s.once('connect', () => r())))));
  cleanup.push(async () => {
    for (const s of sockets) s.close();
    await io.close();
  });
  return pings;
}

/**
 * How clumped the pings sent in [t, t + ms) are: for each, the number of pings of any connection
 * within ±3 ms of it (itself included); the median over them. 1: all apart; the connection count:
 * all at once.
 */
function clumpOf(pings: Map<string, number[]>, t: number, ms: number): number {
  const all = [...pings.values()]
    .flat()
    .filter((x) => x >= t && x < t + ms)
    .sort((a, b) => a - b);
  expect(all.length).toBeGreaterThan(pings.size);
  const near = all.map((x) => all.filter((y) => Math.abs(y - x) <= 3).length).sort((a, b) => a - b);
  return near[Math.floor(near.length / 2)]!;
}

describe('heartbeat spreading', () => {
  it('heartbeats merged by a stall stay merged without it, and are spread again with it', async () => {
    const plain = await serverWith(30, 0);
    const spread = await serverWith(30, 200);
    await sleep(400);
    // a stall of the event loop: every connection's ping falls due in it, so their pongs are
    // handled in the same loop turns afterwards
    const t0 = performance.now();
    while (performance.now() - t0 < 700) {
      // busy
    }
    const after = performance.now();
    await sleep(1500);
    // the cycles after the stall: engine.io alone keeps the 30 in lockstep…
    expect(clumpOf(plain, after + 350, 1100)).toBeGreaterThanOrEqual(10);
    // …spread, they go out over the jitter window
    expect(clumpOf(spread, after + 350, 1100)).toBeLessThanOrEqual(5);
  });

  it('bounds the jitter well inside the client allowance', () => {
    expect(heartbeatJitterMs(9000, 6000)).toBe(900);
    expect(heartbeatJitterMs(9000, 1000)).toBe(250);
    expect(heartbeatJitterMs(500, 500)).toBe(50);
  });
});
