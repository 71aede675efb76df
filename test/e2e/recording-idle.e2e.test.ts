/**
 * A recorded producer that goes silent without being paused (its sender stopped sending): after
 * its input's idle timeout ffmpeg ends the file cleanly, the recording carries on (not failed), a
 * new segment waits for the producer, and when it sends again that segment fills. Plain RTP
 * (generated Opus), so no browser is needed; it runs with the slow suites (a 10 s idle timeout).
 */
import type { RecordingInfo } from '@moim/protocol';
import { waitFor } from '@moim/sfu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, mediaPeer, publishPlain } from '../../server/src/media/testing/testPeers.ts';
import { call, startTestServer, type TestServer } from '../../server/src/testing/index.ts';

let server: TestServer;

beforeAll(async () => {
  const min = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  server = await startTestServer({
    MOIM_SFU_ALLOW_PLAIN: 'true',
    MOIM_RECORDING_PORT_MIN: String(min),
    MOIM_RECORDING_PORT_MAX: String(min + 19),
  });
});

afterAll(async () => {
  await server?.close();
});

describe('segments of a track', () => {
  it('ends its segment cleanly after the idle timeout; the next segment records when it sends again', async () => {
    const mia = await mediaPeer(server, { name: 'Mia', role: 'manager' });
    const { roomId } = await createRoom(mia, 'standard');
    await mia.join(roomId);
    const pub = await publishPlain(mia, roomId, { audio: 6161 });
    try {
      await call<RecordingInfo>(mia.socket, 'room:startRecording', { roomId });
      const [first] = await waitFor(
        () => {
          const pids = server.app.recordings.recorderPids(roomId);
          return pids.length === 1 ? pids : undefined;
        },
        { what: 'the ffmpeg of the mic' },
      );
      await new Promise((r) => setTimeout(r, 2_000));
      pub.gen.stop(); // silent, not paused
      const [second] = await waitFor(
        () => {
          const pids = server.app.recordings.recorderPids(roomId);
          return pids.length === 1 && pids[0] !== first ? pids : undefined;
        },
        { what: 'a new segment after the idle timeout', timeoutMs: 25_000 },
      );
      expect(second).not.toBe(first);
      expect(server.app.recordings.running).toBe(1);
      pub.gen.start();
      await new Promise((r) => setTimeout(r, 2_000));
      const stopped = await call<RecordingInfo>(mia.socket, 'room:stopRecording', { roomId });
      expect(stopped.state).toBe('stopped');
      const [mic] = stopped.manifest.tracks;
      expect(mic?.segments.map((s) => s.status)).toEqual(['ok', 'ok']);
      for (const s of mic!.segments) expect(s.bytes).toBeGreaterThan(0);
      expect(server.app.recordings.portsInUse).toEqual([]);
    } finally {
      pub.gen.close();
      mia.close();
    }
  }, 45_000);

  it('a producer closed and replaced by one of the same source continues its track in a new segment', async () => {
    const mia = await mediaPeer(server, { name: 'Mia', role: 'manager' });
    const { roomId } = await createRoom(mia, 'standard');
    await mia.join(roomId);
    const first = await publishPlain(mia, roomId, { audio: 7171 });
    let second: Awaited<ReturnType<typeof publishPlain>> | undefined;
    try {
      await call<RecordingInfo>(mia.socket, 'room:startRecording', { roomId });
      await waitFor(() => server.app.recordings.recorderPids(roomId).length === 1, { what: 'the first ffmpeg' });
      await new Promise((r) => setTimeout(r, 2_000));
      await call(mia.socket, 'media:closeProducer', { roomId, producerId: first.audio });
      first.gen.close();
      second = await publishPlain(mia, roomId, { audio: 7272 });
      await waitFor(() => server.app.recordings.recorderPids(roomId).length === 1, { what: 'the second ffmpeg' });
      await new Promise((r) => setTimeout(r, 2_000));
      const stopped = await call<RecordingInfo>(mia.socket, 'room:stopRecording', { roomId });
      expect(stopped.manifest.tracks).toHaveLength(1);
      const [mic] = stopped.manifest.tracks;
      expect(mic?.segments.map((s) => s.producerId)).toEqual([first.audio, second.audio]);
      expect(mic?.segments.map((s) => s.file)).toEqual(['t1-1.webm', 't1-2.webm']);
      for (const s of mic!.segments) expect(s.bytes).toBeGreaterThan(0);
    } finally {
      first.gen.close();
      second?.gen.close();
      mia.close();
    }
  }, 45_000);
});
