/**
 * A normal shutdown is not a failure: mediasoup closes its workers itself on SIGINT/SIGTERM
 * (`Worker.onSignal`), before the server closes its rooms. A room whose worker was closed logs it
 * at info and tells its peers UNAVAILABLE; only a worker that died is an error (WORKER_DIED).
 */
import { describe, expect, test } from 'vitest';
import type { SfuLogger } from './logging.ts';
import { MediaRoom } from './MediaRoom.ts';
import { WorkerPool } from './WorkerPool.ts';

interface Line {
  level: string;
  msg: string | undefined;
}

function recordingLogger(lines: Line[]): SfuLogger {
  const at = (level: string) => (_obj: object, msg?: string) => lines.push({ level, msg });
  const log: SfuLogger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

describe('a room when its worker goes away', () => {
  test('a worker closed on purpose (shutdown) closes the room with UNAVAILABLE and logs no error', async () => {
    const lines: Line[] = [];
    const log = recordingLogger(lines);
    const pool = await WorkerPool.create({ workers: 1, listen: [{ ip: '127.0.0.1' }], port: 0, log });
    try {
      const room = await MediaRoom.create({ id: 'shutdown', tier: 'standard', pool, log, consumersPerRouter: 400 });
      const closed = new Promise((resolve) => room.on('close', resolve));
      // what mediasoup's own SIGTERM handler does to each worker
      for (const w of pool.workers()) w.worker.close();
      expect(await closed).toBe('UNAVAILABLE');
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(lines.map((l) => l.msg)).toContain('worker of this room closed (shutting down)');
    } finally {
      pool.close();
    }
  });

  test('a worker that died is still an error with WORKER_DIED', async () => {
    const lines: Line[] = [];
    const log = recordingLogger(lines);
    const pool = await WorkerPool.create({ workers: 1, listen: [{ ip: '127.0.0.1' }], port: 0, log });
    try {
      const room = await MediaRoom.create({ id: 'died', tier: 'standard', pool, log, consumersPerRouter: 400 });
      const closed = new Promise((resolve) => room.on('close', resolve));
      process.kill(pool.workers()[0]!.worker.pid, 'SIGKILL');
      expect(await closed).toBe('WORKER_DIED');
      expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toContain('worker of this room died');
    } finally {
      pool.close();
    }
  });
});
