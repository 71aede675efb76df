/**
 * The RecordingStore contract on every backend: a recording is created once, ends once (a second
 * end changes nothing), is found only by its organisation, is listed with its room newest first,
 * expires by `expiresAt`, and a node's interrupted recordings (or a dead node's) are failed.
 */
import { MoimError, type RecordingManifest } from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import type { Stores } from '../index.ts';
import { BACKENDS, useStores } from './backends.ts';

const manifest = (id: string, roomId: string, startedAt: number): RecordingManifest => ({
  recordingId: id,
  roomId,
  startedAt,
  endedAt: null,
  tracks: [],
});

const running = (id: string, roomId: string, startedAt: number, org = 'acme', nodeId = 'node-1') => ({
  id,
  nodeId,
  org,
  roomId,
  tier: 'standard' as const,
  startedBy: 'ann',
  startedAt,
  state: 'recording' as const,
  manifest: manifest(id, roomId, startedAt),
});

describe.each(BACKENDS)('recording store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('creates once, ends once, and only its organisation finds it', async () => {
    await stores.recordings.create(running('rec1', 'room1', 1000));
    await expect(stores.recordings.create(running('rec1', 'room1', 1000))).rejects.toSatisfy(
      (e) => e instanceof MoimError && e.code === 'CONFLICT',
    );
    expect(await stores.recordings.get('other', 'rec1')).toBeUndefined();
    const found = await stores.recordings.get('acme', 'rec1');
    expect(found).toMatchObject({ state: 'recording', endedAt: null, expiresAt: null, files: [], tier: 'standard' });

    const track = {
      track: 't1',
      peerId: 'p1',
      sub: 'ann',
      displayName: 'Ann',
      kind: 'video' as const,
      source: 'camera' as const,
      index: 0,
      mimeType: 'video/VP8',
      segments: [
        { file: 't1-1.webm', producerId: 'pr1', startedAt: 1100, endedAt: 5000, bytes: 42, status: 'ok' as const },
      ],
    };
    const end = {
      state: 'stopped' as const,
      endedAt: 5000,
      failure: null,
      expiresAt: 5000 + 86_400_000,
      manifest: { ...manifest('rec1', 'room1', 1000), endedAt: 5000, tracks: [track] },
      files: [{ file: 't1-1.webm', blobKey: 'ab/key', bytes: 42 }],
    };
    expect(await stores.recordings.finish('rec1', end)).toBe(true);
    expect(await stores.recordings.finish('rec1', { ...end, state: 'failed', failure: 'late' })).toBe(false);
    expect(await stores.recordings.finish('nope', end)).toBe(false);
    expect(await stores.recordings.get('acme', 'rec1')).toEqual({
      id: 'rec1',
      org: 'acme',
      roomId: 'room1',
      tier: 'standard',
      startedBy: 'ann',
      startedAt: 1000,
      ...end,
    });
  });

  it('lists a room newest first, within its organisation', async () => {
    await stores.recordings.create(running('a', 'room1', 1000));
    await stores.recordings.create(running('b', 'room1', 3000));
    await stores.recordings.create(running('c', 'room2', 2000));
    await stores.recordings.create(running('d', 'room1', 4000, 'other'));
    expect((await stores.recordings.listForRoom('acme', 'room1', 10)).map((r) => r.id)).toEqual(['b', 'a']);
    expect((await stores.recordings.listForRoom('acme', 'room1', 1)).map((r) => r.id)).toEqual(['b']);
    expect(await stores.recordings.listForRoom('acme', '__proto__', 10)).toEqual([]);
  });

  it('expires by expiresAt, forgets on delete, and fails what an interrupted node left running', async () => {
    for (const [id, at] of [
      ['x', 1000],
      ['y', 2000],
      ['z', 3000],
    ] as const) {
      await stores.recordings.create(running(id, 'room1', at));
      if (id !== 'z')
        await stores.recordings.finish(id, {
          state: 'stopped',
          endedAt: at,
          failure: null,
          expiresAt: at + 10_000,
          manifest: manifest(id, 'room1', at),
          files: [],
        });
    }
    expect((await stores.recordings.expired(11_000, 10)).map((r) => r.id)).toEqual(['x']);
    expect((await stores.recordings.expired(20_000, 10)).map((r) => r.id)).toEqual(['x', 'y']);
    await stores.recordings.delete('x');
    expect(await stores.recordings.get('acme', 'x')).toBeUndefined();
    expect(await stores.recordings.failRunning(3000, 'stopped')).toBe(0);
    expect(await stores.recordings.failRunning(3001, 'the server stopped')).toBe(1);
    expect(await stores.recordings.get('acme', 'z')).toMatchObject({ state: 'failed', failure: 'the server stopped' });
  });

  it('fails only the running recordings of a node that died', async () => {
    await stores.recordings.create(running('n1', 'room1', 1000, 'acme', 'node-a'));
    await stores.recordings.create(running('n2', 'room2', 1000, 'acme', 'node-b'));
    expect(await stores.recordings.failRunningOn('node-a', 'the node stopped', 9000)).toBe(1);
    expect(await stores.recordings.failRunningOn('node-a', 'the node stopped', 9500)).toBe(0);
    expect(await stores.recordings.get('acme', 'n1')).toMatchObject({
      state: 'failed',
      failure: 'the node stopped',
      endedAt: 9000,
    });
    expect(await stores.recordings.get('acme', 'n2')).toMatchObject({ state: 'recording' });
  });
});
