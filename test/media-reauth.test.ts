import type { JoinResponse, PeerInfo } from '@moim/protocol';
import { type RtpSink, waitFor } from '@moim/sfu/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Principal } from '../server/src/auth/Principal.ts';
import type { MediaChannel } from '../server/src/media/MediaService.ts';
import {
  createRoom,
  type MediaTestPeer,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testing/testPeers.ts';
import { call, LIFTED_RATE_LIMITS, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';

/**
 * Issue 11 item 7 (rooms): after `system:auth` with a token for the same person that no longer
 * allows a room (its grant withdrawn, or another organisation), the connection leaves the room
 * before the refresh is answered: its peer closes (its media stops), it is told `room:removed`,
 * the others see `room:peerLeft`. A refresh that still allows the room changes nothing, and a
 * join that was under way during the refresh is checked again with the new token.
 */

let server: TestServer;
let host: MediaTestPeer;
const stops: Array<() => void> = [];

beforeAll(async () => {
  server = await startTestServer({
    MOIM_SFU_ALLOW_PLAIN: 'true',
    ...LIFTED_RATE_LIMITS,
  });
  host = await mediaPeer(server, { name: 'Host' }, await tokenFor('host', { role: 'manager' }));
});

afterAll(async () => {
  for (const s of stops) s();
  await server?.close();
});

let n = 0;
function tokenFor(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return server.token({ name: sub, sub, org: 'acme', ...claims });
}

/** A room with the host publishing audio and video, and `sub` joined and receiving both. */
async function roomWithGuest(sub: string, claims: Record<string, unknown> = {}) {
  const { roomId } = await createRoom(host, 'standard');
  await host.join(roomId);
  const pub = await publishPlain(host, roomId, { video: [8000 + ++n * 10], audio: 8001 + n * 10 });
  stops.push(() => pub.gen.close());
  const guest = await mediaPeer(server, { name: sub }, await tokenFor(sub, claims));
  const join = await guest.join(roomId);
  const { sink } = await subscribePlain(guest, roomId, join.routerRtpCapabilities);
  stops.push(() => sink.close());
  await waitFor(() => guest.consumers.length === 2, { what: 'consumers' });
  await receiving(sink);
  return { roomId, guest, peerId: join.peerId, sink };
}

/** RTP keeps arriving at the sink. */
async function receiving(sink: RtpSink): Promise<void> {
  const before = sink.packets;
  await waitFor(() => sink.packets > before + 20, { what: 'RTP at the sink' });
}

/** No RTP arrives at the sink any more. */
async function silent(sink: RtpSink): Promise<void> {
  await new Promise((r) => setTimeout(r, 300)); // packets already in flight
  const before = sink.packets;
  await new Promise((r) => setTimeout(r, 700));
  expect(sink.packets - before).toBe(0);
}

async function peersOf(roomId: string): Promise<PeerInfo[]> {
  return (await call<{ peers: PeerInfo[] }>(host.socket, 'room:info', { roomId })).peers;
}

/** Refresh `peer`'s token; returns the events it received before the answer (they are in order). */
async function refresh(peer: MediaTestPeer, token: string): Promise<string[]> {
  const seen = peer.events.length;
  const ack = await request<{ expiresAt: number }>(peer.socket, 'system:auth', { token });
  expect(ack).toHaveProperty('data.expiresAt');
  return peer.events.slice(seen).map((e) => e.event);
}

/** The checks shared by every refresh that withdraws the room. */
async function expectLeft(room: Awaited<ReturnType<typeof roomWithGuest>>, beforeAnswer: string[]) {
  const { roomId, guest, peerId, sink } = room;
  // told before `system:auth` was answered
  expect(beforeAnswer).toContain('room:removed');
  expect(guest.events.find((e) => e.event === 'room:removed')?.payload).toMatchObject({ roomId });
  await host.waitEvent('room:peerLeft', (e: { peerId: string }) => e.peerId === peerId);
  expect(
    host.events.find((e) => e.event === 'room:peerLeft' && (e.payload as { peerId: string }).peerId === peerId)
      ?.payload,
  ).toMatchObject({ roomId, reason: 'removed' });
  expect((await peersOf(roomId)).map((p) => p.peerId)).not.toContain(peerId);
  expect(server.app.media.liveRoom(roomId)?.getPeer(peerId)).toBeUndefined();
  // the peer's media is gone, and its requests find no peer
  await silent(sink);
  expect(
    await request(guest.socket, 'media:getStats', { roomId, type: 'consumer', id: guest.consumers[0]!.consumerId }),
  ).toMatchObject({ error: {} });
  expect(await call(guest.socket, 'room:leave', { roomId })).toEqual({ left: false });
}

describe('a token refresh re-evaluates room membership', () => {
  test('the join grant withdrawn: the connection leaves the room', async () => {
    const room = await roomWithGuest('gina', { grants: { rooms: { '*': ['join', 'subscribe'] } } });
    const before = await refresh(room.guest, await tokenFor('gina', { grants: { rooms: {}, chat: true } }));
    await expectLeft(room, before);
    // and the new token cannot join again
    expect(await request(room.guest.socket, 'room:join', { roomId: room.roomId })).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
  });

  test('only another room granted: the connection leaves this one', async () => {
    const room = await roomWithGuest('gus');
    const before = await refresh(
      room.guest,
      await tokenFor('gus', { grants: { rooms: { 'another-room': ['join'] } } }),
    );
    await expectLeft(room, before);
  });

  test('another organisation: the connection leaves the room (a grant never crosses orgs)', async () => {
    const room = await roomWithGuest('greta');
    // the default grants still say every room: the org decides
    const before = await refresh(room.guest, await tokenFor('greta', { org: 'evil' }));
    await expectLeft(room, before);
    expect(await request(room.guest.socket, 'room:join', { roomId: room.roomId })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
  });

  test('a refresh that still allows the room changes nothing', async () => {
    const room = await roomWithGuest('gail');
    const before = await refresh(
      room.guest,
      await tokenFor('gail', { grants: { rooms: { [room.roomId]: ['join', 'subscribe'] } } }),
    );
    expect(before).not.toContain('room:removed');
    expect((await peersOf(room.roomId)).map((p) => p.peerId)).toContain(room.peerId);
    await receiving(room.sink);
    expect(
      host.events.some((e) => e.event === 'room:peerLeft' && (e.payload as { peerId: string }).peerId === room.peerId),
    ).toBe(false);
  });

  test('publish and subscribe withdrawn, join kept: the peer stays, its producers and consumers close', async () => {
    const room = await roomWithGuest('glen');
    const { roomId, guest, peerId, sink } = room;
    const own = await publishPlain(guest, roomId, { audio: 8999 });
    stops.push(() => own.gen.close());
    await waitFor(async () => (await peersOf(roomId)).find((p) => p.peerId === peerId)?.producers.length === 1, {
      what: "the guest's producer",
    });
    const before = await refresh(guest, await tokenFor('glen', { grants: { rooms: { [roomId]: ['join'] } } }));
    expect(before).not.toContain('room:removed');
    expect(before.filter((e) => e === 'media:producerClosed')).toHaveLength(1);
    expect(guest.events.find((e) => e.event === 'media:producerClosed')?.payload).toMatchObject({
      roomId,
      producerId: own.audio,
      reason: 'revoked',
    });
    expect(before.filter((e) => e === 'media:consumerClosed')).toHaveLength(2);
    const me = (await peersOf(roomId)).find((p) => p.peerId === peerId);
    expect(me?.producers).toEqual([]);
    await silent(sink);
    // and nothing new: no consumer for the host's next producer, no capabilities, no producing
    const consumersBefore = guest.consumers.length;
    const helper = await mediaPeer(server, { name: 'helper' }, await tokenFor('helper'));
    await helper.join(roomId);
    const more = await publishPlain(helper, roomId, { audio: 8990 });
    stops.push(() => more.gen.close());
    await new Promise((r) => setTimeout(r, 300));
    expect(guest.consumers.length).toBe(consumersBefore);
    expect(await request(guest.socket, 'media:setCapabilities', { roomId, rtpCapabilities: {} })).toMatchObject({
      error: { code: 'FORBIDDEN' },
    });
    expect(await call(guest.socket, 'room:raiseHand', { roomId, raised: true })).toEqual({ raised: true });
  });

  test('only the refreshed connection leaves: the same person’s other tab stays', async () => {
    const room = await roomWithGuest('gwen');
    const otherTab = await mediaPeer(server, { name: 'gwen' }, await tokenFor('gwen'));
    const other = await otherTab.join(room.roomId);
    const before = await refresh(room.guest, await tokenFor('gwen', { org: 'evil' }));
    await expectLeft(room, before);
    expect((await peersOf(room.roomId)).map((p) => p.peerId)).toContain(other.peerId);
    expect(otherTab.events.some((e) => e.event === 'room:removed')).toBe(false);
  });

  test('a join under way while the token is refreshed is checked again with the new token', async () => {
    // over the socket: the join and the refresh sent back to back, on a room not yet open
    const { roomId } = await createRoom(host, 'standard');
    const guest = await mediaPeer(server, { name: 'gil' }, await tokenFor('gil'));
    const joining = request<JoinResponse>(guest.socket, 'room:join', { roomId });
    const refreshed = request(guest.socket, 'system:auth', { token: await tokenFor('gil', { org: 'evil' }) });
    const [join, auth] = await Promise.all([joining, refreshed]);
    expect(auth).toHaveProperty('data');
    // the join is checked again with the new token and refused — unless it finished before the
    // refresh was read (a busy machine), and then the refresh took the new peer out of the room
    if ('data' in join) expect(guest.events.find((e) => e.event === 'room:removed')?.payload).toMatchObject({ roomId });
    else expect(join).toMatchObject({ error: { code: expect.stringMatching(/^(FORBIDDEN|NOT_FOUND)$/) } });
    expect(await peersOf(roomId)).toEqual([]);

    // in the service, deterministically: the principal changes after the join started
    const { roomId: other } = await createRoom(host, 'standard');
    const tokens = server.app.tokens;
    const principal = async (claims: Record<string, unknown> = {}) =>
      new Principal(tokens.verify(await tokenFor('gil', claims)));
    const first = await principal();
    const withdrawn = await principal({ grants: { rooms: {} } });
    const kept = await principal({ grants: { rooms: { [other]: ['join'] } } });
    let current = first;
    const channel: MediaChannel = {
      connectionId: 'test-connection',
      principal: () => current,
      emit: () => {},
      newConsumer: async () => {},
    };
    const started = server.app.media.join(first, channel, { roomId: other });
    current = withdrawn; // before the join's first await returns
    await expect(started).rejects.toMatchObject({ code: 'FORBIDDEN', message: /refreshed token/ });
    expect(await peersOf(other)).toEqual([]);
    // and with a refresh that still allows the room, the join stands
    const allowed = server.app.media.join(first, channel, { roomId: other });
    current = kept;
    const joined = await allowed;
    expect((await peersOf(other)).map((p) => p.peerId)).toEqual([joined.peerId]);
    expect(await server.app.media.leave(first, 'test-connection', { roomId: other })).toEqual({ left: true });
  });
});
