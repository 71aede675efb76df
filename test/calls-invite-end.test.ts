/**
 * Meeting invitations last no longer than the meeting does for their inviter (protocol/src/calls.ts):
 * a ringing invitation ends `cancelled` when its inviter has left the meeting on every device
 * (`inviter-left`) or the meeting's room closes (`meeting-closed`); accepting one whose meeting
 * closed meanwhile is ROOM_CLOSED with no grant; history entries of invitations name the meeting
 * and say whether it is still open. A real server with real mediasoup workers; people join over
 * socket.io (no media flows).
 */
import type { CallHistoryPage, CallInfo } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { call, nextEvent, type TestServer, type TestSocket } from '../server/src/testing/index.ts';
import { closeServers, errorOf, everything, narrow, type Person, person, start } from './calls-support.ts';

afterEach(closeServers);

const update = (socket: TestSocket, match: (c: CallInfo) => boolean, timeoutMs = 10_000) =>
  nextEvent<CallInfo>(socket, 'call:update', match, timeoutMs);

async function history(server: TestServer, token: string): Promise<CallHistoryPage> {
  const res = await fetch(`${server.url}/calls/history`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as CallHistoryPage;
}

/** A running meeting named `name`, with its host in it on their first device. */
async function meeting(host: Person, name = 'Weekly review'): Promise<string> {
  const room = await call<{ roomId: string }>(host.socket, 'room:create', { tier: 'standard', name });
  await call(host.socket, 'room:join', { roomId: room.roomId });
  return room.roomId;
}

const stillRinging = async (socket: TestSocket, callId: string) =>
  (await call<{ calls: CallInfo[] }>(socket, 'call:list', {})).calls.find((c) => c.id === callId)?.state;

describe('a ringing invitation ends with the meeting', () => {
  it('ends (inviter-left) once its inviter left on every device; others leaving change nothing', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: everything, devices: ['laptop', 'phone'] });
    const bob = await person(server, 'bob', { grants: narrow(), devices: ['laptop', 'phone'] });
    const carol = await person(server, 'carol', { grants: everything });
    const roomId = await meeting(alice);
    await call(alice.devices.phone!, 'room:join', { roomId });
    await call(carol.socket, 'room:join', { roomId });
    const inv = await call<CallInfo>(alice.devices.laptop!, 'call:invite', { roomId, callees: [bob.sub] });

    // someone else leaving, and the inviter leaving on one of two devices: it still rings
    await call(carol.socket, 'room:leave', { roomId });
    await call(alice.devices.laptop!, 'room:leave', { roomId });
    await new Promise((r) => setTimeout(r, 300));
    expect(await stillRinging(bob.devices.laptop!, inv.id)).toBe('ringing');

    // the last device leaves: every device of the invitee stops ringing, with the reason
    const stops = ['laptop', 'phone'].map((d) =>
      update(bob.devices[d]!, (c) => c.id === inv.id && c.state === 'cancelled'),
    );
    const inviterHears = update(alice.devices.laptop!, (c) => c.id === inv.id && c.state === 'cancelled');
    await call(alice.devices.phone!, 'room:leave', { roomId });
    for (const stopped of await Promise.all(stops))
      expect(stopped).toMatchObject({ reason: 'inviter-left', me: { state: 'cancelled' } });
    expect((await inviterHears).reason).toBe('inviter-left');
    // too late to accept: no way in
    expect(await errorOf(bob.devices.phone!, 'call:accept', { callId: inv.id })).toBe('CALL_NOT_RINGING');
    expect(await errorOf(bob.devices.phone!, 'room:join', { roomId })).toBe('FORBIDDEN');
    // the meeting itself is untouched (carol may come back)
    await call(carol.socket, 'room:join', { roomId });
  });

  it('keeps ringing while its inviter’s socket drops and resumes the meeting', async () => {
    const server = await start({ MOIM_PEER_GRACE_MS: '10000' });
    const alice = await person(server, 'alice', { grants: everything });
    const bob = await person(server, 'bob', { grants: narrow() });
    const room = await call<{ roomId: string }>(alice.socket, 'room:create', { tier: 'standard', name: 'Grace' });
    const joined = await call<{ peerId: string }>(alice.socket, 'room:join', { roomId: room.roomId });
    const inv = await call<CallInfo>(alice.socket, 'call:invite', { roomId: room.roomId, callees: [bob.sub] });
    alice.socket.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    const again = await server.connect(alice.token, { deviceId: 'laptop' });
    await call(again, 'room:join', { roomId: room.roomId, resume: { peerId: joined.peerId } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await stillRinging(bob.socket, inv.id)).toBe('ringing');
    // and ends once the resumed peer leaves
    const stops = update(bob.socket, (c) => c.id === inv.id && c.state === 'cancelled');
    await call(again, 'room:leave', { roomId: room.roomId });
    expect((await stops).reason).toBe('inviter-left');
  });

  it('a group invitation some accepted: the others stop ringing when the inviter leaves', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: everything });
    const bob = await person(server, 'bob', { grants: narrow() });
    const carol = await person(server, 'carol', { grants: narrow() });
    const roomId = await meeting(alice);
    const inv = await call<CallInfo>(alice.socket, 'call:invite', { roomId, callees: [bob.sub, carol.sub] });
    await call(bob.socket, 'call:accept', { callId: inv.id });
    await call(bob.socket, 'room:join', { roomId });
    const carolStops = update(carol.socket, (c) => c.id === inv.id && c.state === 'cancelled');
    await call(alice.socket, 'room:leave', { roomId });
    const stopped = await carolStops;
    expect(stopped.reason).toBe('inviter-left');
    expect(stopped.callees.map((p) => [p.sub, p.state])).toEqual([
      [bob.sub, 'joined'],
      [carol.sub, 'cancelled'],
    ]);
    // bob, who accepted, stays in the meeting
    expect((await call<{ peers: unknown[] }>(bob.socket, 'room:info', { roomId })).peers).toHaveLength(1);
  });

  it('keeps ringing while a worker death closes the room under its inviter, who joins again; else inviter-left after the grace', async () => {
    const server = await start({ MOIM_SFU_WORKERS: '1', MOIM_INVITATION_REJOIN_GRACE_MS: '1500' });
    const pool = server.app.media.pool;
    const alice = await person(server, 'alice', { grants: everything });
    const bob = await person(server, 'bob', { grants: narrow() });
    const roomId = await meeting(alice);
    const inv = await call<CallInfo>(alice.socket, 'call:invite', { roomId, callees: [bob.sub] });
    const killWorker = async () => {
      const replaced = new Promise((resolve) => pool.once('workerReplaced', resolve));
      const closed = nextEvent<{ roomId: string; reason: string }>(
        alice.socket,
        'room:closed',
        (e) => e.roomId === roomId && e.reason === 'WORKER_DIED',
      );
      process.kill(pool.workers()[0]!.worker.pid, 'SIGKILL');
      await closed;
      await replaced;
    };

    // the room closes under alice (WORKER_DIED); she joins again, as the SDK does: it rings on
    await killWorker();
    await new Promise((r) => setTimeout(r, 300));
    expect(await stillRinging(bob.socket, inv.id)).toBe('ringing');
    await call(alice.socket, 'room:join', { roomId });
    await new Promise((r) => setTimeout(r, 2000)); // past the grace: checked, she is in
    expect(await stillRinging(bob.socket, inv.id)).toBe('ringing');

    // again, and she does not come back: it ends once the grace ran out, as if she had left
    const stops = update(bob.socket, (c) => c.id === inv.id && c.state === 'cancelled');
    const killedAt = Date.now();
    await killWorker();
    expect((await stops).reason).toBe('inviter-left');
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1400);
  });

  it('ends (meeting-closed) when the meeting is closed, and the history says it is closed', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: everything });
    const bob = await person(server, 'bob', { grants: narrow() });
    const roomId = await meeting(alice, '주간 회의 Weekly');
    const inv = await call<CallInfo>(alice.socket, 'call:invite', { roomId, callees: [bob.sub] });
    const stops = update(bob.socket, (c) => c.id === inv.id && c.state === 'cancelled');
    await call(alice.socket, 'room:close', { roomId });
    expect(await stops).toMatchObject({ reason: 'meeting-closed', me: { state: 'cancelled' } });
    expect(await errorOf(bob.socket, 'call:accept', { callId: inv.id })).toBe('CALL_NOT_RINGING');
    await expect.poll(async () => (await history(server, bob.token)).entries[0]?.callId).toBe(inv.id);
    expect((await history(server, bob.token)).entries[0]).toMatchObject({
      outcome: 'missed',
      meeting: { roomId, name: '주간 회의 Weekly', open: false },
    });
    expect((await history(server, alice.token)).entries[0]).toMatchObject({
      direction: 'outgoing',
      outcome: 'cancelled',
      meeting: { roomId, name: '주간 회의 Weekly', open: false },
    });
  });

  it('accepting an invitation whose meeting closed meanwhile is ROOM_CLOSED and grants nothing', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: everything });
    const bob = await person(server, 'bob', { grants: narrow(), devices: ['laptop', 'phone'] });
    const roomId = await meeting(alice);
    const inv = await call<CallInfo>(alice.socket, 'call:invite', { roomId, callees: [bob.sub] });
    // the record closes with no word to this node yet (as when another node closed it a moment ago)
    expect(await server.app.stores.rooms.close(roomId, Date.now())).toBe(true);
    const phoneStops = update(bob.devices.phone!, (c) => c.id === inv.id && c.state === 'cancelled');
    expect(await errorOf(bob.devices.laptop!, 'call:accept', { callId: inv.id })).toBe('ROOM_CLOSED');
    expect((await phoneStops).reason).toBe('meeting-closed');
    expect(await errorOf(bob.devices.laptop!, 'call:accept', { callId: inv.id })).toBe('CALL_NOT_RINGING');
    // no grant: refused for want of a grant before the closed room is even looked at
    expect(await errorOf(bob.devices.laptop!, 'room:join', { roomId })).toBe('FORBIDDEN');
  });
});

