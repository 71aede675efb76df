/**
 * The tier limits of a video room as pure functions: given the tier profile (from
 * `@moim/protocol`) and what a request would add, say whether it is allowed and, if not, which
 * error. No workers, routers or peers: MediaRoom gathers the counts and throws the verdict.
 */
import type { MediaSource, Tier, TierProfile } from '@moim/protocol';
import type { MediaKind, RtpParameters } from 'mediasoup/types';
import { isHelperCodec } from './codecs.ts';
import { SfuError, type SfuErrorCode } from './errors.ts';

export type TierVerdict = { ok: true } | { ok: false; code: SfuErrorCode; message: string };

const OK: TierVerdict = { ok: true };
const refuse = (code: SfuErrorCode, message: string): TierVerdict => ({ ok: false, code, message });

/** Throw the verdict's SfuError if it refuses. */
export function assertAllowed(v: TierVerdict): void {
  if (!v.ok) throw new SfuError(v.code, v.message);
}

/** What kind of media each source carries. */
export const SOURCE_KIND: Record<MediaSource, MediaKind> = {
  camera: 'video',
  screen: 'video',
  mic: 'audio',
  'screen-audio': 'audio',
};

/** One more peer in a room that has `peerCount`. */
export function checkJoin(profile: TierProfile, tier: Tier, peerCount: number): TierVerdict {
  if (peerCount >= profile.maxPeers)
    return refuse('ROOM_FULL', `this ${tier} room is full (${profile.maxPeers} people)`);
  return OK;
}

export interface ProduceRequest {
  kind: MediaKind;
  rtpParameters: RtpParameters;
  source: MediaSource;
  index: number;
}

/** What the room already carries, as far as the produce limits go. */
export interface ProduceContext {
  /** The producing peer's producers. */
  peerProducers: ReadonlyArray<{ source: MediaSource; index: number }>;
  /** Video producers of the whole room. */
  roomVideoProducers: number;
}

/** A new producer: per peer, per source, per room, encodings and codecs. */
export function checkProduce(profile: TierProfile, tier: Tier, ctx: ProduceContext, req: ProduceRequest): TierVerdict {
  const pr = profile;
  if (ctx.peerProducers.length >= pr.maxProducersPerPeer)
    return refuse('TOO_MANY_PRODUCERS', `a peer may send at most ${pr.maxProducersPerPeer} streams here`);
  const sameSource = ctx.peerProducers.filter((p) => p.source === req.source);
  const maxSource = pr.maxProducersPerSource[req.source];
  if (sameSource.length >= maxSource)
    return refuse('TOO_MANY_PRODUCERS', `a peer may send at most ${maxSource} ${req.source} stream(s) here`);
  if (req.index >= maxSource)
    return refuse('TOO_MANY_PRODUCERS', `${req.source} index ${req.index} is beyond this tier's ${maxSource}`);
  if (sameSource.some((p) => p.index === req.index))
    return refuse('CONFLICT', `${req.source} ${req.index} is already being sent`);
  if (req.kind === 'video') {
    if (ctx.roomVideoProducers >= pr.maxVideoProducersPerRoom)
      return refuse('TOO_MANY_PRODUCERS', `this room already carries ${pr.maxVideoProducersPerRoom} videos`);
    const encodings = req.rtpParameters.encodings?.length ?? 1;
    if (encodings > pr.maxEncodings)
      return refuse('ENCODINGS_NOT_ALLOWED', `at most ${pr.maxEncodings} encoding(s) per video in a ${tier} room`);
  }
  const allowed = (req.kind === 'video' ? pr.videoCodecs : pr.audioCodecs).map((m) => m.toLowerCase());
  for (const codec of req.rtpParameters.codecs) {
    if (isHelperCodec(codec.mimeType)) continue;
    const mime = codec.mimeType.toLowerCase();
    if (!mime.startsWith(`${req.kind}/`) || !allowed.includes(mime))
      return refuse('CODEC_NOT_ALLOWED', `${codec.mimeType} is not allowed for ${req.kind} in a ${tier} room`);
  }
  return OK;
}

/** Sum of the encodings' declared `maxBitrate` (bits/s). */
export function declaredBitrate(rtpParameters: RtpParameters): number {
  return (rtpParameters.encodings ?? []).reduce((sum, e) => sum + (e.maxBitrate ?? 0), 0);
}

/** The bitrate declared on one send transport (its producers' plus the new one's) against the tier's cap. */
export function checkTransportBitrate(profile: TierProfile, onTransport: number): TierVerdict {
  if (onTransport > profile.maxIncomingBitrate)
    return refuse(
      'BITRATE_NOT_ALLOWED',
      `declared bitrate ${onTransport} exceeds this tier's ${profile.maxIncomingBitrate} bits/s`,
    );
  return OK;
}
