/**
 * Browser side of sfu-webrtc.e2e.test.ts, bundled by vite into an IIFE: a minimal mediasoup-client
 * peer on the real signalling (the client SDK is the real one; this stays small on purpose).
 */
import { Device } from 'mediasoup-client';
import type { Consumer, RtpEncodingParameters, Transport } from 'mediasoup-client/types';
import { io, type Socket } from 'socket.io-client';

interface State {
  socket?: Socket;
  roomId?: string;
  consumers: Map<string, Consumer>;
  layers: Array<{ consumerId: string; spatialLayer: number | null }>;
  errors: string[];
}

const state: State = { consumers: new Map(), layers: [], errors: [] };

async function req<T = Record<string, unknown>>(event: string, data: unknown): Promise<T> {
  const ack = (await state.socket!.timeout(15_000).emitWithAck(event, data)) as
    | { data: T }
    | { error: { code: string; message: string } };
  if ('error' in ack) throw new Error(`${event}: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

async function start(opts: { url: string; token: string; roomId: string }): Promise<{ peerId: string }> {
  const socket = io(opts.url, { transports: ['websocket'], auth: { token: opts.token, protocol: 1 } });
  state.socket = socket;
  state.roomId = opts.roomId;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const roomId = opts.roomId;
  const join = await req<{
    peerId: string;
    routerRtpCapabilities: never;
    iceServers: RTCIceServer[];
    profile: { cameraEncodings: RtpEncodingParameters[] };
  }>('room:join', { roomId });
  const device = new Device();
  await device.load({ routerRtpCapabilities: join.routerRtpCapabilities });
  const transport = async (direction: 'send' | 'recv'): Promise<Transport> => {
    const info = await req<{ transportId: string; iceParameters: never; iceCandidates: never; dtlsParameters: never }>(
      'media:createTransport',
      { roomId, direction },
    );
    const params = {
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
      iceServers: join.iceServers,
    };
    const t = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
    t.on('connect', ({ dtlsParameters }, callback, errback) => {
      req('media:connectTransport', { roomId, transportId: t.id, dtlsParameters }).then(() => callback(), errback);
    });
    t.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      req<{ producerId: string }>('media:produce', {
        roomId,
        transportId: t.id,
        kind,
        rtpParameters,
        source: (appData as { source: string }).source,
      }).then(({ producerId }) => callback({ id: producerId }), errback);
    });
    return t;
  };
  const send = await transport('send');
  const recv = await transport('recv');
  socket.on(
    'media:newConsumer',
    async (
      c: { consumerId: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: never },
      ack: (r: unknown) => void,
    ) => {
      try {
        const consumer = await recv.consume({
          id: c.consumerId,
          producerId: c.producerId,
          kind: c.kind,
          rtpParameters: c.rtpParameters,
        });
        state.consumers.set(consumer.id, consumer);
        ack({});
      } catch (err) {
        state.errors.push(String(err));
      }
    },
  );
  socket.on('media:consumerLayersChanged', (e: { consumerId: string; spatialLayer: number | null }) => {
    state.layers.push(e);
  });
  await req('media:setCapabilities', { roomId, rtpCapabilities: device.recvRtpCapabilities });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  await send.produce({
    track: stream.getVideoTracks()[0]!,
    encodings: join.profile.cameraEncodings,
    appData: { source: 'camera' },
  });
  await send.produce({ track: stream.getAudioTracks()[0]!, appData: { source: 'mic' } });
  return { peerId: join.peerId };
}

/** Inbound video figures per consumer (read per consumer: the probe stream shows no frames). */
async function videoStats(): Promise<Array<{ consumerId: string; framesDecoded: number; frameWidth: number }>> {
  const out: Array<{ consumerId: string; framesDecoded: number; frameWidth: number }> = [];
  for (const [consumerId, consumer] of state.consumers) {
    if (consumer.kind !== 'video') continue;
    const report = await consumer.getStats();
    report.forEach((s: { type: string; kind?: string; framesDecoded?: number; frameWidth?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video')
        out.push({ consumerId, framesDecoded: s.framesDecoded ?? 0, frameWidth: s.frameWidth ?? 0 });
    });
  }
  return out;
}

async function setLayer(consumerId: string, spatialLayer: number): Promise<void> {
  await req('media:setPreferredLayers', { roomId: state.roomId, consumerId, spatialLayer });
}

(globalThis as unknown as { moim: unknown }).moim = {
  start,
  videoStats,
  setLayer,
  layers: () => state.layers,
  errors: () => state.errors,
};
