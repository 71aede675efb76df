/**
 * Devices and capture: the `getUserMedia`/`getDisplayMedia` constraints a room's tier asks for
 * (camera size and frame rate, stereo or processed microphone), and the check that a published
 * video track really delivers frames. No room state here: `Room` publishes what these return.
 */
import type { TierClientProfile } from '@moim/protocol';
import type { types } from 'mediasoup-client';
import type { Logger } from '../logger.ts';

/** Capture a camera at the tier's largest video. */
export async function captureCamera(profile: TierClientProfile, deviceId?: string): Promise<MediaStreamTrack> {
  const { width, height, frameRate } = profile.maxVideo;
  const stream = await navigator.mediaDevices.getUserMedia({
    video: {
      ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
      width: { ideal: width },
      height: { ideal: height },
      frameRate: { ideal: frameRate },
    },
  });
  return stream.getVideoTracks()[0]!;
}

/** The video input devices' ids (immersive rooms publish one camera per device). */
export async function videoInputIds(): Promise<string[]> {
  return (await navigator.mediaDevices.enumerateDevices())
    .filter((d) => d.kind === 'videoinput')
    .map((d) => d.deviceId);
}

/** Capture a microphone: stereo and unprocessed when the tier says so, a headset's processing otherwise. */
export async function captureMic(profile: TierClientProfile, deviceId?: string): Promise<MediaStreamTrack> {
  const stereo = profile.stereoAudio;
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: {
      ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
      channelCount: stereo ? { ideal: 2 } : { ideal: 1 },
      // a room's mic array keeps its stereo image; a person's headset gets the usual processing
      echoCancellation: !stereo,
      noiseSuppression: !stereo,
      autoGainControl: !stereo,
    },
  });
  return stream.getAudioTracks()[0]!;
}

/** Share the screen (the browser asks which one). */
export async function captureScreen(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  return stream.getVideoTracks()[0]!;
}

/** Capture another input device for a published camera or microphone (`switchDevice`). */
export async function captureDevice(
  profile: TierClientProfile,
  source: 'camera' | 'mic',
  deviceId: string,
): Promise<MediaStreamTrack> {
  const { width, height, frameRate } = profile.maxVideo;
  const stream = await navigator.mediaDevices.getUserMedia(
    source === 'camera'
      ? {
          video: {
            deviceId: { exact: deviceId },
            width: { ideal: width },
            height: { ideal: height },
            frameRate: { ideal: frameRate },
          },
        }
      : { audio: { deviceId: { exact: deviceId } } },
  );
  return source === 'camera' ? stream.getVideoTracks()[0]! : stream.getAudioTracks()[0]!;
}

/**
 * After `ms`, read the producer's stats and call `onStall` when no frame reached its sender (a
 * device the browser opens but cannot encode). No verdict when the producer closed or paused.
 */
export function watchStall(
  producer: types.Producer,
  ms: number,
  isClosed: () => boolean,
  log: Logger,
  onStall: () => void,
): void {
  setTimeout(async () => {
    if (producer.closed || producer.paused || isClosed()) return;
    const stats = await producer.getStats().catch((error: unknown) => {
      // no stats (the producer closed meanwhile): no verdict rather than a false alarm
      log.debug('stall check could not read stats', { producerId: producer.id, error });
      return undefined;
    });
    let frames = 0;
    stats?.forEach((s: Record<string, unknown>) => {
      if (s.type === 'media-source' && typeof s.frames === 'number') frames += s.frames;
      if (s.type === 'outbound-rtp' && typeof s.framesEncoded === 'number') frames += s.framesEncoded;
    });
    if (frames === 0 && !producer.closed) onStall();
  }, ms);
}
