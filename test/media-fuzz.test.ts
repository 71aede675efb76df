import {
  type Ack,
  docNameSchema,
  ERROR_CODES,
  type ErrorCode,
  type JoinResponse,
  MEDIA_REQUEST_NAMES,
  type MediaRequestName,
  mediaRequests,
  type RoomRecordInfo,
} from '@moim/protocol';
import { opusRtpParameters, vp8RtpParameters, waitFor } from '@moim/sfu/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { z } from 'zod';
import {
  consumerBytes,
  createRoom,
  type MediaTestPeer,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testing/testPeers.ts';
import { call, LIFTED_RATE_LIMITS, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { destroyAllClients, openDoc, synced } from './docs-support.ts';
import { PROTOTYPE_NAMES } from './support/hostile.ts';

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
/** A manager in the room with a transport each way, a producer and a consumer of their own. */
let pat: MediaTestPeer;
let roomId: string;
/** A room pat is not in (a join that succeeds must be left again). */
let otherRoomId: string;
let ids: {
  alicePeer: string;
  malloryPeer: string;
  patSend: string;
  patRecv: string;
  patAudio: string;
  patConsumer: string;
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
    ...LIFTED_RATE_LIMITS,
  });
  alice = await mediaPeer(server, { name: 'Alice', role: 'manager' });
  bob = await mediaPeer(server, { name: 'Bob' });
  mallory = await mediaPeer(server, { name: 'Mallory' });
  ({ roomId } = await createRoom(alice, 'standard'));
  const aj = await alice.join(roomId);
  const bj = await bob.join(roomId);
  const mj = await mallory.join(roomId);
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
  pat = await mediaPeer(server, { name: 'Pat', role: 'manager' });
  const pj = await pat.join(roomId);
  const patPub = await publishPlain(pat, roomId, { audio: 9003, start: false });
  stops.push(() => patPub.gen.close());
  const patSub = await subscribePlain(pat, roomId, pj.routerRtpCapabilities);
  stops.push(() => patSub.sink.close());
  await waitFor(() => pat.consumers.length === 2, { what: "pat's consumers" });
  ({ roomId: otherRoomId } = await createRoom(pat, 'personal'));
  ids = {
    alicePeer: aj.peerId,
    malloryPeer: mj.peerId,
    patSend: patPub.transport.transportId,
    patRecv: patSub.transport.transportId,
    patAudio: patPub.audio!,
    patConsumer: pat.consumers.find((c) => c.kind === 'video')!.consumerId,
    aliceTransport: pub.transport.transportId,
    aliceVideo: pub.video!,
    aliceAudio: pub.audio!,
    bobConsumer: bob.consumers.find((c) => c.kind === 'video')!.consumerId,
    malloryTransport: mt.transportId,
  };
});

