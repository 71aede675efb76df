import type { ConsumerInfo } from '@moim/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from './logging.ts';
import { MediaRoom } from './MediaRoom.ts';
import type { Peer, PeerSignal } from './Peer.ts';
import { opusRtpParameters, RtpGenerator, RtpSink, vp8RtpParameters, waitFor } from './testing/index.ts';
import { WorkerPool } from './WorkerPool.ts';

let pool: WorkerPool;
const cleanup: Array<() => void> = [];
let n = 0;

beforeAll(async () => {
  pool = await WorkerPool.create({ workers: 2, listen: [{ ip: '127.0.0.1' }], port: 0, log: silentLogger });
});
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});
afterAll(() => pool.close());

async function newRoom(tier: 'personal' | 'standard' | 'immersive' = 'standard', consumersPerRouter = 100) {
  const room = await MediaRoom.create({
    id: `room-${++n}`,
    tier,
    pool,
    log: silentLogger,
    consumersPerRouter,
    allowPlainTransports: true,
  });
  cleanup.push(() => room.close());
  return room;
}

/** A subscriber on a plain recv transport that resumes every consumer it is given. */
async function subscriber(room: MediaRoom, peer: Peer) {
  const sink = await RtpSink.open();
  cleanup.push(() => sink.close());
  const consumers: ConsumerInfo[] = [];
  const signals: PeerSignal[] = [];
  peer.on('signal', (s) => signals.push(s));
  peer.on('newConsumer', (c) => {
    consumers.push(c);
    void room.setConsumerPaused(peer, c.consumerId, false);
  });
  const recv = await room.createTransport(peer, { direction: 'recv', kind: 'plain' });
  await room.connectTransport(peer, recv.transportId, sink.address);
  await room.setCapabilities(peer, room.rtpCapabilities);
  return { sink, consumers, signals, recv };
}

async function publisher(room: MediaRoom, peer: Peer) {
  const send = await room.createTransport(peer, { direction: 'send', kind: 'plain' });
  const gen = await RtpGenerator.open({ ip: send.ip!, port: send.port! });
  cleanup.push(() => gen.close());
  return { send, gen };
}

const consumerBytes = async (room: MediaRoom, peer: Peer, consumerId: string) => {
  const stats = (await room.getStats(peer, 'consumer', consumerId)) as Array<{ type: string; byteCount: number }>;
  return stats.find((s) => s.type === 'outbound-rtp')?.byteCount ?? 0;
};

