/**
 * Browser side of recording.e2e.test.ts, bundled by vite into an IIFE: a mediasoup-client peer on
 * the real signalling that publishes the fake camera (VP8) and microphone, pauses and resumes its
 * camera, and keeps every `room:recordingChanged` it is told (the recording indicator's source).
 */
import type { Producer } from 'mediasoup-client/types';
import { joinAsPagePeer, type Req } from './pageSignalling.ts';

interface State {
  req?: Req;
  roomId?: string;
  camera?: Producer;
  recordingEvents: Array<{ state: string; recordingId: string }>;
  errors: string[];
}

const state: State = { recordingEvents: [], errors: [] };

async function start(opts: { url: string; token: string; roomId: string }): Promise<{ peerId: string }> {
  const { req, join, device, transport } = await joinAsPagePeer(opts, (socket) => {
    socket.on('room:recordingChanged', (e: { recording: { state: string; recordingId: string } }) => {
      state.recordingEvents.push({ state: e.recording.state, recordingId: e.recording.recordingId });
    });
  });
  state.req = req;
  state.roomId = opts.roomId;
  const send = await transport('send');
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
    await state.req!('media:resumeProducer', { roomId: state.roomId, producerId: camera.id });
  } else {
    camera.pause();
    await state.req!('media:pauseProducer', { roomId: state.roomId, producerId: camera.id });
  }
}

(globalThis as unknown as { moim: unknown }).moim = {
  start,
  setCamera,
  recordingEvents: () => state.recordingEvents,
  errors: () => state.errors,
};
