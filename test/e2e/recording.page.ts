/**
 * Browser side of recording.e2e.test.ts, bundled by vite into an IIFE: a mediasoup-client peer on
 * the real signalling that publishes the fake camera (VP8) and microphone, pauses and resumes its
 * camera, and keeps every `room:recordingChanged` it is told (the recording indicator's source).
 */
import { Device } from 'mediasoup-client';
import type { Producer } from 'mediasoup-client/types';
import { io, type Socket } from 'socket.io-client';

interface State {
  socket?: Socket;
  roomId?: string;
  camera?: Producer;
  recordingEvents: Array<{ state: string; recordingId: string }>;
  errors: string[];
}

const state: State = { recordingEvents: [], errors: [] };

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
  socket.on('room:recordingChanged', (e: { recording: { state: string; recordingId: string } }) => {
    state.recordingEvents.push({ state: e.recording.state, recordingId: e.recording.recordingId });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const roomId = opts.roomId;
  const join = await req<{ peerId: string; routerRtpCapabilities: never; iceServers: RTCIceServer[] }>('room:join', {
    roomId,
  });
  const device = new Device();
  await device.load({ routerRtpCapabilities: join.routerRtpCapabilities });
  const info = await req<{ transportId: string; iceParameters: never; iceCandidates: never; dtlsParameters: never }>(
    'media:createTransport',
    { roomId, direction: 'send' },
  );
  const send = device.createSendTransport({
    id: info.transportId,
    iceParameters: info.iceParameters,
    iceCandidates: info.iceCandidates,
    dtlsParameters: info.dtlsParameters,
    iceServers: join.iceServers,
  });
  send.on('connect', ({ dtlsParameters }, callback, errback) => {
    req('media:connectTransport', { roomId, transportId: send.id, dtlsParameters }).then(() => callback(), errback);
  });
  send.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
    req<{ producerId: string }>('media:produce', {
      roomId,
      transportId: send.id,
      kind,
      rtpParameters,
      source: (appData as { source: string }).source,
    }).then(({ producerId }) => callback({ id: producerId }), errback);
  });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
  const vp8 = device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
  state.camera = await send.produce({
    track: stream.getVideoTracks()[0]!,
    ...(vp8 ? { codec: vp8 } : {}),
    appData: { source: 'camera' },
  });
  await send.produce({ track: stream.getAudioTracks()[0]!, appData: { source: 'mic' } });
  return { peerId: join.peerId };
}

/** Camera off (paused here and on the server) or on again. */
async function setCamera(on: boolean): Promise<void> {
  const camera = state.camera!;
  if (on) {
    camera.resume();
    await req('media:resumeProducer', { roomId: state.roomId, producerId: camera.id });
  } else {
    camera.pause();
    await req('media:pauseProducer', { roomId: state.roomId, producerId: camera.id });
  }
}

(globalThis as unknown as { moim: unknown }).moim = {
  start,
  setCamera,
  recordingEvents: () => state.recordingEvents,
  errors: () => state.errors,
};
