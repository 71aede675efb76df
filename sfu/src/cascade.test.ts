/**
 * The SFU side of the cascade on a real worker: two MediaRooms standing for the routers of one
 * room on two nodes, a PipeTransport pair set up by hand between them (as cluster/Cascade.ts does
 * across processes), and a remote peer in the second room whose adopted pipe producer its local
 * peer consumes. The `producer` event names each new local producer.
 */
import type { ConsumerInfo } from '@moim/protocol';
import type { Producer } from 'mediasoup/types';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { isRemotePeer, markRemote, remoteNodeOf } from './cascade.ts';
import { silentLogger } from './logging.ts';
import { MediaRoom } from './MediaRoom.ts';
import { RtpGenerator, RtpSink, vp8RtpParameters, waitFor } from './testing/index.ts';
import { WorkerPool } from './WorkerPool.ts';

let pool: WorkerPool;
const cleanup: Array<() => void> = [];

beforeAll(async () => {
  pool = await WorkerPool.create({ workers: 2, listen: [{ ip: '127.0.0.1' }], port: 0, log: silentLogger });
});
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});
afterAll(() => pool.close());

const room = async (id: string) => {
  const r = await MediaRoom.create({
    id,
    tier: 'standard',
    pool,
    log: silentLogger,
    consumersPerRouter: 100,
    allowPlainTransports: true,
  });
  cleanup.push(() => r.close());
  return r;
};

test('a producer piped by hand into another room is consumed there through a remote peer', async () => {
  const hq = await room('cascade-room');
  const site = await room('cascade-room');
  // two nodes: two workers (a producer id is unique per worker, as it is per node)
  expect(site.workerIndexes).not.toEqual(hq.workerIndexes);
  const alice = hq.addPeer({ sub: 'alice', displayName: 'Alice' });
  const produced: Producer[] = [];
  hq.on('producer', (_peer, p) => produced.push(p));
  const send = await hq.createTransport(alice, { direction: 'send', kind: 'plain' });
  const gen = await RtpGenerator.open({ ip: send.ip!, port: send.port! });
  cleanup.push(() => gen.close());
  gen.addVideo({ ssrc: 7771, payloadType: 101, width: 640, height: 360 });
  const producerId = await hq.produce(alice, {
    transportId: send.transportId,
    kind: 'video',
    rtpParameters: vp8RtpParameters([7771]),
    source: 'camera',
    index: 0,
    paused: false,
  });
  gen.start();
  expect(produced.map((p) => p.id)).toEqual([producerId]);

  // the pipe, both sides on the rooms' primary routers
  const listenInfo = { protocol: 'udp' as const, ip: '127.0.0.1' };
  const out = await hq.primaryRouter.createPipeTransport({ listenInfo, enableRtx: true, enableSrtp: true });
  const inn = await site.primaryRouter.createPipeTransport({ listenInfo, enableRtx: true, enableSrtp: true });
  await out.connect({ ip: '127.0.0.1', port: inn.tuple.localPort, srtpParameters: inn.srtpParameters! });
  await inn.connect({ ip: '127.0.0.1', port: out.tuple.localPort, srtpParameters: out.srtpParameters! });
  const pipeConsumer = await out.consume({ producerId });
  const pipeProducer = await inn.produce({
    id: producerId,
    kind: pipeConsumer.kind,
    rtpParameters: pipeConsumer.rtpParameters,
    paused: false,
  });

  // at the site: Alice is a remote peer; Bob, local, receives her video
  const ghost = site.addPeer({ id: alice.id, sub: alice.sub, displayName: alice.displayName });
  markRemote(ghost, 'hq');
  expect(isRemotePeer(ghost)).toBe(true);
  expect(remoteNodeOf(ghost)).toBe('hq');
  const bob = site.addPeer({ sub: 'bob', displayName: 'Bob' });
  expect(isRemotePeer(bob)).toBe(false);
  const sink = await RtpSink.open();
  cleanup.push(() => sink.close());
  const consumers: ConsumerInfo[] = [];
  bob.on('newConsumer', (c) => {
    consumers.push(c);
    void site.setConsumerPaused(bob, c.consumerId, false);
  });
  const recv = await site.createTransport(bob, { direction: 'recv', kind: 'plain' });
  await site.connectTransport(bob, recv.transportId, sink.address);
  await site.setCapabilities(bob, site.rtpCapabilities);
  await site.adoptProducer(ghost, pipeProducer, { source: 'camera', index: 0 });
  const c = await waitFor(() => consumers.find((x) => x.producerId === producerId), { what: 'consumer at the site' });
  expect(c.peerId).toBe(alice.id);
  expect(ghost.info().producers.map((p) => p.producerId)).toEqual([producerId]);
  await waitFor(() => sink.packets > 30, { what: 'RTP through the pipe' });
  // the adopted producer leaves the remote peer's books when it closes
  pipeProducer.close();
  expect(ghost.producers.size).toBe(0);
});
