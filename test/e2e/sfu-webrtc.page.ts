/**
 * Browser side of sfu-webrtc.e2e.test.ts, bundled by vite into an IIFE: a minimal mediasoup-client
 * peer on the real signalling (the client SDK is the real one; this stays small on purpose).
 */
import type { Consumer, RtpEncodingParameters } from 'mediasoup-client/types';
import { joinAsPagePeer, type Req } from './pageSignalling.ts';

interface State {
  req?: Req;
  roomId?: string;
  consumers: Map<string, Consumer>;
  layers: Array<{ consumerId: string; spatialLayer: number | null }>;
  errors: string[];
}

const state: State = { consumers: new Map(), layers: [], errors: [] };

async function start(opts: { url: string; token: string; roomId: string }): Promise<{ peerId: string }> {
  const { socket, req, join, device, transport } = await joinAsPagePeer<{
    profile: { cameraEncodings: RtpEncodingParameters[] };
  }>(opts);
  state.req = req;
  state.roomId = opts.roomId;
  const roomId = opts.roomId;
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
  await state.req!('media:setPreferredLayers', { roomId: state.roomId, consumerId, spatialLayer });
}

(globalThis as unknown as { moim: unknown }).moim = {
  start,
  videoStats,
  setLayer,
  layers: () => state.layers,
  errors: () => state.errors,
};
