import { type Ack, ERROR_CODES, MEDIA_REQUEST_NAMES, type MediaRequestName, mediaRequests } from '@moim/protocol';
import { opusRtpParameters, vp8RtpParameters, waitFor } from '@moim/sfu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  consumerBytes,
  createRoom,
  type MediaTestPeer,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testPeers.ts';
import { call, request, startTestServer, type TestServer } from '../server/src/testing.ts';

/**
 * Every client→server media event fed malformed and hostile payloads by a peer in the room:
 * each gets an error code (never INTERNAL, never silence), and the worker, the room and the
 * other peers carry on. The table of cases is keyed by every media request name, so a new
 * event without cases fails this suite (at type-check and at run time).
 */

let server: TestServer;
let alice: MediaTestPeer;
let bob: MediaTestPeer;
let mallory: MediaTestPeer;
let roomId: string;
let ids: {
  alicePeer: string;
  aliceTransport: string;
  aliceVideo: string;
  aliceAudio: string;
  bobConsumer: string;
  malloryTransport: string;
};
const stops: Array<() => void> = [];

beforeAll(async () => {
  server = await startTestServer({
    MOIM_SFU_ALLOW_PLAIN: 'true',
    MOIM_RATE_LIMIT_PER_SEC: '100000',
    MOIM_RATE_LIMIT_BURST: '1000000',
  });
  alice = await mediaPeer(server, { name: 'Alice', role: 'manager' });
  bob = await mediaPeer(server, { name: 'Bob' });
  mallory = await mediaPeer(server, { name: 'Mallory' });
  ({ roomId } = await createRoom(alice, 'standard'));
  const aj = await alice.join(roomId);
  const bj = await bob.join(roomId);
  await mallory.join(roomId);
  const pub = await publishPlain(alice, roomId, { video: [9001], audio: 9002 });
  stops.push(() => pub.gen.close());
  const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
  stops.push(() => sub.sink.close());
  await waitFor(() => bob.consumers.length === 2, { what: 'consumers' });
  const mt = await call<{ transportId: string }>(mallory.socket, 'media:createTransport', {
    roomId,
    direction: 'send',
    kind: 'plain',
  });
  ids = {
    alicePeer: aj.peerId,
    aliceTransport: pub.transport.transportId,
    aliceVideo: pub.video!,
    aliceAudio: pub.audio!,
    bobConsumer: bob.consumers.find((c) => c.kind === 'video')!.consumerId,
    malloryTransport: mt.transportId,
  };
});

afterAll(async () => {
  for (const s of stops) s();
  await server?.close();
});

/** A valid-shaped payload aimed at other people's things, plus extra hostile payloads for the event. */
interface Cases {
  base: () => Record<string, unknown>;
  extra?: () => unknown[];
}

const dtls = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] };
const vp8 = () => vp8RtpParameters([424242]);