describe('MediaRoom on a real worker', () => {
  test('generated VP8 and Opus RTP reach another peer; audio levels and active speaker are reported', async () => {
    const room = await newRoom();
    const a = room.addPeer({ sub: 'a', displayName: 'A' });
    const b = room.addPeer({ sub: 'b', displayName: 'B' });
    const { send, gen } = await publisher(room, a);
    gen.addVideo({ ssrc: 1111, payloadType: 101, width: 640, height: 360 });
    gen.addAudio({ ssrc: 2222, payloadType: 100, audioLevelExtensionId: 10, level: 20 });
    const video = await room.produce(a, {
      transportId: send.transportId,
      kind: 'video',
      rtpParameters: vp8RtpParameters([1111]),
      source: 'camera',
      index: 0,
      paused: false,
    });
    const audio = await room.produce(a, {
      transportId: send.transportId,
      kind: 'audio',
      rtpParameters: opusRtpParameters(2222),
      source: 'mic',
      index: 0,
      paused: false,
    });
    const sub = await subscriber(room, b);
    expect(sub.consumers.map((c) => c.producerId).sort()).toEqual([video, audio].sort());
    expect(sub.consumers.every((c) => c.paused)).toBe(true);
    gen.start();
    for (const c of sub.consumers) {
      await waitFor(async () => (await consumerBytes(room, b, c.consumerId)) > 5000, { what: `${c.kind} bytes` });
    }
    await waitFor(() => sub.sink.bySsrc.size >= 2, { what: 'RTP at the sink' });
    await waitFor(
      () => sub.signals.find((s) => s.event === 'media:audioLevels' && s.payload.levels.some((l) => l.peerId === a.id)),
      { what: 'audio levels' },
    );
    await waitFor(() => sub.signals.find((s) => s.event === 'media:activeSpeaker' && s.payload.peerId === a.id), {
      what: 'active speaker',
    });
  });

  test('simulcast: preferred layer changes up and down are applied (layerschange)', async () => {
    const room = await newRoom('standard');
    const a = room.addPeer({ sub: 'a', displayName: 'A' });
    const b = room.addPeer({ sub: 'b', displayName: 'B' });
    const { send, gen } = await publisher(room, a);
    const ssrcs = [3001, 3002, 3003];
    gen.addVideo({ ssrc: 3001, payloadType: 101, width: 320, height: 180, frameBytes: 300 });
    gen.addVideo({ ssrc: 3002, payloadType: 101, width: 640, height: 360, frameBytes: 600 });
    gen.addVideo({ ssrc: 3003, payloadType: 101, width: 1280, height: 720, frameBytes: 1000 });
    gen.start();
    await room.produce(a, {
      transportId: send.transportId,
      kind: 'video',
      rtpParameters: vp8RtpParameters(ssrcs, { maxBitrates: [150_000, 500_000, 1_500_000] }),
      source: 'camera',
      index: 0,
      paused: false,
    });
    const sub = await subscriber(room, b);
    const c = sub.consumers[0]!;
    expect(c.type).toBe('simulcast');
    const layers = (spatial: number) =>
      waitFor(
        () =>
          sub.signals.find(
            (s) =>
              s.event === 'media:consumerLayersChanged' &&
              s.payload.consumerId === c.consumerId &&
              s.payload.spatialLayer === spatial,
          ),
        { timeoutMs: 20_000, what: `spatial layer ${spatial}` },
      );
    // the tier's default preferred layer is 1
    await layers(1);
    sub.signals.length = 0;
    await room.setPreferredLayers(b, c.consumerId, { spatialLayer: 2 });
    await layers(2);
    sub.signals.length = 0;
    await room.setPreferredLayers(b, c.consumerId, { spatialLayer: 0 });
    await layers(0);
  });

  test('tier limits: peers, producers per source, codecs, encodings, bitrate', async () => {
    const personal = await newRoom('personal');
    const peers = Array.from({ length: 4 }, (_, i) => personal.addPeer({ sub: `p${i}`, displayName: `P${i}` }));
    expect(() => personal.addPeer({ sub: 'p4', displayName: 'P4' })).toThrowError(
      expect.objectContaining({ code: 'ROOM_FULL' }),
    );
    const p0 = peers[0]!;
    const { send } = await publisher(personal, p0);
    const produce = (over: Partial<Parameters<MediaRoom['produce']>[1]>) =>
      personal.produce(p0, {
        transportId: send.transportId,
        kind: 'video',
        rtpParameters: vp8RtpParameters([Math.floor(Math.random() * 1e9)]),
        source: 'camera',
        index: 0,
        paused: false,
        ...over,
      });
    await expect(produce({ rtpParameters: vp8RtpParameters([1, 2, 3]) })).rejects.toMatchObject({
      code: 'ENCODINGS_NOT_ALLOWED',
    });
    await expect(
      produce({ rtpParameters: vp8RtpParameters([10], { maxBitrates: [50_000_000] }) }),
    ).rejects.toMatchObject({ code: 'BITRATE_NOT_ALLOWED' });
    const av1 = vp8RtpParameters([11]);
    av1.codecs[0]!.mimeType = 'video/AV1';
    await expect(produce({ rtpParameters: av1 })).rejects.toMatchObject({ code: 'CODEC_NOT_ALLOWED' });
    await expect(produce({ source: 'mic' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    await produce({});
    await expect(produce({ index: 1 })).rejects.toMatchObject({ code: 'TOO_MANY_PRODUCERS' });
    await expect(produce({})).rejects.toMatchObject({ code: 'TOO_MANY_PRODUCERS' });

    // immersive: four cameras per peer, not five
    const immersive = await newRoom('immersive');
    const site = immersive.addPeer({ sub: 'site', displayName: 'Site' });
    const pub = await publisher(immersive, site);
    for (let index = 0; index < 4; index++) {
      await immersive.produce(site, {
        transportId: pub.send.transportId,
        kind: 'video',
        rtpParameters: vp8RtpParameters([5000 + index]),
        source: 'camera',
        index,
        paused: false,
      });
    }
    await expect(
      immersive.produce(site, {
        transportId: pub.send.transportId,
        kind: 'video',
        rtpParameters: vp8RtpParameters([5009]),
        source: 'camera',
        index: 4,
        paused: false,
      }),
    ).rejects.toMatchObject({ code: 'TOO_MANY_PRODUCERS' });
  });

  test('tier limit: video producers in the whole room (standard)', async () => {
    const room = await newRoom('standard');
    const cap = room.profile.maxVideoProducersPerRoom;
    let ssrc = 20_000;
    const sendVideo = async (peer: Peer, transportId: string, source: 'camera' | 'screen') =>
      room.produce(peer, {
        transportId,
        kind: 'video',
        rtpParameters: vp8RtpParameters([ssrc++]),
        source,
        index: 0,
        paused: false,
      });
    let sent = 0;
    let last: { peer: Peer; transportId: string } | undefined;
    while (sent < cap) {
      const peer = room.addPeer({ sub: `s${sent}`, displayName: `S${sent}` });
      const t = await room.createTransport(peer, { direction: 'send', kind: 'plain' });
      await sendVideo(peer, t.transportId, 'camera');
      sent++;
      if (sent < cap) {
        await sendVideo(peer, t.transportId, 'screen');
        sent++;
      }
      last = { peer, transportId: t.transportId };
    }
    const extra = room.addPeer({ sub: 'extra', displayName: 'Extra' });
    const t = await room.createTransport(extra, { direction: 'send', kind: 'plain' });
    await expect(sendVideo(extra, t.transportId, 'camera')).rejects.toMatchObject({ code: 'TOO_MANY_PRODUCERS' });
    // audio is not capped by the video limit
    await expect(
      room.produce(extra, {
        transportId: t.transportId,
        kind: 'audio',
        rtpParameters: opusRtpParameters(ssrc++),
        source: 'mic',
        index: 0,
        paused: false,
      }),
    ).resolves.toBeTruthy();
    // closing one video frees a slot
    const [producerId] = last!.peer.producers.keys();
    room.closeProducer(last!.peer, producerId!);
    await expect(sendVideo(extra, t.transportId, 'camera')).resolves.toBeTruthy();
  });

  test('a room that outgrows its router serves further consumers from another worker (pipeToRouter)', async () => {
    const room = await newRoom('standard', 1);
    const a = room.addPeer({ sub: 'a', displayName: 'A' });
    const { send, gen } = await publisher(room, a);
    gen.addVideo({ ssrc: 7001, payloadType: 101, width: 640, height: 360 }).start();
    await room.produce(a, {
      transportId: send.transportId,
      kind: 'video',
      rtpParameters: vp8RtpParameters([7001]),
      source: 'camera',
      index: 0,
      paused: false,
    });
    const b = room.addPeer({ sub: 'b', displayName: 'B' });
    const subB = await subscriber(room, b);
    const c = room.addPeer({ sub: 'c', displayName: 'C' });
    const subC = await subscriber(room, c);
    expect(room.routerCount).toBe(2);
    expect(new Set(room.workerIndexes).size).toBe(2);
    expect(room.workerIndexOfTransport(c, subC.recv.transportId)).not.toBe(
      room.workerIndexOfTransport(b, subB.recv.transportId),
    );
    await waitFor(async () => (await consumerBytes(room, c, subC.consumers[0]!.consumerId)) > 5000, {
      what: 'piped consumer bytes',
    });
    await waitFor(async () => (await consumerBytes(room, b, subB.consumers[0]!.consumerId)) > 5000, {
      what: 'direct consumer bytes',
    });
  });

  test('bad input: unknown ids, another peer’s ids, invalid rtpParameters, consuming without capabilities', async () => {
    const room = await newRoom();
    const a = room.addPeer({ sub: 'a', displayName: 'A' });
    const b = room.addPeer({ sub: 'b', displayName: 'B' });
    const { send } = await publisher(room, a);
    const producerId = await room.produce(a, {
      transportId: send.transportId,
      kind: 'video',
      rtpParameters: vp8RtpParameters([8001]),
      source: 'camera',
      index: 0,
      paused: false,
    });
    await expect(room.connectTransport(b, send.transportId, {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(() => room.closeProducer(b, producerId)).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
    await expect(room.consume(b, producerId)).rejects.toMatchObject({ code: 'CANNOT_CONSUME' });
    const bad = vp8RtpParameters([8002]);
    bad.codecs[0]!.payloadType = 3;
    bad.codecs[0]!.clockRate = 1;
    await expect(
      room.produce(a, {
        transportId: send.transportId,
        kind: 'audio',
        rtpParameters: bad,
        source: 'mic',
        index: 0,
        paused: false,
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/INVALID_PAYLOAD|CODEC_NOT_ALLOWED/) });
    // the room still works
    const sub = await subscriber(room, b);
    expect(sub.consumers).toHaveLength(1);
  });

  test('a killed worker is replaced and its rooms close with WORKER_DIED', async () => {
    const room = await newRoom();
    const a = room.addPeer({ sub: 'a', displayName: 'A' });
    const signals: PeerSignal[] = [];
    a.on('signal', (s) => signals.push(s));
    const closed = new Promise((resolve) => room.once('close', resolve));
    const index = room.workerIndexes[0]!;
    const slot = pool.workers().find((w) => w.index === index)!;
    const replaced = new Promise<{ index: number; pid: number }>((resolve) => pool.once('workerReplaced', resolve));
    process.kill(slot.worker.pid, 'SIGKILL');
    expect(await closed).toBe('WORKER_DIED');
    expect(signals).toContainEqual({ event: 'room:closed', payload: { roomId: room.id, reason: 'WORKER_DIED' } });
    const r = await replaced;
    expect(r.index).toBe(index);
    expect(r.pid).not.toBe(slot.worker.pid);
    expect(pool.workers()).toHaveLength(2);
    // a new room opens on a live worker
    const again = await newRoom();
    expect(again.closed).toBe(false);
  });
});