describe('history entries of invitations name the meeting', () => {
  it('room id, name and "still open"; a call has none', async () => {
    const server = await start();
    const alice = await person(server, 'alice', { grants: everything });
    const bob = await person(server, 'bob', { grants: narrow() });
    const roomId = await meeting(alice, 'Design 설계');
    const inv = await call<CallInfo>(alice.socket, 'call:invite', { roomId, callees: [bob.sub] });
    await call(bob.socket, 'call:accept', { callId: inv.id });
    await expect.poll(async () => (await history(server, bob.token)).entries.length).toBe(1);
    const meetingOf = { roomId, name: 'Design 설계', open: true };
    expect((await history(server, bob.token)).entries[0]).toMatchObject({ callId: inv.id, meeting: meetingOf });
    expect((await history(server, alice.token)).entries[0]).toMatchObject({ callId: inv.id, meeting: meetingOf });

    const c = await call<CallInfo>(alice.socket, 'call:start', { callees: [bob.sub] });
    await call(alice.socket, 'call:cancel', { callId: c.id });
    await expect.poll(async () => (await history(server, bob.token)).entries.length).toBe(2);
    expect((await history(server, bob.token)).entries[0]).toMatchObject({ callId: c.id, meeting: null });

    // the meeting closes: the invitation's entry no longer offers to join it
    await call(alice.socket, 'room:close', { roomId });
    expect((await history(server, bob.token)).entries[1]).toMatchObject({
      callId: inv.id,
      meeting: { ...meetingOf, open: false },
    });
  });
});
