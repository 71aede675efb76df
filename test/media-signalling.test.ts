import { waitFor } from '@moim/sfu/testing';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  consumerBytes,
  createRoom,
  type MediaTestPeer,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testing/testPeers.ts';
import { call, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
const stops: Array<() => void> = [];

beforeEach(async () => {
  server = await startTestServer({ MOIM_SFU_ALLOW_PLAIN: 'true' });
});
afterEach(async () => {
  for (const s of stops.splice(0)) s();
  await server.close();
});

async function twoInRoom(tier: 'personal' | 'standard' | 'immersive' = 'standard') {
  const alice = await mediaPeer(server, { name: 'Alice', role: 'manager' });
  const bob = await mediaPeer(server, { name: 'Bob' });
  const { roomId } = await createRoom(alice, tier);
  const aj = await alice.join(roomId);
  const bj = await bob.join(roomId);
  return { alice, bob, roomId, aj, bj };
}

describe('media signalling over socket.io with a real worker', () => {
  test('rooms are stored with tier, owner and linked document; creating needs the tier grant', async () => {
    const member = await mediaPeer(server, { name: 'Member' });
    const ack = await request(member.socket, 'room:create', { tier: 'immersive' });
    expect(ack).toMatchObject({ error: { code: 'TIER_NOT_ALLOWED' } });
    const room = await createRoom(member, 'personal');
    expect(room.docName).toBe(`room-${room.roomId}-notes`);
    const other = await createRoom(member, 'personal');
    expect(other.roomId).not.toBe(room.roomId);
    const info = await call<{ tier: string; ownerSub: string }>(member.socket, 'room:info', { roomId: room.roomId });
    expect(info.tier).toBe('personal');
    // a client cannot change the tier: there is no such request, and unknown keys are refused
    expect(await request(member.socket, 'room:join', { roomId: room.roomId, tier: 'immersive' })).toMatchObject({
      error: { code: 'INVALID_PAYLOAD' },
    });
    const join = await member.join(room.roomId);
    expect(join.room.docName).toBe(room.docName);
    expect(join.room.tier).toBe('personal');
    expect(join.routerRtpCapabilities).toBeTruthy();
    expect(join.profile.cameraEncodings).toHaveLength(1);
    // one connection joins a room once, even when it asks twice at the same time
    const twice = await Promise.all([
      request(member.socket, 'room:join', { roomId: other.roomId }),
      request(member.socket, 'room:join', { roomId: other.roomId }),
    ]);
    expect(twice.filter((a) => 'data' in a)).toHaveLength(1);
    expect(twice.find((a) => 'error' in a)).toMatchObject({ error: { code: 'CONFLICT' } });
    expect(await request(member.socket, 'room:join', { roomId: 'no-such-room' })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
  });

  test('a plain subscriber can take SRTP, as WebRTC clients get it', async () => {
    const { alice, bob, roomId, bj } = await twoInRoom();
    const pub = await publishPlain(alice, roomId, { video: [3333] });
    stops.push(() => pub.gen.close());
    // SRTP is for plain transports only, and an SRTP transport needs the far end's key
    expect(await request(bob.socket, 'media:createTransport', { roomId, direction: 'recv', srtp: true })).toMatchObject(
      {
        error: { code: 'INVALID_PAYLOAD' },
      },
    );
    // a crypto suite only with srtp, and only a known one
    for (const bad of [
      { kind: 'plain', srtpCryptoSuite: 'AEAD_AES_256_GCM' },
      { kind: 'plain', srtp: true, srtpCryptoSuite: 'AES_256_CBC' },
      { srtp: true, srtpCryptoSuite: 'AEAD_AES_256_GCM' },
    ]) {
      expect(await request(bob.socket, 'media:createTransport', { roomId, direction: 'recv', ...bad })).toMatchObject({
        error: { code: 'INVALID_PAYLOAD' },
      });
    }
    const keyless = await call<{ transportId: string; srtpParameters?: { cryptoSuite: string } }>(
      bob.socket,
      'media:createTransport',
      { roomId, direction: 'send', kind: 'plain', srtp: true },
    );
    // without a suite: AES_CM_128_HMAC_SHA1_80
    expect(keyless.srtpParameters?.cryptoSuite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(
      await request(bob.socket, 'media:connectTransport', { roomId, transportId: keyless.transportId }),
    ).toMatchObject({
      error: { code: 'INVALID_PAYLOAD' },
    });
    // the suite Chromium negotiates with a WebRtcTransport
    const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities, {
      srtp: true,
      srtpCryptoSuite: 'AEAD_AES_256_GCM',
    });
    stops.push(() => sub.sink.close());
    expect(sub.transport.srtpParameters?.cryptoSuite).toBe('AEAD_AES_256_GCM');
    expect(Buffer.from(sub.transport.srtpParameters!.keyBase64, 'base64')).toHaveLength(44);
    await waitFor(() => bob.consumers.length === 1, { what: 'a consumer' });
    const c = bob.consumers[0]!;
    await waitFor(async () => (await consumerBytes(bob, roomId, c.consumerId)) > 5000, { what: 'SRTP bytes' });
    await waitFor(() => sub.sink.bytes > 5000, { what: 'bytes at the SRTP receiver' });
  });

  test('a peer publishes generated RTP and another peer’s consumer receives it', async () => {
    const { alice, bob, roomId, aj, bj } = await twoInRoom();
    expect(bj.peers.map((p) => p.displayName)).toEqual(['Alice']);
    const pub = await publishPlain(alice, roomId, { video: [1111], audio: 2222 });
    stops.push(() => pub.gen.close());
    const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    await waitFor(() => bob.consumers.length === 2, { what: 'two consumers' });
    // consumers arrive paused (resumed after the acknowledgement) and name the producing peer
    expect(bob.consumers.every((c) => c.paused && c.peerId === aj.peerId)).toBe(true);
    for (const c of bob.consumers) {
      await waitFor(async () => (await consumerBytes(bob, roomId, c.consumerId)) > 5000, { what: `${c.kind} bytes` });
    }
    await waitFor(
      () =>
        bob.consumers.every(
          (c) =>
            (sub.sink.bySsrc.get((c.rtpParameters as { encodings: Array<{ ssrc: number }> }).encodings[0]!.ssrc) ?? 0) >
            20,
        ),
      { what: 'both streams at the UDP sink' },
    );
    await bob.waitEvent('media:audioLevels', (e: { levels: Array<{ producerId: string }> }) =>
      e.levels.some((l) => l.producerId === pub.audio),
    );
    await bob.waitEvent('media:activeSpeaker', (e: { producerId: string }) => e.producerId === pub.audio);

    // pause/resume a producer → consumers hear about it
    await call(alice.socket, 'media:pauseProducer', { roomId, producerId: pub.video });
    await bob.waitEvent('media:producerPaused', (e: { producerId: string }) => e.producerId === pub.video);
    await call(alice.socket, 'media:resumeProducer', { roomId, producerId: pub.video });
    await bob.waitEvent('media:producerResumed', (e: { producerId: string }) => e.producerId === pub.video);
    // consumer controls
    const video = bob.consumers.find((c) => c.kind === 'video')!;
    expect(
      await call(bob.socket, 'media:setPriority', { roomId, consumerId: video.consumerId, priority: 200 }),
    ).toEqual({
      priority: 200,
    });
    expect(await call(bob.socket, 'media:requestKeyFrame', { roomId, consumerId: video.consumerId })).toEqual({
      requested: true,
    });
    await call(bob.socket, 'media:pauseConsumer', { roomId, consumerId: video.consumerId });
    await call(bob.socket, 'media:resumeConsumer', { roomId, consumerId: video.consumerId });
    await call(bob.socket, 'media:closeConsumer', { roomId, consumerId: video.consumerId });
    const again = await call<{ consumerId: string; paused: boolean }>(bob.socket, 'media:consume', {
      roomId,
      producerId: pub.video,
    });
    expect(again.paused).toBe(true);
    // closing the producer closes the consumer
    await call(alice.socket, 'media:closeProducer', { roomId, producerId: pub.video });
    await bob.waitEvent('media:consumerClosed', (e: { consumerId: string }) => e.consumerId === again.consumerId);
    // leaving
    await call(alice.socket, 'room:leave', { roomId });
    await bob.waitEvent('room:peerLeft', (e: { reason: string }) => e.reason === 'left');
  });

  test('server-created consumers stay paused until the client acknowledges them', async () => {
    const { alice, bob, roomId, bj } = await twoInRoom();
    bob.autoAck = false;
    const pub = await publishPlain(alice, roomId, { video: [1212] });
    stops.push(() => pub.gen.close());
    const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    const c = await waitFor(() => bob.consumers[0], { what: 'consumer' });
    expect(c.paused).toBe(true);
    // the producer is sending, but nothing reaches the paused consumer
    await waitFor(async () => {
      const { stats } = await call<{ stats: Array<{ type: string; byteCount: number }> }>(
        alice.socket,
        'media:getStats',
        {
          roomId,
          type: 'producer',
          id: pub.video,
        },
      );
      return (stats[0]?.byteCount ?? 0) > 5000;
    });
    expect(await consumerBytes(bob, roomId, c.consumerId)).toBe(0);
    await call(bob.socket, 'media:resumeConsumer', { roomId, consumerId: c.consumerId });
    await waitFor(async () => (await consumerBytes(bob, roomId, c.consumerId)) > 5000, { what: 'bytes after resume' });
  });

  test('simulcast: consumerLayersChanged follows setPreferredLayers up and down', async () => {
    const { alice, bob, roomId, bj } = await twoInRoom('standard');
    const pub = await publishPlain(alice, roomId, {
      video: [4001, 4002, 4003],
      maxBitrates: [150_000, 500_000, 1_500_000],
    });
    stops.push(() => pub.gen.close());
    const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    const c = await waitFor(() => bob.consumers[0], { what: 'consumer' });
    expect(c.type).toBe('simulcast');
    const layer = (spatialLayer: number) =>
      bob.waitEvent(
        'media:consumerLayersChanged',
        (e: { consumerId: string; spatialLayer: number }) =>
          e.consumerId === c.consumerId && e.spatialLayer === spatialLayer,
        20_000,
      );
    await layer(1);
    bob.events.length = 0;
    expect(
      await call(bob.socket, 'media:setPreferredLayers', { roomId, consumerId: c.consumerId, spatialLayer: 2 }),
    ).toMatchObject({
      spatialLayer: 2,
    });
    await layer(2);
    bob.events.length = 0;
    await call(bob.socket, 'media:setPreferredLayers', {
      roomId,
      consumerId: c.consumerId,
      spatialLayer: 0,
      temporalLayer: 0,
    });
    await layer(0);
  });

  test('every request re-checks the caller’s grants', async () => {
    const owner = await mediaPeer(server, { name: 'Owner' });
    const alice = await mediaPeer(server, { name: 'Alice', role: 'manager' });
    const { roomId } = await createRoom(owner);
    const oj = await owner.join(roomId);
    await alice.join(roomId);
    // with the manager's moderate grant Alice may moderate (the target must exist)
    expect(await request(alice.socket, 'room:mutePeer', { roomId, peerId: oj.peerId })).toEqual({
      data: { paused: [] },
    });
    // Alice's token is swapped (same person) for one without publish in this room.
    const narrow = await server.token({
      name: 'Alice',
      role: 'manager',
      grants: { rooms: { [roomId]: ['join', 'subscribe'] } },
    });
    await call(alice.socket, 'system:auth', { token: narrow });
    expect(
      await request(alice.socket, 'media:createTransport', { roomId, direction: 'send', kind: 'plain' }),
    ).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(await request(alice.socket, 'room:mutePeer', { roomId, peerId: oj.peerId })).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
    // subscribe is still allowed
    expect(
      await request(alice.socket, 'media:createTransport', { roomId, direction: 'recv', kind: 'plain' }),
    ).toHaveProperty('data');
    // and with no grant for the room at all, nothing works
    const none = await server.token({ name: 'Alice', role: 'manager', grants: { rooms: {} } });
    await call(alice.socket, 'system:auth', { token: none });
    expect(await request(alice.socket, 'room:raiseHand', { roomId, raised: true })).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
    // plain transports are a server option
    await server.close();
    server = await startTestServer();
    const p = await mediaPeer(server, { name: 'P' });
    const { roomId: r2 } = await createRoom(p);
    await p.join(r2);
    expect(
      await request(p.socket, 'media:createTransport', { roomId: r2, direction: 'send', kind: 'plain' }),
    ).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  test('raise and lower hand are seen by everyone', async () => {
    const { alice, bob, roomId, bj } = await twoInRoom();
    await call(bob.socket, 'room:raiseHand', { roomId, raised: true });
    await alice.waitEvent(
      'room:handRaised',
      (e: { peerId: string; raised: boolean }) => e.peerId === bj.peerId && e.raised,
    );
    const info = await call<{ peers: Array<{ peerId: string; handRaised: boolean }> }>(alice.socket, 'room:info', {
      roomId,
    });
    expect(info.peers.find((p) => p.peerId === bj.peerId)?.handRaised).toBe(true);
    await call(bob.socket, 'room:raiseHand', { roomId, raised: false });
    await alice.waitEvent(
      'room:handRaised',
      (e: { peerId: string; raised: boolean }) => e.peerId === bj.peerId && !e.raised,
    );
  });

  test('moderation: mute, stop camera, remove (cannot rejoin), close room', async () => {
    const { alice, bob, roomId, bj } = await twoInRoom();
    const carol = await mediaPeer(server, { name: 'Carol' });
    const cj = await carol.join(roomId);
    const pub = await publishPlain(bob, roomId, { video: [5001], audio: 5002 });
    stops.push(() => pub.gen.close());
    const sub = await subscribePlain(carol, roomId, cj.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    await waitFor(() => carol.consumers.length === 2, { what: 'consumers' });

    // a member cannot moderate
    expect(await request(carol.socket, 'room:mutePeer', { roomId, peerId: bj.peerId })).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
    // mute: Bob's audio is paused server-side; Bob and the subscribers are told
    expect(await call(alice.socket, 'room:mutePeer', { roomId, peerId: bj.peerId })).toEqual({ paused: [pub.audio] });
    await bob.waitEvent(
      'media:producerPaused',
      (e: { producerId: string; byModerator?: boolean }) => e.producerId === pub.audio && e.byModerator === true,
    );
    await carol.waitEvent('media:producerPaused', (e: { producerId: string }) => e.producerId === pub.audio);
    // stop camera: the producer is closed
    expect(await call(alice.socket, 'room:stopVideo', { roomId, peerId: bj.peerId })).toEqual({ closed: [pub.video] });
    await bob.waitEvent('media:producerClosed', (e: { producerId: string }) => e.producerId === pub.video);
    await carol.waitEvent('media:consumerClosed', (e: { producerId: string }) => e.producerId === pub.video);
    // remove: Bob is told, others see him leave, and he cannot come back (even with a new token)
    expect(await call(alice.socket, 'room:removePeer', { roomId, peerId: bj.peerId, reason: 'test' })).toEqual({
      removed: true,
    });
    await bob.waitEvent('room:removed', (e: { reason: string }) => e.reason === 'test');
    await carol.waitEvent(
      'room:peerLeft',
      (e: { peerId: string; reason: string }) => e.peerId === bj.peerId && e.reason === 'removed',
    );
    expect(await request(bob.socket, 'room:join', { roomId })).toMatchObject({ error: { code: 'PEER_REMOVED' } });
    const bob2 = await mediaPeer(server, { name: 'Bob' });
    expect(await request(bob2.socket, 'room:join', { roomId })).toMatchObject({ error: { code: 'PEER_REMOVED' } });
    expect(
      await request(bob.socket, 'media:produce', {
        roomId,
        transportId: pub.transport.transportId,
        kind: 'audio',
        source: 'mic',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }] },
      }),
    ).toMatchObject({ error: { code: 'NOT_IN_ROOM' } });
    // close: everyone is told; the room cannot be joined again
    expect(await call(alice.socket, 'room:close', { roomId })).toEqual({ closed: true });
    await carol.waitEvent('room:closed', (e: { reason: string }) => e.reason === 'ROOM_CLOSED');
    expect(await request(carol.socket, 'room:join', { roomId })).toMatchObject({ error: { code: 'ROOM_CLOSED' } });
    const audit = await server.app.stores.audit.list({
      limit: 100,
      actor: (await call<{ sub: string }>(alice.socket, 'system:whoami', {})).sub,
    });
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['room.create', 'room.mute-peer', 'room.stop-video', 'room.remove-peer', 'room.close']),
    );
  });

  test('tier limits are enforced with codes', async () => {
    const owner = await mediaPeer(server, { name: 'Owner' });
    const { roomId } = await createRoom(owner, 'personal');
    const peers: MediaTestPeer[] = [owner];
    await owner.join(roomId);
    for (let i = 1; i < 4; i++) {
      const p = await mediaPeer(server, { name: `Guest ${i}` });
      await p.join(roomId);
      peers.push(p);
    }
    const fifth = await mediaPeer(server, { name: 'Guest 5' });
    expect(await request(fifth.socket, 'room:join', { roomId })).toMatchObject({ error: { code: 'ROOM_FULL' } });

    const pub = await publishPlain(owner, roomId, { video: [6001], start: false });
    stops.push(() => pub.gen.close());
    const produce = (over: Record<string, unknown>) =>
      request(owner.socket, 'media:produce', {
        roomId,
        transportId: pub.transport.transportId,
        kind: 'video',
        source: 'camera',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
          encodings: [{ ssrc: 6100 + Math.floor(Math.random() * 100) }],
        },
        ...over,
      });
    expect(await produce({})).toMatchObject({ error: { code: 'TOO_MANY_PRODUCERS' } });
    expect(
      await produce({
        source: 'screen',
        rtpParameters: {
          codecs: [{ mimeType: 'video/AV1', payloadType: 45, clockRate: 90000 }],
          encodings: [{ ssrc: 7 }],
        },
      }),
    ).toMatchObject({
      error: { code: 'CODEC_NOT_ALLOWED' },
    });
    expect(
      await produce({
        source: 'screen',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
          encodings: [{ ssrc: 8 }, { ssrc: 9 }],
        },
      }),
    ).toMatchObject({ error: { code: 'ENCODINGS_NOT_ALLOWED' } });
    expect(
      await produce({
        source: 'screen',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
          encodings: [{ ssrc: 10, maxBitrate: 20_000_000 }],
        },
      }),
    ).toMatchObject({ error: { code: 'BITRATE_NOT_ALLOWED' } });
    for (let i = 0; i < 3; i++) {
      expect(
        await request(owner.socket, 'media:createTransport', { roomId, direction: 'recv', kind: 'plain' }),
      ).toHaveProperty('data');
    }
    expect(
      await request(owner.socket, 'media:createTransport', { roomId, direction: 'recv', kind: 'plain' }),
    ).toMatchObject({
      error: { code: 'TOO_MANY_TRANSPORTS' },
    });
  });
});
