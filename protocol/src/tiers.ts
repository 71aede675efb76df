import type { Tier } from './constants.ts';

export type MediaSource = 'camera' | 'mic' | 'screen' | 'screen-audio';

/** One RTP encoding handed to clients for a video source (mediasoup-client `encodings`). */
export interface EncodingProfile {
  rid?: string;
  scaleResolutionDownBy?: number;
  maxBitrate: number;
  maxFramerate?: number;
  scalabilityMode?: string;
}

export interface TierProfile {
  tier: Tier;
  /** Participants in one room. */
  maxPeers: number;
  /** Producers of each source one peer may have at once. */
  maxProducersPerSource: Record<MediaSource, number>;
  /** All producers of one peer. */
  maxProducersPerPeer: number;
  /** Video producers (cameras and screens) of the whole room at once. */
  maxVideoProducersPerRoom: number;
  /** RTP encodings (simulcast layers) one video producer may send. */
  maxEncodings: number;
  /** Video codecs allowed to be produced (mime types). */
  videoCodecs: readonly string[];
  audioCodecs: readonly string[];
  /**
   * Cap on the bitrate a send transport may take in (bits/s, `setMaxIncomingBitrate`); a producer
   * whose encodings declare more in total is refused with BITRATE_NOT_ALLOWED.
   */
  maxIncomingBitrate: number;
  /** Largest video a client should capture. */
  maxVideo: { width: number; height: number; frameRate: number };
  /** Encodings handed to clients for cameras and screens. */
  cameraEncodings: readonly EncodingProfile[];
  screenEncodings: readonly EncodingProfile[];
  simulcast: boolean;
  /** Stereo Opus (immersive mic arrays). */
  stereoAudio: boolean;
  /** Layers a new consumer starts at. */
  defaultPreferredLayers: { spatialLayer: number; temporalLayer: number };
}

const VP8 = 'video/VP8';
const VP9 = 'video/VP9';
const H264 = 'video/H264';
const OPUS = 'audio/opus';

/**
 * The tier table. Every limit enforced by the SFU and every encoding handed to clients comes from
 * here; nothing else in the code holds a tier number.
 */
export const TIER_PROFILES: Record<Tier, TierProfile> = {
  personal: {
    tier: 'personal',
    maxPeers: 4,
    maxProducersPerSource: { camera: 1, mic: 1, screen: 1, 'screen-audio': 1 },
    maxProducersPerPeer: 4,
    maxVideoProducersPerRoom: 8,
    maxEncodings: 1,
    videoCodecs: [VP8, VP9, H264],
    audioCodecs: [OPUS],
    maxIncomingBitrate: 3_000_000,
    maxVideo: { width: 1280, height: 720, frameRate: 30 },
    cameraEncodings: [{ maxBitrate: 1_500_000, maxFramerate: 30 }],
    screenEncodings: [{ maxBitrate: 1_500_000, maxFramerate: 15 }],
    simulcast: false,
    stereoAudio: false,
    defaultPreferredLayers: { spatialLayer: 0, temporalLayer: 2 },
  },
  standard: {
    tier: 'standard',
    maxPeers: 50,
    maxProducersPerSource: { camera: 1, mic: 1, screen: 1, 'screen-audio': 1 },
    maxProducersPerPeer: 4,
    maxVideoProducersPerRoom: 24,
    maxEncodings: 3,
    videoCodecs: [VP8, VP9, H264],
    audioCodecs: [OPUS],
    maxIncomingBitrate: 5_000_000,
    maxVideo: { width: 1280, height: 720, frameRate: 30 },
    cameraEncodings: [
      { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000, maxFramerate: 15 },
      { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000, maxFramerate: 30 },
      { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000, maxFramerate: 30 },
    ],
    screenEncodings: [{ maxBitrate: 2_500_000, maxFramerate: 15 }],
    simulcast: true,
    stereoAudio: false,
    defaultPreferredLayers: { spatialLayer: 1, temporalLayer: 2 },
  },
  immersive: {
    tier: 'immersive',
    maxPeers: 6,
    maxProducersPerSource: { camera: 4, mic: 1, screen: 1, 'screen-audio': 1 },
    maxProducersPerPeer: 7,
    maxVideoProducersPerRoom: 30,
    maxEncodings: 3,
    videoCodecs: [VP8, VP9, H264],
    audioCodecs: [OPUS],
    maxIncomingBitrate: 40_000_000,
    maxVideo: { width: 1920, height: 1080, frameRate: 30 },
    cameraEncodings: [{ maxBitrate: 6_000_000, maxFramerate: 30 }],
    screenEncodings: [{ maxBitrate: 4_000_000, maxFramerate: 30 }],
    simulcast: false,
    stereoAudio: true,
    defaultPreferredLayers: { spatialLayer: 0, temporalLayer: 2 },
  },
};

export function tierProfile(tier: Tier): TierProfile {
  return TIER_PROFILES[tier];
}
