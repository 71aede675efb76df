import { TIER_PROFILES } from '@moim/protocol/client';
import { describe, expect, it } from 'vitest';
import { chooseSpatialLayer, toSendEncodings } from './layers.ts';

const standard = TIER_PROFILES.standard;

describe('chooseSpatialLayer', () => {
  it('picks the smallest simulcast layer that covers the element', () => {
    const pick = (width: number, height: number) =>
      chooseSpatialLayer(standard.cameraEncodings, standard.maxVideo, { width, height });
    // layers of 1280x720: 320x180, 640x360, 1280x720
    expect(pick(160, 90)).toBe(0);
    expect(pick(320, 180)).toBe(0);
    expect(pick(360, 200)).toBe(0); // within 15% slack
    expect(pick(480, 270)).toBe(1);
    expect(pick(640, 360)).toBe(1);
    expect(pick(960, 540)).toBe(2);
    expect(pick(3840, 2160)).toBe(2);
  });

  it('answers 0 for tiers without simulcast', () => {
    const immersive = TIER_PROFILES.immersive;
    expect(chooseSpatialLayer(immersive.cameraEncodings, immersive.maxVideo, { width: 1920, height: 1080 })).toBe(0);
  });

  it('hands mediasoup-client copies of the tier encodings', () => {
    const enc = toSendEncodings(standard.cameraEncodings);
    expect(enc).toEqual(standard.cameraEncodings);
    enc[0]!.maxBitrate = 1;
    expect(standard.cameraEncodings[0]!.maxBitrate).toBe(150_000);
  });
});
