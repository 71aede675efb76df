import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RecordingInfo } from '@moim/protocol';
import { udpPortBound } from '@moim/sfu';
import { waitFor } from '@moim/sfu/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRoom, type MediaTestPeer, mediaPeer } from '../../server/src/media/testing/testPeers.ts';
import { call, request, type TestServer } from '../../server/src/testing/index.ts';
import { launchMediaBrowser, startMediaPageServer, startPagePeer } from './mediaPage.ts';

/**
 * Meeting recording end to end: headless Chromium with a fake camera and microphone publishes
 * (VP8 + Opus over DTLS) in a room while a manager records it; the files are downloaded over the
 * audited endpoint and checked with Debian's ffprobe (codecs, durations from packet timestamps,
 * the first video frame a key frame). A camera paused and resumed makes a second segment; a
 * member without `record` is FORBIDDEN; an ffmpeg killed with SIGKILL fails the recording, tells
 * the room and leaves no port or transport behind.
 */

const run = promisify(execFile);

let server: TestServer;
let browser: Browser;
let outDir: string;

type PageApi = {
  start(o: { url: string; token: string; roomId: string }): Promise<{ peerId: string }>;
  setCamera(on: boolean): Promise<void>;
  recordingEvents(): Array<{ state: string; recordingId: string }>;
  errors(): string[];
};
const pageApi = (page: Page) => page.evaluateHandle(() => (globalThis as unknown as { moim: PageApi }).moim);

beforeAll(async () => {
  outDir = mkdtempSync(path.join(tmpdir(), 'moim-e2e-rec-'));
  // a port range of this run's own (other tests may record at the same time)
  const min = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  server = await startMediaPageServer(
    { entry: 'recording.page.ts', globalName: 'moimRecordingPage', name: 'rec' },
    {
      MOIM_RECORDING_PORT_MIN: String(min),
      MOIM_RECORDING_PORT_MAX: String(min + 99),
      MOIM_RECORDING_KEYFRAME_INTERVAL_MS: '4000',
      MOIM_LOG_LEVEL: process.env.REC_DEBUG ?? 'silent',
    },
  );
  browser = await launchMediaBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** A room with a Chromium publisher (camera + mic) and a manager (granted `record`) in it. */
async function meeting(): Promise<{ roomId: string; page: Page; manager: MediaTestPeer }> {
  const manager = await mediaPeer(server, { name: 'Mia', role: 'manager' });
  const { roomId } = await createRoom(manager, 'personal');
  await manager.join(roomId);
  const page = await startPagePeer(browser, server, 'rec', 'Ana', roomId);
  // both producers exist on the server before the recording starts
  await waitFor(
    () => {
      const peers = server.app.media.liveRoom(roomId)?.peers() ?? [];
      return peers.some((p) => p.producers.size === 2);
    },
    { timeoutMs: 20_000, what: 'the page to publish camera and mic' },
  );
  return { roomId, page, manager };
}

const pageEvents = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { moim: PageApi }).moim.recordingEvents());

