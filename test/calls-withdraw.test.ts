/**
 * A person who leaves a call that goes on (hangs up, or is dropped after the grace period) leaves
 * its video room on the server too (issue 16): their client is told `room:removed`, the others see
 * `room:peerLeft` with `removed`, and the room keeps the rest. A real server; people join over
 * socket.io (no media flows).
 */
import { CALL_LEFT_REASON, type CallInfo } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { call, nextEvent } from '../server/src/testing/index.ts';
import { closeServers, connected, errorOf, narrow, type Person, person, start } from './calls-support.ts';

afterEach(closeServers);

describe('leaving a call that goes on', () => {
  it('a person who hangs up leaves the room at once, without leaving it themselves', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: narrow(['personal', 'standard']) });
    const bob = await person(server, 'bob', { grants: narrow() });
    const dan = await person(server, 'dan', { grants: narrow() });
    const c = await connected(alice, [bob, dan]);
    const roomId = c.roomId!;
    await call(alice.socket, 'room:join', { roomId });
    await call(bob.socket, 'room:join', { roomId });
    const dj = await call<{ peerId: string }>(dan.socket, 'room:join', { roomId });
    expect(server.app.media.liveRoom(roomId)?.peers().length).toBe(3);

    const left = (who: Person) =>
      nextEvent<{ roomId: string; peerId: string; reason: string }>(
        who.socket,
        'room:peerLeft',
        (e) => e.roomId === roomId && e.peerId === dj.peerId,
      );
    const aliceSaw = left(alice);
    const bobSaw = left(bob);
    const danTold = nextEvent<{ roomId: string; reason: string | null }>(
      dan.socket,
      'room:removed',
      (e) => e.roomId === roomId,
    );
    // dan hangs up and does not send room:leave (another device, or a client that does not)
    const after = await call<CallInfo>(dan.socket, 'call:hangup', { callId: c.id });
    expect(after.state).toBe('accepted');
    expect((await danTold).reason).toBe(CALL_LEFT_REASON);
    expect((await aliceSaw).reason).toBe('removed');
    expect((await bobSaw).reason).toBe('removed');

    // the others stay, the room is open, and dan is not let back in
    const info = await call<{ peers: Array<{ peerId: string }> }>(alice.socket, 'room:info', { roomId });
    expect(info.peers.map((p) => p.peerId)).not.toContain(dj.peerId);
    expect(info.peers).toHaveLength(2);
    expect(server.app.media.liveRoom(roomId)?.peers().length).toBe(2);
    expect((await server.app.stores.rooms.get('default', roomId))?.closedAt).toBeNull();
    expect(await errorOf(dan.socket, 'room:join', { roomId })).toBe('FORBIDDEN');
    // no ban was recorded: dan's removal is the call's, not a moderator's
    expect(await server.app.stores.rooms.isBanned(roomId, dan.sub)).toBe(false);
  });

  it('a person dropped after the grace period leaves the room before their media peer would time out', async () => {
    // the call lets go after 300 ms; the media peer alone would be kept 30 s for a reconnect
    const server = await start({ MOIM_CALL_DROP_GRACE_MS: '300', MOIM_PEER_GRACE_MS: '30000' });
    const alice = await person(server, 'alice', { grants: narrow(['personal', 'standard']) });
    const bob = await person(server, 'bob', { grants: narrow() });
    const dan = await person(server, 'dan', { grants: narrow() });
    const c = await connected(alice, [bob, dan]);
    const roomId = c.roomId!;
    await call(alice.socket, 'room:join', { roomId });
    await call(bob.socket, 'room:join', { roomId });
    const dj = await call<{ peerId: string }>(dan.socket, 'room:join', { roomId });
    const aliceSaw = nextEvent<{ roomId: string; peerId: string; reason: string }>(
      alice.socket,
      'room:peerLeft',
      (e) => e.roomId === roomId && e.peerId === dj.peerId,
    );
    dan.socket.disconnect();
    expect((await aliceSaw).reason).toBe('removed');
    expect(server.app.media.liveRoom(roomId)?.peers().length).toBe(2);
    const view = await call<{ calls: CallInfo[] }>(alice.socket, 'call:list', {});
    const now = view.calls.find((x) => x.id === c.id);
    expect(now?.state).toBe('accepted');
    expect(now?.callees.find((p) => p.sub === dan.sub)?.state).toBe('left');
  });
});