afterAll(async () => {
  destroyAllClients();
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

  test('every media request has a payload for the prototype-name class', () => {
    expect(Object.keys(PROTO_BASE).sort()).toEqual([...MEDIA_REQUEST_NAMES].sort());
    // the walk over the schemas finds every kind of name a request carries
    const found = new Set(MEDIA_REQUEST_NAMES.flatMap((n) => namingFields(mediaRequests[n]).map((p) => p.join('.'))));
    for (const f of ['roomId', 'peerId', 'resume.peerId', 'transportId', 'producerId', 'consumerId', 'id', 'docName'])
      expect(found, f).toContain(f);
  });

  test.each(MEDIA_REQUEST_NAMES.map((n) => [n]))(
    '%s: prototype names in every field that names something are not found, never INTERNAL',
    async (name) => {
      const fields = namingFields(mediaRequests[name]);
      expect(fields.length, name).toBeGreaterThan(0);
      for (const field of fields) {
        for (const proto of PROTOTYPE_NAMES) {
          const payload = withField(PROTO_BASE[name](), field, proto);
          const what = `${name} ${field.join('.')}=${proto}`;
          const ack = await request<unknown>(pat.socket, name, payload, 15_000);
          if ('error' in ack) {
            expect(NOT_FOUND_CODES, `${what}: ${ack.error.code} ${ack.error.message}`).toContain(ack.error.code);
            continue;
          }
          // a few requests may succeed, without finding anything by that name
          const check = SUCCEEDS[name];
          expect(check, `${what} succeeded: ${JSON.stringify(ack.data).slice(0, 120)}`).toBeDefined();
          await check!(ack.data, proto);
        }
      }
      expect(await call(pat.socket, 'system:ping', { t: 1 })).toMatchObject({ t: 1 });
    },
  );

  test('rooms whose document has a prototype name open normally (join, info, the notes over /yjs)', async () => {
    // the prototype names that are document names at all (`__proto__` is not: INVALID_PAYLOAD above)
    const docNames = PROTOTYPE_NAMES.filter((n) => docNameSchema.safeParse(n).success);
    expect(docNames.length).toBeGreaterThan(3);
    expect(protoRooms.map((r) => r.docName).sort()).toEqual([...docNames].sort());
    const guest = await mediaPeer(server, { name: 'Guest' });
    for (const room of protoRooms) {
      const join = await guest.join(room.roomId);
      expect(join.room.docName).toBe(room.docName);
      const info = await call<{ docName: string; peers: unknown[] }>(pat.socket, 'room:info', { roomId: room.roomId });
      expect(info).toMatchObject({ docName: room.docName, peers: [expect.anything()] });
      // what the web app does next: open the room's notes
      const notes = openDoc(server.url, room.docName, guest.token);
      await synced(notes);
      notes.text.insert(0, `notes of ${room.docName}`);
      notes.destroy();
      expect(await call(guest.socket, 'room:leave', { roomId: room.roomId })).toEqual({ left: true });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    }
    guest.close();
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

// ---------------------------------------------------------------------------------------------
// Prototype names (issue 11 item 2): `__proto__`, `constructor`, `toString`… in every field that
// names something. A lookup in a plain object finds Object.prototype members (INTERNAL, or a
// crash); a Map or an own-property lookup finds nothing.

/** Keys that name something looked up by the server: ids, room ids, document names. */
const NAMES_SOMETHING = /^(id|docName)$|Id$/;

/** Paths of the fields of a request schema that name something (into nested objects, not arrays). */
function namingFields(schema: z.ZodType, at: string[] = []): string[][] {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
  if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType)
    return namingFields(def.innerType, at);
  if (def.type === 'object')
    return Object.entries((schema as unknown as z.ZodObject).shape).flatMap(([k, v]) =>
      namingFields(v as z.ZodType, [...at, k]),
    );
  return def.type === 'string' && NAMES_SOMETHING.test(at.at(-1) ?? '') ? [at] : [];
}

/** `payload` with the field at `path` set to `value` (nested objects created as needed). */
function withField(payload: Record<string, unknown>, path: string[], value: string): Record<string, unknown> {
  const out = structuredClone(payload);
  let o: Record<string, unknown> = out;
  for (const k of path.slice(0, -1)) {
    const next = Object.hasOwn(o, k) ? o[k] : undefined;
    if (typeof next === 'object' && next !== null) o = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      o[k] = created;
      o = created;
    }
  }
  o[path.at(-1)!] = value;
  return out;
}

/** What a request naming nothing that exists may answer. */
const NOT_FOUND_CODES: ErrorCode[] = ['NOT_FOUND', 'NOT_IN_ROOM', 'INVALID_PAYLOAD'];

/**
 * Pat's payload for each request, valid up to the name under test: pat's own room, transports,
 * producer and consumer, and mallory's peer for moderation. Each field that names something is
 * replaced in turn by a prototype name.
 */
const PROTO_BASE: Record<MediaRequestName, () => Record<string, unknown>> = {
  'room:create': () => ({ tier: 'personal' }),
  'room:info': () => ({ roomId }),
  'room:join': () => ({ roomId: otherRoomId }),
  'room:leave': () => ({ roomId }),
  'room:raiseHand': () => ({ roomId, raised: false }),
  'room:mutePeer': () => ({ roomId, peerId: ids.malloryPeer, producerId: ids.patAudio }),
  'room:stopVideo': () => ({ roomId, peerId: ids.malloryPeer, producerId: ids.patAudio }),
  'room:removePeer': () => ({ roomId, peerId: ids.malloryPeer }),
  'room:close': () => ({ roomId }),
  'media:createTransport': () => ({ roomId, direction: 'recv', kind: 'plain' }),
  'media:connectTransport': () => ({ roomId, transportId: ids.patRecv, ip: '127.0.0.1', port: 9 }),
  'media:restartIce': () => ({ roomId, transportId: ids.patSend }),
  'media:setCapabilities': () => ({ roomId, rtpCapabilities: {} }),
  'media:produce': () => ({
    roomId,
    transportId: ids.patSend,
    kind: 'audio',
    source: 'screen-audio',
    rtpParameters: opusRtpParameters(9004),
  }),
  'media:closeProducer': () => ({ roomId, producerId: ids.patAudio }),
  'media:pauseProducer': () => ({ roomId, producerId: ids.patAudio }),
  'media:resumeProducer': () => ({ roomId, producerId: ids.patAudio }),
  'media:consume': () => ({ roomId, producerId: ids.aliceVideo }),
  'media:closeConsumer': () => ({ roomId, consumerId: ids.patConsumer }),
  'media:pauseConsumer': () => ({ roomId, consumerId: ids.patConsumer }),
  'media:resumeConsumer': () => ({ roomId, consumerId: ids.patConsumer }),
  'media:setPreferredLayers': () => ({ roomId, consumerId: ids.patConsumer, spatialLayer: 0 }),
  'media:setPriority': () => ({ roomId, consumerId: ids.patConsumer, priority: 1 }),
  'media:requestKeyFrame': () => ({ roomId, consumerId: ids.patConsumer }),
  'media:getStats': () => ({ roomId, type: 'consumer', id: ids.patConsumer }),
};

/** Rooms created with a prototype-named document (opened by a later test). */
const protoRooms: RoomRecordInfo[] = [];

/** The requests that may succeed with a prototype name, and what they must (not) have done. */
const SUCCEEDS: Partial<Record<MediaRequestName, (data: unknown, proto: string) => Promise<void>>> = {
  // a document may have any valid name: the room keeps it as given
  'room:create': async (data, proto) => {
    const room = data as RoomRecordInfo;
    expect(room.docName).toBe(proto);
    protoRooms.push(room);
  },
  // leaving a room one is not in leaves nothing
  'room:leave': async (data) => {
    expect(data).toEqual({ left: false });
  },
  // resuming a peer that does not exist joins as a new peer (then leave again)
  'room:join': async (data) => {
    const join = data as JoinResponse;
    expect(join.resumed).toBe(false);
    expect(join.room.roomId).toBe(otherRoomId);
    expect(await call(pat.socket, 'room:leave', { roomId: otherRoomId })).toEqual({ left: true });
  },
};