async function download(token: string, rec: RecordingInfo, file: string): Promise<string> {
  const res = await fetch(`${server.url}/recordings/${rec.recordingId}/files/${file}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  const out = path.join(outDir, `${rec.recordingId}-${file}`);
  writeFileSync(out, Buffer.from(await res.arrayBuffer()));
  return out;
}

interface Probe {
  streams: Array<{ codec_name: string; codec_type: string }>;
  packets: Array<{ pts_time?: string; flags: string }>;
}

async function probe(file: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,codec_type:packet=pts_time,flags',
    '-of',
    'json',
    file,
  ]);
  return JSON.parse(stdout) as Probe;
}

/** Seconds between the first and last packet's presentation time. */
function packetSpan(p: Probe): number {
  const times = p.packets.map((x) => Number(x.pts_time)).filter((t) => Number.isFinite(t));
  return Math.max(...times) - Math.min(...times);
}

/** Frames decoded from the file's first stream (`ffprobe -count_frames`): a playable file has some. */
async function decodedFrames(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'json',
    file,
  ]);
  const parsed = JSON.parse(stdout) as { streams: Array<{ nb_read_frames?: string }> };
  return Number(parsed.streams[0]?.nb_read_frames ?? 0);
}

const trackOf = (rec: RecordingInfo, kind: 'audio' | 'video') => rec.manifest.tracks.find((t) => t.kind === kind)!;

describe('meeting recording', () => {
  test('20 s of camera and mic: one VP8 and one Opus WebM of 20 ± 2 s, a key frame first; FORBIDDEN without `record`; joiners are told', async () => {
    const { roomId, page, manager } = await meeting();

    // a member without the `record` grant may neither start it nor download it later
    const member = await mediaPeer(server, { name: 'Ben' });
    const refused = await request(member.socket, 'room:startRecording', { roomId });
    expect(refused).toMatchObject({ error: { code: 'FORBIDDEN' } });

    const started = await call<RecordingInfo>(manager.socket, 'room:startRecording', { roomId });
    expect(started.state).toBe('recording');
    expect(await request(manager.socket, 'room:startRecording', { roomId })).toMatchObject({
      error: { code: 'CONFLICT' },
    });
    // everyone in the room sees it (the page's indicator event), and so does someone joining later
    await waitFor(async () => (await pageEvents(page)).some((e) => e.state === 'recording'), {
      timeoutMs: 10_000,
      what: 'the page to hear of the recording',
    });
    const late = await mediaPeer(server, { name: 'Cat' });
    await late.join(roomId);
    const notice = await late.waitEvent<{ recording: RecordingInfo }>('room:recordingChanged');
    expect(notice.recording).toMatchObject({ recordingId: started.recordingId, state: 'recording' });
    late.close();

    await new Promise((r) => setTimeout(r, 20_000));
    const stopped = await call<RecordingInfo>(manager.socket, 'room:stopRecording', { roomId });
    expect(stopped.state).toBe('stopped');
    expect(stopped.expiresAt).toBe(stopped.endedAt! + 30 * 86_400_000);
    await waitFor(async () => (await pageEvents(page)).some((e) => e.state === 'stopped'), {
      timeoutMs: 10_000,
      what: 'the page to hear the recording stopped',
    });

    // listed with the room; one track per producer, one segment each
    const listed = await call<{ recordings: RecordingInfo[] }>(manager.socket, 'room:recordings', { roomId });
    expect(listed.recordings.map((r) => r.recordingId)).toEqual([started.recordingId]);
    expect(stopped.manifest.tracks).toHaveLength(2);
    const video = trackOf(stopped, 'video');
    const audio = trackOf(stopped, 'audio');
    expect(video.mimeType.toLowerCase()).toBe('video/vp8');
    expect(audio.mimeType.toLowerCase()).toBe('audio/opus');
    for (const t of [video, audio]) {
      expect(t.segments).toHaveLength(1);
      expect(t.segments[0]).toMatchObject({ status: 'ok' });
      expect(t.segments[0]!.bytes).toBeGreaterThan(0);
    }

    const videoFile = await download(manager.token, stopped, video.segments[0]!.file);
    const audioFile = await download(manager.token, stopped, audio.segments[0]!.file);
    const v = await probe(videoFile);
    const a = await probe(audioFile);
    expect(v.streams.map((s) => s.codec_name)).toEqual(['vp8']);
    expect(a.streams.map((s) => s.codec_name)).toEqual(['opus']);
    expect(packetSpan(v)).toBeGreaterThan(18);
    expect(packetSpan(v)).toBeLessThan(22);
    expect(packetSpan(a)).toBeGreaterThan(18);
    expect(packetSpan(a)).toBeLessThan(22);
    expect(v.packets[0]!.flags).toContain('K');

    // the member may not download; the downloads are in the audit log
    const forbidden = await fetch(`${server.url}/recordings/${stopped.recordingId}/files/${video.segments[0]!.file}`, {
      headers: { authorization: `Bearer ${member.token}` },
    });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    const audit = await server.app.stores.audit.list({ action: 'recording.download', limit: 10 });
    expect(audit.filter((e) => e.target === stopped.recordingId)).toHaveLength(2);
    // the work folder is gone; the stored file is the server's alone
    expect(server.app.recordings.portsInUse).toEqual([]);
    const blobs = path.join(server.dataDir, 'blobs');
    const stored = (await run('find', [blobs, '-type', 'f', '-not', '-path', '*/tmp/*'])).stdout.trim().split('\n');
    for (const f of stored.filter(Boolean)) expect(statSync(f).mode & 0o777).toBe(0o600);

    member.close();
    manager.close();
    await page.context().close();
  }, 60_000);

  test('camera paused and resumed: two playable video segments, aligned by their wall-clock starts', async () => {
    const { roomId, page, manager } = await meeting();
    const started = await call<RecordingInfo>(manager.socket, 'room:startRecording', { roomId });
    await new Promise((r) => setTimeout(r, 4_000));
    const api = await pageApi(page);
    await api.evaluate((m) => m.setCamera(false));
    await new Promise((r) => setTimeout(r, 2_000));
    await api.evaluate((m) => m.setCamera(true));
    await new Promise((r) => setTimeout(r, 5_000));
    const stopped = await call<RecordingInfo>(manager.socket, 'room:stopRecording', { roomId });
    expect(stopped.recordingId).toBe(started.recordingId);
    const video = trackOf(stopped, 'video');
    expect(video.segments).toHaveLength(2);
    const [first, second] = video.segments as [(typeof video.segments)[0], (typeof video.segments)[0]];
    expect(second.startedAt).toBeGreaterThanOrEqual(first.endedAt!);
    expect(trackOf(stopped, 'audio').segments).toHaveLength(1);
    for (const seg of video.segments) {
      expect(seg.status).toBe('ok');
      const file = await download(manager.token, stopped, seg.file);
      const p = await probe(file);
      expect(p.streams.map((s) => s.codec_name)).toEqual(['vp8']);
      expect(p.packets[0]!.flags).toContain('K');
      expect(await decodedFrames(file)).toBeGreaterThan(10);
    }
    manager.close();
    await page.context().close();
  }, 60_000);

  test('an ffmpeg killed with SIGKILL fails the recording, tells the room, and leaks no port or transport', async () => {
    const { roomId, page, manager } = await meeting();
    const room = server.app.media.liveRoom(roomId)!;
    const transportsBefore = (await room.primaryRouter.dump()).transportIds.length;
    await call<RecordingInfo>(manager.socket, 'room:startRecording', { roomId });
    const pids = await waitFor(
      () => {
        const p = server.app.recordings.recorderPids(roomId);
        return p.length === 2 ? p : undefined;
      },
      { timeoutMs: 15_000, what: 'two ffmpeg processes' },
    );
    const ports = server.app.recordings.portsInUse;
    expect(ports).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 2_000));
    process.kill(pids[0]!, 'SIGKILL');

    const failed = await manager.waitEvent<{ recording: RecordingInfo }>(
      'room:recordingChanged',
      (e) => e.recording.state === 'failed',
      15_000,
    );
    expect(failed.recording.failure).toMatch(/ffmpeg/);
    await waitFor(async () => (await pageEvents(page)).some((e) => e.state === 'failed'), {
      timeoutMs: 10_000,
      what: 'the page to hear the recording failed',
    });
    // every recorder ended, its ports and transports freed
    expect(server.app.recordings.running).toBe(0);
    expect(server.app.recordings.portsInUse).toEqual([]);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    for (const p of ports) {
      expect(await udpPortBound(p)).toBe(false);
      expect(await udpPortBound(p + 1)).toBe(false);
    }
    expect((await room.primaryRouter.dump()).transportIds.length).toBe(transportsBefore);
    const listed = await call<{ recordings: RecordingInfo[] }>(manager.socket, 'room:recordings', { roomId });
    expect(listed.recordings[0]).toMatchObject({ state: 'failed' });
    // the room may be recorded again
    const again = await call<RecordingInfo>(manager.socket, 'room:startRecording', { roomId });
    expect(again.state).toBe('recording');
    await call(manager.socket, 'room:stopRecording', { roomId });
    manager.close();
    await page.context().close();
  }, 60_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