const CASES: Record<MediaRequestName, Cases> = {
  'room:create': {
    base: () => ({ tier: 'immersive' }),
    extra: () => [
      { tier: 'galactic' },
      { tier: 'personal', docName: '../../etc/passwd' },
      { tier: 'personal', name: '' },
    ],
  },
  'room:info': { base: () => ({ roomId: 'no-such-room' }), extra: () => [{ roomId: '../x' }, { roomId: 'a b' }] },
  'room:join': {
    base: () => ({ roomId, resume: { peerId: ids.alicePeer } }),
    extra: () => [
      { roomId: 'no-such-room' },
      { roomId, resume: { peerId: 'x'.repeat(65) } },
      { roomId, displayName: ' ' },
    ],
  },
  'room:leave': { base: () => ({ roomId: 'no-such-room' }) },
  'room:raiseHand': { base: () => ({ roomId: 'no-such-room', raised: true }) },
  'room:mutePeer': { base: () => ({ roomId, peerId: ids.alicePeer, producerId: ids.aliceAudio }) },
  'room:stopVideo': { base: () => ({ roomId, peerId: ids.alicePeer, producerId: ids.aliceVideo }) },
  'room:removePeer': { base: () => ({ roomId, peerId: ids.alicePeer, reason: 'bye' }) },
  'room:close': { base: () => ({ roomId }) },
  'media:createTransport': {
    base: () => ({ roomId: 'no-such-room', direction: 'send', kind: 'webrtc' }),
    extra: () => [
      { roomId, direction: 'sideways' },
      { roomId, direction: 'send', kind: 'pipe' },
    ],
  },
  'media:connectTransport': {
    base: () => ({ roomId, transportId: ids.aliceTransport, dtlsParameters: dtls }),
    extra: () => [
      { roomId, transportId: ids.malloryTransport, ip: '10.0.0.1', port: 5000 },
      { roomId, transportId: ids.malloryTransport, ip: 'not-an-ip', port: 5000 },
      { roomId, transportId: ids.malloryTransport, dtlsParameters: { fingerprints: [] } },
    ],
  },
  'media:restartIce': {
    base: () => ({ roomId, transportId: ids.aliceTransport }),
    extra: () => [{ roomId, transportId: ids.malloryTransport }],
  },
  'media:setCapabilities': {
    base: () => ({ roomId: 'no-such-room', rtpCapabilities: {} }),
    extra: () => [
      {
        roomId,
        rtpCapabilities: { codecs: [{ kind: 'video', mimeType: 'video/EVIL', preferredPayloadType: 1, clockRate: 1 }] },
      },
      {
        roomId,
        rtpCapabilities: {
          codecs: Array(33).fill({
            kind: 'audio',
            mimeType: 'audio/opus',
            preferredPayloadType: 100,
            clockRate: 48000,
          }),
        },
      },
    ],
  },
  'media:produce': {
    base: () => ({ roomId, transportId: ids.aliceTransport, kind: 'video', source: 'camera', rtpParameters: vp8() }),
    extra: () => {
      const on = (rtpParameters: unknown, over: Record<string, unknown> = {}) => ({
        roomId,
        transportId: ids.malloryTransport,
        kind: 'video',
        source: 'camera',
        rtpParameters,
        ...over,
      });
      const p = vp8();
      return [
        on({ codecs: [] }),
        on({ ...p, codecs: [{ ...p.codecs[0], payloadType: 128 }] }),
        on({ ...p, codecs: [{ ...p.codecs[0], mimeType: 'video/rtx', parameters: { apt: 999 } }] }),
        on({ ...p, encodings: [{ rid: 'r0' }, { rid: 'r0' }] }),
        on({ ...p, encodings: [{ ssrc: 1 }, { ssrc: 1 }] }),
        on({
          ...p,
          headerExtensions: [
            { uri: 'urn:evil', id: 1 },
            { uri: 'urn:evil2', id: 1 },
          ],
        }),
        on({ ...p, encodings: [{ ssrc: 5, scalabilityMode: 'L9T9_KEY' }] }),
        on(opusRtpParameters(77)),
        on(p, { kind: 'audio', source: 'mic' }),
        on(p, { source: 'camera', index: 15 }),
        on({
          ...p,
          codecs: [
            { ...p.codecs[0], parameters: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])) },
          ],
        }),
      ];
    },
  },
  'media:closeProducer': { base: () => ({ roomId, producerId: ids.aliceVideo }) },
  'media:pauseProducer': { base: () => ({ roomId, producerId: ids.aliceAudio }) },
  'media:resumeProducer': { base: () => ({ roomId, producerId: ids.aliceAudio }) },
  'media:consume': {
    base: () => ({ roomId, producerId: ids.aliceVideo }),
    extra: () => [{ roomId, producerId: 'nope' }],
  },
  'media:closeConsumer': { base: () => ({ roomId, consumerId: ids.bobConsumer }) },
  'media:pauseConsumer': { base: () => ({ roomId, consumerId: ids.bobConsumer }) },
  'media:resumeConsumer': { base: () => ({ roomId, consumerId: ids.bobConsumer }) },
  'media:setPreferredLayers': {
    base: () => ({ roomId, consumerId: ids.bobConsumer, spatialLayer: 2, temporalLayer: 2 }),
    extra: () => [{ roomId, consumerId: ids.bobConsumer, spatialLayer: 99 }],
  },
  'media:setPriority': {
    base: () => ({ roomId, consumerId: ids.bobConsumer, priority: 255 }),
    extra: () => [{ roomId, consumerId: ids.bobConsumer, priority: 0 }],
  },
  'media:requestKeyFrame': { base: () => ({ roomId, consumerId: ids.bobConsumer }) },
  'media:getStats': {
    base: () => ({ roomId, type: 'consumer', id: ids.bobConsumer }),
    extra: () => [
      { roomId, type: 'transport', id: ids.aliceTransport },
      { roomId, type: 'router', id: 'x' },
    ],
  },
};

