import type { PersonPresence } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { call, nextEvent, startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('in-meeting presence follows video-room membership', () => {
  it('shows a person in-meeting while in a room, and online after leaving', async () => {
    server = await startTestServer();
    const watcher = await server.connect(await server.token({ name: 'Watcher', site: 'hq', sub: 'u-watcher' }));
    const member = await server.connect(await server.token({ name: 'Member', site: 'home', sub: 'u-member' }));
    await call(watcher, 'presence:subscribe', { people: ['u-member'] });

    const room = await call<{ roomId: string }>(member, 'room:create', { tier: 'personal', name: 'desk call' });
    const inMeeting = nextEvent<PersonPresence>(
      watcher,
      'presence:update',
      (p) => p.sub === 'u-member' && p.state === 'in-meeting',
    );
    await call(member, 'room:join', { roomId: room.roomId });
    expect((await inMeeting).state).toBe('in-meeting');

    const online = nextEvent<PersonPresence>(
      watcher,
      'presence:update',
      (p) => p.sub === 'u-member' && p.state === 'online',
    );
    await call(member, 'room:leave', { roomId: room.roomId });
    expect((await online).state).toBe('online');
  });
});
