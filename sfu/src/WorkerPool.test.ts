import { createServer } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { PortInUseError } from './errors.ts';
import { type SfuLogger, silentLogger } from './logging.ts';
import { WorkerPool } from './WorkerPool.ts';

let pool: WorkerPool | undefined;
afterEach(() => {
  pool?.close();
  pool = undefined;
});

/** Two consecutive free TCP ports (UDP on the same numbers is free in practice on a test machine). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port < 65000) return port;
  }
}

/**
 * Create a pool on a port pair found free, again on another pair when a parallel test took one of
 * them in between (PortInUseError).
 */
async function onFreePorts(create: (port: number) => Promise<WorkerPool>): Promise<{ pool: WorkerPool; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePortPair();
    try {
      return { pool: await create(port), port };
    } catch (err) {
      // WorkerPool reports mediasoup's `address already in use` as PortInUseError (the bind failure its cause)
      if (attempt >= 5 || !(err instanceof PortInUseError)) throw err;
    }
  }
}

describe('WorkerPool', () => {
  test('one WebRtcServer per worker on port + index, one UDP and one TCP socket per listen address', async () => {
    const { pool: created, port } = await onFreePorts((p) =>
      WorkerPool.create({
        workers: 2,
        listen: [{ ip: '127.0.0.1' }, { ip: '127.0.0.2', announcedAddress: '203.0.113.5' }],
        port: p,
        log: silentLogger,
      }),
    );
    pool = created;
    const workers = pool.workers();
    expect(workers.map((w) => w.index)).toEqual([0, 1]);
    for (const w of workers) {
      const dump = await w.webRtcServer.dump();
      const expected = [
        { ip: '127.0.0.1', port: port + w.index },
        { ip: '127.0.0.2', port: port + w.index },
      ];
      expect(dump.udpSockets).toEqual(expected);
      expect(dump.tcpServers).toEqual(expected);
    }
    // a transport on worker 1 offers every address, the announced one instead of its listen ip
    const router = await workers[1]!.worker.createRouter({
      mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
    });
    const t = await router.createWebRtcTransport({ webRtcServer: workers[1]!.webRtcServer, enableTcp: true });
    const candidates = t.iceCandidates.map((c) => `${c.protocol} ${c.address}:${c.port}`).sort();
    expect(candidates).toEqual(
      [
        `tcp 127.0.0.1:${port + 1}`,
        `tcp 203.0.113.5:${port + 1}`,
        `udp 127.0.0.1:${port + 1}`,
        `udp 203.0.113.5:${port + 1}`,
      ].sort(),
    );
    // load figures follow routers and consumers; pick() prefers the least-loaded worker
    expect(workers[1]!.routers).toBe(1);
    expect((await pool.pick()).index).toBe(0);
    expect((await pool.pick(new Set([0]))).index).toBe(1);
    const usage = await pool.resourceUsage();
    expect(usage.map((u) => u.index).sort()).toEqual([0, 1]);
    expect(usage[0]!.usage.ru_maxrss).toBeGreaterThan(0);
    router.close();
    expect(workers[1]!.routers).toBe(0);
  });

  test('a dead worker is replaced in its slot', async () => {
    pool = await WorkerPool.create({ workers: 1, listen: [{ ip: '127.0.0.1' }], port: 0, log: silentLogger });
    const [w] = pool.workers();
    const died = new Promise<{ index: number }>((resolve) => pool!.once('workerDied', resolve));
    const replaced = new Promise<{ index: number; pid: number }>((resolve) => pool!.once('workerReplaced', resolve));
    process.kill(w!.worker.pid, 'SIGKILL');
    expect((await died).index).toBe(0);
    // pick() waits for the replacement when no worker is alive
    const picked = await pool.pick();
    expect(picked.worker.pid).not.toBe(w!.worker.pid);
    expect((await replaced).index).toBe(0);
    expect(pool.deaths).toBe(1);
  });

  test('mediasoup logs (Node side and worker) go to the logger passed in', async () => {
    const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
    const capture = (bindings: Record<string, unknown>): SfuLogger => ({
      debug: (obj, msg) => lines.push({ level: 'debug', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
      info: (obj, msg) => lines.push({ level: 'info', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
      warn: (obj, msg) => lines.push({ level: 'warn', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
      error: (obj, msg) => lines.push({ level: 'error', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
      child: (more) => capture({ ...bindings, ...more }),
    });
    pool = await WorkerPool.create({ workers: 1, listen: [{ ip: '127.0.0.1' }], port: 0, log: capture({}) });
    const router = await pool.workers()[0]!.worker.createRouter({
      mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
    });
    const t = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
    await t.connect({ ip: '127.0.0.1', port: 9 });
    await expect(t.connect({ ip: '127.0.0.1', port: 9 })).rejects.toThrow();
    const warn = lines.find((l) => l.level === 'warn' && l.obj.subsystem === 'mediasoup');
    expect(warn?.obj.namespace).toMatch(/^mediasoup:/);
    expect(warn?.msg).toMatch(/request failed/);
    expect(lines.some((l) => l.level === 'info' && l.msg === 'mediasoup workers started')).toBe(true);
  });
});
