/**
 * Empty rooms close after MOIM_ROOM_IDLE_CLOSE_S (issue 15): the last person leaving starts the
 * clock, a join stops it; when it runs out the room is closed (joining answers ROOM_CLOSED) and
 * audited. A room nobody joined yet stays open.
 */
import { waitFor } from '@moim/sfu/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { createRoom, mediaPeer } from '../server/src/media/testing/testPeers.ts';
import { call, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const errorCode = (ack: unknown) => (ack as { error?: { code: string } }).error?.code;

describe('empty rooms', () => {
  test('close after the idle time once the last person left; a join in between keeps them open', async () => {
    server = await startTestServer({ MOIM_SFU_ALLOW_PLAIN: 'true', MOIM_ROOM_IDLE_CLOSE_S: '1' });
    const alice = await mediaPeer(server, { name: 'Alice' });
    const { roomId } = await createRoom(alice);
    const { roomId: untouched } = await createRoom(alice);

    // left empty, then joined again within the idle time: still open
    await alice.join(roomId);
    await call(alice.socket, 'room:leave', { roomId });
    await new Promise((r) => setTimeout(r, 500));
    await alice.join(roomId);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await server.app.stores.rooms.get('default', roomId))?.closedAt).toBeNull();

    // left empty for longer than the idle time: closed, audited, and a join is refused
    await call(alice.socket, 'room:leave', { roomId });
    await waitFor(async () => (await server!.app.stores.rooms.get('default', roomId))?.closedAt != null, {
      what: 'the empty room to close',
      timeoutMs: 5000,
    });
    const audit = await server.app.stores.audit.list({ action: 'room.close.idle', limit: 10 });
    expect(audit.map((e) => e.target)).toEqual([roomId]);
    expect(errorCode(await request(alice.socket, 'room:join', { roomId }))).toBe('ROOM_CLOSED');
    // a room nobody joined is not closed
    expect((await server.app.stores.rooms.get('default', untouched))?.closedAt).toBeNull();
  });
});
