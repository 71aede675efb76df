import type { RtpCapabilities, RtpParameters } from 'mediasoup/types';

/** Helpers for tests and benchmarks that feed plain RTP (see RtpGenerator). */

export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** RTP parameters of a VP8 producer sending one SSRC per simulcast layer (lowest first). */
export function vp8RtpParameters(
  ssrcs: readonly number[],
  opts: { payloadType?: number; maxBitrates?: readonly number[]; cname?: string } = {},
): RtpParameters {
  return {
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: opts.payloadType ?? 101,
        clockRate: 90000,
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      },
    ],
    encodings: ssrcs.map((ssrc, i) => ({
      ssrc,
      ...(opts.maxBitrates?.[i] ? { maxBitrate: opts.maxBitrates[i] } : {}),
    })),
    rtcp: { cname: opts.cname ?? 'moim-rtp-generator' },
  };
}

/** RTP parameters of an Opus producer with the ssrc-audio-level header extension. */
export function opusRtpParameters(
  ssrc: number,
  opts: { payloadType?: number; audioLevelExtensionId?: number; cname?: string } = {},
): RtpParameters {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: opts.payloadType ?? 100, clockRate: 48000, channels: 2 }],
    headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: opts.audioLevelExtensionId ?? 10 }],
    encodings: [{ ssrc }],
    rtcp: { cname: opts.cname ?? 'moim-rtp-generator' },
  };
}

/** A plain-RTP client's receive capabilities: the router's own (every codec, no RTX needed). */
export function plainRecvCapabilities(routerCapabilities: RtpCapabilities): RtpCapabilities {
  return structuredClone(routerCapabilities);
}

/** Poll `check` until it returns a truthy value (or throw after `timeoutMs`). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
