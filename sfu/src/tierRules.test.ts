import { tierProfile } from '@moim/protocol';
import type { RtpParameters } from 'mediasoup/types';
import { describe, expect, test } from 'vitest';
import { checkJoin, checkProduce, checkTransportBitrate, declaredBitrate } from './tierRules.ts';

// Pure: no worker, no router. The same rules MediaRoom applies on a real worker (MediaRoom.test.ts).
const personal = tierProfile('personal');
const vp8 = (encodings = 1, maxBitrate = 500_000): RtpParameters => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
  encodings: Array.from({ length: encodings }, (_, i) => ({ ssrc: 1000 + i, maxBitrate })),
});
const opus: RtpParameters = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: 2000 }],
};
const empty = { peerProducers: [], roomVideoProducers: 0 };

describe('tier rules', () => {
  test('a full room refuses the next peer', () => {
    expect(checkJoin(personal, 'personal', personal.maxPeers - 1)).toEqual({ ok: true });
    expect(checkJoin(personal, 'personal', personal.maxPeers)).toMatchObject({ ok: false, code: 'ROOM_FULL' });
  });

  test('a camera within the limits is allowed', () => {
    const req = { kind: 'video' as const, rtpParameters: vp8(), source: 'camera' as const, index: 0 };
    expect(checkProduce(personal, 'personal', empty, req)).toEqual({ ok: true });
  });

  test('producers per source, per index, per peer and per room', () => {
    const cam = { kind: 'video' as const, rtpParameters: vp8(), source: 'camera' as const, index: 0 };
    const one = { peerProducers: [{ source: 'camera' as const, index: 0 }], roomVideoProducers: 1 };
    expect(checkProduce(personal, 'personal', one, cam)).toMatchObject({ code: 'TOO_MANY_PRODUCERS' });
    expect(checkProduce(personal, 'personal', empty, { ...cam, index: 1 })).toMatchObject({
      code: 'TOO_MANY_PRODUCERS',
    });
    const full = { peerProducers: [], roomVideoProducers: personal.maxVideoProducersPerRoom };
    expect(checkProduce(personal, 'personal', full, cam)).toMatchObject({ code: 'TOO_MANY_PRODUCERS' });
    const many = Array.from({ length: personal.maxProducersPerPeer }, () => ({ source: 'mic' as const, index: 9 }));
    expect(checkProduce(personal, 'personal', { peerProducers: many, roomVideoProducers: 0 }, cam)).toMatchObject({
      code: 'TOO_MANY_PRODUCERS',
    });
  });

  test('encodings and codecs', () => {
    const cam = { kind: 'video' as const, rtpParameters: vp8(3), source: 'camera' as const, index: 0 };
    expect(checkProduce(personal, 'personal', empty, cam)).toMatchObject({ code: 'ENCODINGS_NOT_ALLOWED' });
    const av1 = vp8();
    av1.codecs[0]!.mimeType = 'video/AV1';
    expect(checkProduce(personal, 'personal', empty, { ...cam, rtpParameters: av1 })).toMatchObject({
      code: 'CODEC_NOT_ALLOWED',
    });
    const mic = { kind: 'audio' as const, rtpParameters: opus, source: 'mic' as const, index: 0 };
    expect(checkProduce(personal, 'personal', empty, mic)).toEqual({ ok: true });
  });

  test('declared bitrate against the cap', () => {
    expect(declaredBitrate(vp8(2, 400_000))).toBe(800_000);
    expect(declaredBitrate(opus)).toBe(0);
    expect(checkTransportBitrate(personal, personal.maxIncomingBitrate)).toEqual({ ok: true });
    expect(checkTransportBitrate(personal, personal.maxIncomingBitrate + 1)).toMatchObject({
      code: 'BITRATE_NOT_ALLOWED',
    });
  });
});
