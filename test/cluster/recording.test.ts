/**
 * Recording in a cluster: the room's home node records (the start and stop requests sent to
 * another node are relayed there), everyone in the room hears of it whichever node their socket
 * is on, and the files are downloaded from another node than the one that recorded them (they are
 * blobs in the shared PostgreSQL). The media is generated plain RTP (VP8 key-frame headers, Opus
 * TOC bytes): what is checked is where things run and are read, not the pictures. The nodes' ffmpeg
 * takes 6 s to finish its file after a stop (test/support/slow-stop-ffmpeg.sh), longer than a
 * relayed request's usual 5 s: the stop asked through the other node still gets its answer. With
 * the blobs table locked from the test (a slow database) the stop answers `saving` and the end
 * follows as an event once the lock goes.
 */
import { fileURLToPath } from 'node:url';
import { connect as connectSdk, devToken as sdkToken } from '@moim/client-sdk';
import { RECORDING_KEEP_WAIT_MS, RECORDING_STOP_MS, type RecordingInfo } from '@moim/protocol';
import { waitFor } from '@moim/sfu/testing';
import { Device, FakeHandler, testFakeParameters } from 'mediasoup-client';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createRoom, mediaPeer, publishPlain } from '../../server/src/media/testing/testPeers.ts';
import { TEST_DATABASE_URL } from '../../server/src/storage/contract/backends.ts';
import type { TestServer } from '../../server/src/testing/index.ts';
import { devToken, type ServerProcess } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { redisGet } from './media.ts';
import { call, connect, request } from './support.ts';

const min = 30_000 + 2 * Math.floor(Math.random() * 5_000);
const fixture = useCluster(['rec-a', 'rec-b'], {
  MOIM_SFU_ALLOW_PLAIN: 'true',
  MOIM_PEER_GRACE_MS: '0',
  MOIM_RECORDING_PORT_MIN: String(min),
  MOIM_RECORDING_PORT_MAX: String(min + 49),
  MOIM_RECORDING_FFMPEG: fileURLToPath(new URL('../support/slow-stop-ffmpeg.sh', import.meta.url)),
});
const stops: Array<() => void> = [];

afterAll(() => {
  for (const s of stops.splice(0)) s();
});

function personOn(node: ServerProcess, name: string, role: 'member' | 'manager' = 'member') {
  const server = {
    url: node.url,
    token: (input: { name: string }) => devToken(node.url, { ...input, role }),
    connect: (token: string) => connect(node.url, token),
  } as unknown as TestServer;
  return mediaPeer(server, { name, role });
}

