import type { TierProfile } from '@moim/protocol';
import type { RouterRtpCodecCapability } from 'mediasoup/types';

/** Every codec moim can route, by mime type (lower case). A tier's router offers the ones its profile allows. */
const CODECS: Record<string, RouterRtpCodecCapability[]> = {
  'audio/opus': [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
  'video/vp8': [
    { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  ],
  'video/vp9': [
    {
      kind: 'video',
      mimeType: 'video/VP9',
      clockRate: 90000,
      parameters: { 'profile-id': 0, 'x-google-start-bitrate': 1000 },
    },
  ],
  'video/h264': [
    {
      kind: 'video',
      mimeType: 'video/H264',
      clockRate: 90000,
      parameters: {
        'packetization-mode': 1,
        'profile-level-id': '42e01f',
        'level-asymmetry-allowed': 1,
        'x-google-start-bitrate': 1000,
      },
    },
    {
      kind: 'video',
      mimeType: 'video/H264',
      clockRate: 90000,
      parameters: {
        'packetization-mode': 1,
        'profile-level-id': '4d0032',
        'level-asymmetry-allowed': 1,
        'x-google-start-bitrate': 1000,
      },
    },
  ],
};

/** The router's media codecs for a tier (audio first, then video in the profile's order of preference). */
export function routerMediaCodecs(profile: TierProfile): RouterRtpCodecCapability[] {
  const out: RouterRtpCodecCapability[] = [];
  for (const mime of [...profile.audioCodecs, ...profile.videoCodecs]) {
    const codecs = CODECS[mime.toLowerCase()];
    if (!codecs) throw new Error(`tier ${profile.tier}: no router codec for ${mime}`);
    out.push(...codecs.map((c) => structuredClone(c)));
  }
  return out;
}

/** Whether a producer's codec mime type is allowed by the tier (RTX and other helper codecs are not media). */
export function isHelperCodec(mimeType: string): boolean {
  return /\/(rtx|red|ulpfec|flexfec-03)$/i.test(mimeType);
}
