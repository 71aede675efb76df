import { randomUUID } from 'node:crypto';
import {
  type Ack,
  MEDIA_REQUEST_NAMES,
  type MediaRequestName,
  type PeerInfo,
  type RoomRecordInfo,
} from '@moim/protocol';
import { opusRtpParameters, waitFor } from '@moim/sfu/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  consumerBytes,
  createRoom,
  type MediaTestPeer,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testing/testPeers.ts';
import { call, LIFTED_RATE_LIMITS, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';

/**
 * Issue 11 item 5 (rooms): a room belongs to its creator's organisation. With the default
 * wildcard grants, with a grant naming the room, as its owner's `sub`, or as a manager, a person
 * of another org is refused every room request and moderation action exactly as for a room that
 * does not exist (NOT_FOUND / NOT_IN_ROOM, the same message), and the room is left as it was.
 * The requests come from the protocol's registry, so a new one without a case fails here.
 */

let server: TestServer;
let alice: MediaTestPeer; // acme, manager, owner of the room
let bob: MediaTestPeer; // acme, member
let roomId: string;
let ids: {
  alicePeer: string;
  bobPeer: string;
  aliceSend: string;
  aliceVideo: string;
  aliceAudio: string;
  bobRecv: string;
  bobConsumer: string;
};
/** People of org `evil`, each trying every request on acme's room. */
let intruders: Array<{ what: string; peer: MediaTestPeer }>;
const stops: Array<() => void> = [];
/** A room id nobody has (the intruder with a grant naming acme's room has one for this too). */
const NO_SUCH_ROOM = `no-room-${randomUUID()}`;
const ALL_GRANTS = ['join', 'publish', 'subscribe', 'moderate'];

beforeAll(async () => {
  server = await startTestServer({
    MOIM_SFU_ALLOW_PLAIN: 'true',
    ...LIFTED_RATE_LIMITS,
  });
  alice = await mediaPeer(
    server,
    { name: 'Alice' },
    await server.token({ name: 'Alice', role: 'manager', org: 'acme', sub: 'alice' }),
  );
  bob = await mediaPeer(server, { name: 'Bob' }, await server.token({ name: 'Bob', org: 'acme', sub: 'bob' }));
  ({ roomId } = await createRoom(alice, 'standard'));
  const aj = await alice.join(roomId);
  const bj = await bob.join(roomId);
  const pub = await publishPlain(alice, roomId, { video: [7001], audio: 7002 });
  stops.push(() => pub.gen.close());
  const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
  stops.push(() => sub.sink.close());
  await waitFor(() => bob.consumers.length === 2, { what: "bob's consumers" });
  ids = {
    alicePeer: aj.peerId,
    bobPeer: bj.peerId,
    aliceSend: pub.transport.transportId,
    aliceVideo: pub.video!,
    aliceAudio: pub.audio!,
    bobRecv: sub.transport.transportId,
    bobConsumer: bob.consumers.find((c) => c.kind === 'video')!.consumerId,
  };
  const evil = async (what: string, claims: Record<string, unknown>) => ({
    what,
    peer: await mediaPeer(server, { name: what }, await server.token({ name: what, org: 'evil', ...claims })),
  });
  intruders = [
    // the default grants of a manager: every room, moderate included
    await evil('evil manager', { role: 'manager' }),
    // the same `sub` as acme's owner (a sub is only unique inside its org)
    await evil('evil alice', { role: 'member', sub: 'alice' }),
    await evil('evil bob', { role: 'member', sub: 'bob' }),
    // a grant that names acme's room: grants never cross organisations
    await evil('evil with a grant for the room', {
      role: 'admin',
      grants: {
        rooms: { [roomId]: ALL_GRANTS, [NO_SUCH_ROOM]: ALL_GRANTS },
        chat: true,
        createRooms: ['personal'],
      },
    }),
  ];
});

afterAll(async () => {
  for (const s of stops) s();
  await server?.close();
});

/** Each request aimed at acme's room and acme's peers, transports, producers and consumers. */
const AIMED_AT_ACME: Record<MediaRequestName, () => Record<string, unknown>> = {
  'room:create': () => ({ tier: 'personal' }), // not aimed: checked on its own below
  'room:info': () => ({ roomId }),
  'room:join': () => ({ roomId, displayName: 'Alice', resume: { peerId: ids.alicePeer } }),
  'room:leave': () => ({ roomId }),
  'room:raiseHand': () => ({ roomId, raised: true }),
  'room:mutePeer': () => ({ roomId, peerId: ids.alicePeer }),
  'room:stopVideo': () => ({ roomId, peerId: ids.alicePeer, producerId: ids.aliceVideo }),
  'room:removePeer': () => ({ roomId, peerId: ids.bobPeer, reason: 'cross-org' }),
  'room:close': () => ({ roomId }),
  'media:createTransport': () => ({ roomId, direction: 'recv', kind: 'plain' }),
  'media:connectTransport': () => ({ roomId, transportId: ids.bobRecv, ip: '127.0.0.1', port: 9 }),
  'media:restartIce': () => ({ roomId, transportId: ids.aliceSend }),
  'media:setCapabilities': () => ({ roomId, rtpCapabilities: {} }),
  'media:produce': () => ({
    roomId,
    transportId: ids.aliceSend,
    kind: 'audio',
    source: 'screen-audio',
    rtpParameters: opusRtpParameters(7003),
  }),
  'media:closeProducer': () => ({ roomId, producerId: ids.aliceVideo }),
  'media:pauseProducer': () => ({ roomId, producerId: ids.aliceAudio }),
  'media:resumeProducer': () => ({ roomId, producerId: ids.aliceAudio }),
  'media:consume': () => ({ roomId, producerId: ids.aliceVideo }),
  'media:closeConsumer': () => ({ roomId, consumerId: ids.bobConsumer }),
  'media:pauseConsumer': () => ({ roomId, consumerId: ids.bobConsumer }),
  'media:resumeConsumer': () => ({ roomId, consumerId: ids.bobConsumer }),
  'media:setPreferredLayers': () => ({ roomId, consumerId: ids.bobConsumer, spatialLayer: 0 }),
  'media:setPriority': () => ({ roomId, consumerId: ids.bobConsumer, priority: 1 }),
  'media:requestKeyFrame': () => ({ roomId, consumerId: ids.bobConsumer }),
  'media:getStats': () => ({ roomId, type: 'consumer', id: ids.bobConsumer }),
};

/** What acme sees of its room: peers, hands, producers and whether they are paused; record and bans. */
async function acmeState() {
  const info = await call<RoomRecordInfo & { peers: PeerInfo[] }>(alice.socket, 'room:info', { roomId });
  const record = await server.app.stores.rooms.get('acme', roomId);
  return {
    record,
    peers: info.peers
      .map((p) => ({ ...p, producers: [...p.producers].sort((a, b) => a.producerId.localeCompare(b.producerId)) }))
      .sort((a, b) => a.peerId.localeCompare(b.peerId)),
    bobBanned: await server.app.stores.rooms.isBanned(roomId, 'bob'),
    aliceBanned: await server.app.stores.rooms.isBanned(roomId, 'alice'),
  };
}

const moderationAudit = async () =>
  (await server.app.stores.audit.list({ limit: 1000 })).filter(
    (e) => e.action.startsWith('room.') && e.action !== 'room.create',
  );

describe('rooms are scoped by organisation', () => {
  test('every request has a case aimed at the other organisation', () => {
    expect(Object.keys(AIMED_AT_ACME).sort()).toEqual([...MEDIA_REQUEST_NAMES].sort());
  });

  test.each(MEDIA_REQUEST_NAMES.filter((n) => n !== 'room:create').map((n) => [n]))(
    '%s on another org’s room: refused as if the room did not exist, nothing changes',
    async (name) => {
      const before = await acmeState();
      const auditBefore = (await moderationAudit()).length;
      for (const { what, peer } of intruders) {
        const payload = AIMED_AT_ACME[name]();
        const ack = await request<unknown>(peer.socket, name, payload, 15_000);
        // the same request on a room id nobody has: the answer must not tell the two apart
        const twin = await request<unknown>(peer.socket, name, { ...payload, roomId: NO_SUCH_ROOM }, 15_000);
        expect(ack, `${what}: ${name}`).toEqual(twin);
        if (name === 'room:leave') expect(ack, what).toEqual({ data: { left: false } });
        else
          expect(['NOT_FOUND', 'NOT_IN_ROOM'], `${what}: ${name} ${JSON.stringify(ack)}`).toContain(
            (ack as Extract<Ack<unknown>, { error: unknown }>).error?.code,
          );
      }
      expect(await acmeState()).toEqual(before);
      expect((await moderationAudit()).length).toBe(auditBefore);
      // nothing of acme's room reached the intruders
      for (const { peer } of intruders)
        expect(peer.events.filter((e) => JSON.stringify(e.payload ?? null).includes(roomId))).toEqual([]);
    },
  );

  test('room:create stores the creator’s org: the other org cannot find the room', async () => {
    const evil = intruders[0]!.peer;
    const { roomId: evilRoom } = await createRoom(evil, 'personal');
    expect((await server.app.stores.rooms.get('evil', evilRoom))?.org).toBe('evil');
    expect(await server.app.stores.rooms.get('acme', evilRoom)).toBeUndefined();
    expect(await request(alice.socket, 'room:info', { roomId: evilRoom })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    expect(await request(alice.socket, 'room:join', { roomId: evilRoom })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    expect(await call(evil.socket, 'room:info', { roomId: evilRoom })).toMatchObject({ roomId: evilRoom, peers: [] });
  });

  test('acme carries on: media flows, and acme’s own moderator can moderate (the cases were valid)', async () => {
    const before = await consumerBytes(bob, roomId, ids.bobConsumer);
    await waitFor(async () => (await consumerBytes(bob, roomId, ids.bobConsumer)) > before + 5000, {
      what: 'bob keeps receiving',
    });
    expect(intruders.every(({ peer }) => peer.socket.connected)).toBe(true);
    // the same moderation payload from acme's manager succeeds
    const carol = await mediaPeer(
      server,
      { name: 'Carol' },
      await server.token({ name: 'Carol', role: 'manager', org: 'acme', sub: 'carol' }),
    );
    expect(await call(carol.socket, 'room:mutePeer', AIMED_AT_ACME['room:mutePeer']())).toEqual({
      paused: [ids.aliceAudio],
    });
    expect((await moderationAudit()).map((e) => [e.action, e.actor, e.detail?.org])).toEqual([
      ['room.mute-peer', 'carol', 'acme'],
    ]);
  });
});