describe('recording across nodes', () => {
  it('recorded on the home node when asked through another, told to the room, downloaded from the other node', async () => {
    const [a, b] = fixture.nodes as [ServerProcess, ServerProcess];
    const ana = await personOn(a, 'Ana');
    const { roomId } = await createRoom(ana, 'standard');
    await ana.join(roomId); // the first join claims the home: node a
    expect(await redisGet(fixture.redis.url, `${fixture.cluster.prefix}room-home:${roomId}`)).toMatch(/^rec-a\|/);
    const pub = await publishPlain(ana, roomId, { video: [5151], audio: 5252 });
    stops.push(() => pub.gen.close());

    const mia = await personOn(b, 'Mia', 'manager');
    await mia.join(roomId);
    const started = await call<RecordingInfo>(mia.socket, 'room:startRecording', { roomId });
    expect(started.state).toBe('recording');
    // Ana (node a) and Mia (node b, through the relay) both hear of it
    await ana.waitEvent<{ recording: RecordingInfo }>(
      'room:recordingChanged',
      (e) => e.recording.state === 'recording',
    );
    await mia.waitEvent<{ recording: RecordingInfo }>(
      'room:recordingChanged',
      (e) => e.recording.state === 'recording',
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const asked = performance.now();
    const stopped = await call<RecordingInfo>(mia.socket, 'room:stopRecording', { roomId });
    expect(performance.now() - asked).toBeGreaterThan(5_000); // the slow ffmpeg was waited for
    expect(stopped.state).toBe('stopped');
    expect(stopped.manifest.tracks).toHaveLength(2);
    const segments = stopped.manifest.tracks.flatMap((t) => t.segments);

    // node b serves the files node a recorded; both list the recording
    const token = mia.token;
    for (const node of [a, b]) {
      const res = await fetch(`${node.url}/rooms/${roomId}/recordings`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const listed = (await res.json()) as { recordings: RecordingInfo[] };
      expect(listed.recordings.map((r) => r.recordingId)).toEqual([started.recordingId]);
    }
    // the generated VP8 is not decodable (ffmpeg finds no picture size: its file stays empty and is
    // left out of the manifest); the Opus track is a real file
    const audio = stopped.manifest.tracks.find((t) => t.kind === 'audio')!;
    expect(audio.segments[0]!.bytes).toBeGreaterThan(0);
    const kept = segments.filter((s) => s.bytes > 0);
    for (const seg of kept) {
      const res = await fetch(`${b.url}/recordings/${started.recordingId}/files/${seg.file}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(seg.bytes);
    }
    ana.close();
    mia.close();
  }, 60_000);

  it('a stop whose files take long to store answers `saving`; the room hears the end once they are kept', async () => {
    const [a, b] = fixture.nodes as [ServerProcess, ServerProcess];
    const ana = await personOn(a, 'Ana');
    const { roomId } = await createRoom(ana, 'standard');
    await ana.join(roomId); // home: node a
    const pub = await publishPlain(ana, roomId, { audio: 5454 });
    stops.push(() => pub.gen.close());
    const mia = await personOn(b, 'Mia', 'manager');
    await mia.join(roomId);
    // an SDK client on node b: its room's `recording` follows the states
    const sdk = await connectSdk({
      url: b.url,
      rooms: {
        createDevice: () => Device.factory({ handlerFactory: FakeHandler.createFactory(testFakeParameters) }),
        stallCheckMs: 0,
        qualityIntervalMs: 0,
      },
      getToken: async () => (await sdkToken(b.url, { name: 'Jin', sub: 'jin', role: 'member', site: 'hq' })).token,
    });
    stops.push(() => sdk.close());
    const room = await sdk.rooms.join(roomId, { displayName: 'Jin' });
    const told: string[] = [];
    room.on('recording', (r) => told.push(r.state));
    const started = await call<RecordingInfo>(mia.socket, 'room:startRecording', { roomId });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(room.recording?.state).toBe('recording');
    // a slow database: the blobs table is locked, so storing the files waits for this transaction
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    let locked = true;
    let answered: RecordingInfo | undefined;
    try {
      await db.query('BEGIN');
      await db.query(`LOCK TABLE "${fixture.cluster.schema}".blobs IN EXCLUSIVE MODE`);
      const asked = performance.now();
      // as the SDK does: the stop's own bound, not a request's usual one
      const ack = await request<RecordingInfo>(mia.socket, 'room:stopRecording', { roomId }, RECORDING_STOP_MS + 5_000);
      if (!('data' in ack)) throw new Error(`room:stopRecording: ${JSON.stringify(ack)}`);
      answered = ack.data;
      const took = performance.now() - asked;
      // the recorders ended (ffmpeg's 6 s), then the stop waited RECORDING_KEEP_WAIT_MS for the files
      expect(answered).toMatchObject({ recordingId: started.recordingId, state: 'saving' });
      expect(answered.endedAt).not.toBeNull();
      expect(took).toBeGreaterThan(RECORDING_KEEP_WAIT_MS);
      expect(took).toBeLessThan(RECORDING_STOP_MS);
      // the room hears of it on both nodes, someone joining now too; it cannot be recorded again yet
      for (const p of [ana, mia])
        await p.waitEvent<{ recording: RecordingInfo }>('room:recordingChanged', (e) => e.recording.state === 'saving');
      const cat = await personOn(b, 'Cat');
      await cat.join(roomId);
      await cat.waitEvent<{ recording: RecordingInfo }>(
        'room:recordingChanged',
        (e) => e.recording.recordingId === started.recordingId && e.recording.state === 'saving',
      );
      cat.close();
      expect(await request(mia.socket, 'room:startRecording', { roomId })).toMatchObject({
        error: { code: 'CONFLICT' },
      });
      expect(room.recording).toMatchObject({ recordingId: started.recordingId, state: 'saving' });
      // the room's list, asked through node b (relayed to the home), says so too
      const { recordings } = await call<{ recordings: RecordingInfo[] }>(mia.socket, 'room:recordings', { roomId });
      expect(recordings[0]).toMatchObject({ recordingId: started.recordingId, state: 'saving' });
      await db.query('COMMIT');
      locked = false;
    } finally {
      if (locked) await db.query('ROLLBACK');
      await db.end();
    }
    // the files are kept once the database answers: the end reaches the room, the file is readable
    const ended = await mia.waitEvent<{ recording: RecordingInfo }>(
      'room:recordingChanged',
      (e) => e.recording.recordingId === started.recordingId && e.recording.state === 'stopped',
      20_000,
    );
    // it ended when it was stopped, not when the files were stored
    expect(ended.recording.endedAt).toBe(answered?.endedAt);
    await waitFor(() => room.recording === null, { what: 'the SDK room to drop the recording' });
    expect(told).toEqual(['recording', 'saving', 'stopped']);
    const audio = ended.recording.manifest.tracks.find((t) => t.kind === 'audio')!;
    const seg = audio.segments[0]!;
    expect(seg.bytes).toBeGreaterThan(0);
    const res = await fetch(`${b.url}/recordings/${started.recordingId}/files/${seg.file}`, {
      headers: { authorization: `Bearer ${mia.token}` },
    });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(seg.bytes);
    ana.close();
    mia.close();
  }, 90_000);

  it('a home node killed while recording: the other node marks the recording failed', async () => {
    const [a, b] = fixture.nodes as [ServerProcess, ServerProcess];
    const ana = await personOn(a, 'Ana');
    const { roomId } = await createRoom(ana, 'standard');
    await ana.join(roomId); // home: node a
    const pub = await publishPlain(ana, roomId, { audio: 5353 });
    stops.push(() => pub.gen.close());
    const mia = await personOn(b, 'Mia', 'manager');
    const started = await call<RecordingInfo>(mia.socket, 'room:startRecording', { roomId });
    a.child.kill('SIGKILL');
    const listed = async () => {
      const res = await fetch(`${b.url}/rooms/${roomId}/recordings`, {
        headers: { authorization: `Bearer ${mia.token}` },
      });
      return ((await res.json()) as { recordings: RecordingInfo[] }).recordings;
    };
    await waitFor(async () => (await listed())[0]?.state === 'failed', {
      what: 'the recording marked failed',
      timeoutMs: 20_000,
    });
    expect((await listed())[0]).toMatchObject({
      recordingId: started.recordingId,
      state: 'failed',
      failure: 'the node recording it stopped',
    });
    ana.close();
    mia.close();
  }, 60_000);
});
