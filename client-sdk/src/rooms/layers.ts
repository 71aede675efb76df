import type { EncodingProfile } from '@moim/protocol';

/**
 * The simulcast spatial layer to ask for, given the size a video is shown at (device pixels).
 * Layers are the tier's camera encodings from the lowest (largest `scaleResolutionDownBy`) to the
 * highest; the first layer at least as tall as the element (with 15% slack) wins, else the top
 * one. A single-encoding tier always answers 0.
 */
export function chooseSpatialLayer(
  encodings: readonly EncodingProfile[],
  maxVideo: { width: number; height: number },
  shown: { width: number; height: number },
): number {
  if (encodings.length <= 1) return 0;
  const heights = encodings.map((e) => maxVideo.height / (e.scaleResolutionDownBy ?? 1));
  const widths = encodings.map((e) => maxVideo.width / (e.scaleResolutionDownBy ?? 1));
  for (let i = 0; i < encodings.length; i++) {
    if (heights[i]! * 1.15 >= shown.height && widths[i]! * 1.15 >= shown.width) return i;
  }
  return encodings.length - 1;
}

/** Turn a tier's encoding profile into mediasoup-client `encodings` (copies; mediasoup-client mutates them). */
export function toSendEncodings(encodings: readonly EncodingProfile[]): Array<{
  rid?: string;
  scaleResolutionDownBy?: number;
  maxBitrate: number;
  maxFramerate?: number;
  scalabilityMode?: string;
}> {
  return encodings.map((e) => ({ ...e }));
}
