/**
 * Browser side of bench:sfu's join-to-first-frame phase, bundled by vite into an IIFE and
 * served by moim itself (MOIM_WEB_ROOT): a receive-only mediasoup-client peer on moim's real
 * signalling. `moim.join()` times each stage from the `room:join` request to the first video
 * frame presented by a <video> element (requestVideoFrameCallback).
 */
import { Device } from 'mediasoup-client';
import type { Consumer } from 'mediasoup-client/types';
import { io, type Socket } from 'socket.io-client';

type Timings = Record<string, number>;

async function join(opts: { token: string; roomId: string }): Promise<Timings> {
  const t: Timings = {};
  const t0 = performance.now();
  const mark = (name: string) => {
    t[name] = performance.now() - t0;
  };
  const socket: Socket = io(location.origin, {
    transports: ['websocket'],
    auth: { token: opts.token, protocol: 1 },
    reconnection: false,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  mark('connected');
  const j0 = performance.now();
  const req = async <T>(event: string, data: unknown): Promise<T> => {
    const ack = (await socket.timeout(15_000).emitWithAck(event, data)) as
      | { data: T }
      | { error: { code: string; message: string } };
    if ('error' in ack) throw new Error(`${event}: ${ack.error.code} ${ack.error.message}`);
    return ack.data;
  };
  const roomId = opts.roomId;
  const first = new Promise<void>((resolve, reject) => {
    socket.on(
      'media:newConsumer',
      async (c: { consumerId: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: never }, ack) => {
        try {
          const consumer: Consumer = await recv.consume({
            id: c.consumerId,
            producerId: c.producerId,
            kind: c.kind,
            rtpParameters: c.rtpParameters,
          });
          (ack as (r: unknown) => void)({});
          if (consumer.kind !== 'video') return;
          t.consumer = performance.now() - j0;
          const video = document.createElement('video');
          video.muted = true;
          video.playsInline = true;
          video.srcObject = new MediaStream([consumer.track]);
          document.body.append(video);
          video.requestVideoFrameCallback(() => resolve());
          await video.play();
        } catch (err) {
          reject(err);
        }
      },
    );
  });
  const joined = await req<{ routerRtpCapabilities: never; iceServers: RTCIceServer[] }>('room:join', { roomId });
  t.joined = performance.now() - j0;
  const device = new Device();
  await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities });
  const info = await req<{ transportId: string; iceParameters: never; iceCandidates: never; dtlsParameters: never }>(
    'media:createTransport',
    { roomId, direction: 'recv' },
  );
  const recv = device.createRecvTransport({
    id: info.transportId,
    iceParameters: info.iceParameters,
    iceCandidates: info.iceCandidates,
    dtlsParameters: info.dtlsParameters,
    iceServers: joined.iceServers,
  });
  recv.on('connect', ({ dtlsParameters }, callback, errback) => {
    req('media:connectTransport', { roomId, transportId: recv.id, dtlsParameters }).then(() => callback(), errback);
  });
  recv.on('connectionstatechange', (state) => {
    if (state === 'connected') t.transportConnected = performance.now() - j0;
  });
  t.transport = performance.now() - j0;
  await req('media:setCapabilities', { roomId, rtpCapabilities: device.recvRtpCapabilities });
  await first;
  t.firstFrame = performance.now() - j0;
  t.connectToFirstFrame = performance.now() - t0;
  await req('room:leave', { roomId }).catch(() => {});
  socket.disconnect();
  return t;
}

(globalThis as unknown as { moim: unknown }).moim = { join };
