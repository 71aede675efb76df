import { tierProfile } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SfuLogger, silentLogger } from './logging.ts';
import { MediaRoom } from './MediaRoom.ts';
import { WorkerPool } from './WorkerPool.ts';

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** An SfuLogger that keeps every line with its child bindings. */
function recordingLogger(lines: Line[], bindings: Record<string, unknown> = {}): SfuLogger {
  const at = (level: Line['level']) => (obj: object, msg?: string) =>
    lines.push({ level, obj: { ...bindings, ...obj }, msg });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

let pool: WorkerPool;

beforeAll(async () => {
  pool = await WorkerPool.create({ workers: 1, listen: [{ ip: '127.0.0.1' }], port: 0, log: silentLogger });
});
afterAll(() => pool.close());

describe('MediaRoom failures are not swallowed (real worker)', () => {
  test('a send transport whose bitrate cap the worker refuses is closed and refused with MEDIA_ERROR', async () => {
    const lines: Line[] = [];
    // above mediasoup's largest bitrate: the worker itself rejects setMaxIncomingBitrate
    const cap = 2 ** 63;
    const room = await MediaRoom.create({
      id: 'cap-refused',
      tier: 'standard',
      pool,
      log: recordingLogger(lines),
      consumersPerRouter: 100,
      allowPlainTransports: true,
      maxTransportsPerPeer: 1,
      profile: { ...tierProfile('standard'), maxIncomingBitrate: cap },
    });
    try {
      const peer = room.addPeer({ sub: 'a', displayName: 'A' });
      await expect(room.createTransport(peer, { direction: 'send', kind: 'plain' })).rejects.toMatchObject({
        code: 'MEDIA_ERROR',
        message: expect.stringContaining('incoming bitrate cap'),
      });
      expect(lines).toContainEqual({
        level: 'error',
        msg: 'could not cap incoming bitrate',
        obj: expect.objectContaining({ room: 'cap-refused', peer: peer.id, cap, err: expect.any(Error) }),
      });
      // the uncapped transport is gone: it does not hold the peer's only transport slot
      const recv = await room.createTransport(peer, { direction: 'recv', kind: 'plain' });
      expect(recv.transportId).toEqual(expect.any(String));
    } finally {
      room.close();
    }
  });

  test('within the worker’s range the cap is applied and the send transport is created', async () => {
    const lines: Line[] = [];
    const room = await MediaRoom.create({
      id: 'cap-ok',
      tier: 'standard',
      pool,
      log: recordingLogger(lines),
      consumersPerRouter: 100,
      allowPlainTransports: true,
    });
    try {
      const peer = room.addPeer({ sub: 'b', displayName: 'B' });
      const send = await room.createTransport(peer, { direction: 'send', kind: 'plain' });
      expect(send.transportId).toEqual(expect.any(String));
      expect(lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    } finally {
      room.close();
    }
  });
});