const HOSTILE_VALUES: unknown[] = [
  null,
  42,
  -1,
  1.5,
  1e308,
  '',
  'x'.repeat(200_000),
  true,
  [],
  ['a', 'b'],
  {},
  { $ne: null },
  { __proto__: { polluted: true } },
  Array.from({ length: 5000 }, () => 'a'),
];

const TOP_LEVEL_GARBAGE: unknown[] = [undefined, null, 0, 'room', [], [{}], true, 'x'.repeat(300_000)];

async function send(event: string, payload: unknown): Promise<Ack<unknown>> {
  return request(mallory.socket, event, payload, 15_000);
}

function expectHandled(ack: Ack<unknown>, what: string): void {
  expect(ack, what).toBeTypeOf('object');
  if ('error' in ack) {
    expect(ERROR_CODES, what).toContain(ack.error.code);
    expect(ack.error.code, what).not.toBe('INTERNAL');
  }
}

describe('media fuzz', () => {
  test('every media request has fuzz cases', () => {
    const missing = Object.keys(mediaRequests).filter((name) => !Object.hasOwn(CASES, name));
    expect(missing).toEqual([]);
    expect(Object.keys(CASES).sort()).toEqual([...MEDIA_REQUEST_NAMES].sort());
  });

  test.each(MEDIA_REQUEST_NAMES.map((n) => [n]))('%s: malformed and hostile payloads get error codes', async (name) => {
    const cases = CASES[name];
    // top-level garbage and unknown keys: always INVALID_PAYLOAD
    for (const payload of TOP_LEVEL_GARBAGE) {
      const ack = await send(name, payload);
      expect(ack, `${name} ${JSON.stringify(payload)?.slice(0, 40)}`).toMatchObject({
        error: { code: 'INVALID_PAYLOAD' },
      });
    }
    const base = cases.base();
    expect(await send(name, { ...base, evil: 1 })).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    expect(await send(name, JSON.parse(`{"__proto__": {"isAdmin": true}, "roomId": "${roomId}"}`))).toMatchObject({
      error: {},
    });
    // the valid-shaped base aims at other people's ids: an error, not success
    const b = await send(name, base);
    expectHandled(b, `${name} base`);
    if (name !== 'room:leave') expect(b, `${name} base`).toHaveProperty('error');
    // every field with every wrong-typed value
    for (const key of Object.keys(base)) {
      for (const value of HOSTILE_VALUES) {
        const ack = await send(name, { ...base, [key]: value });
        expectHandled(ack, `${name}.${key}=${JSON.stringify(value)?.slice(0, 30)}`);
        expect(ack, `${name}.${key}=${JSON.stringify(value)?.slice(0, 30)}`).toHaveProperty('error');
      }
    }
    for (const payload of cases.extra?.() ?? []) {
      const ack = await send(name, payload);
      expectHandled(ack, `${name} extra ${JSON.stringify(payload).slice(0, 80)}`);
    }
    // the server still answers this connection
    expect(await call(mallory.socket, 'system:ping', { t: 1 })).toMatchObject({ t: 1 });
  });

  test('after the fuzzing: workers alive, room and other peers unaffected', async () => {
    expect(server.app.media.pool.deaths).toBe(0);
    expect(server.app.media.pool.workers()).toHaveLength(1);
    const info = await call<{ peers: Array<{ peerId: string; producers: unknown[] }> }>(alice.socket, 'room:info', {
      roomId,
    });
    const a = info.peers.find((p) => p.peerId === ids.alicePeer);
    expect(a?.producers).toHaveLength(2);
    const before = await consumerBytes(bob, roomId, ids.bobConsumer);
    await waitFor(async () => (await consumerBytes(bob, roomId, ids.bobConsumer)) > before + 5000, {
      what: 'bob keeps receiving',
    });
    // a resume with someone else's peer id never takes over their peer
    const eve = await mediaPeer(server, { name: 'Eve' });
    const ej = await eve.join(roomId, { resume: { peerId: ids.alicePeer } });
    expect(ej.resumed).toBe(false);
    expect(ej.peerId).not.toBe(ids.alicePeer);
    expect(
      await call(alice.socket, 'media:getStats', { roomId, type: 'transport', id: ids.aliceTransport }),
    ).toHaveProperty('stats');
  });
});
