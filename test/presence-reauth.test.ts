import type { PersonPresence } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  collect,
  LIFTED_RATE_LIMITS,
  nextEvent,
  startTestServer,
  type TestServer,
  type TestSocket,
} from '../server/src/testing/index.ts';

/**
 * Issue 11 item 7 (presence part): after `system:auth` for another organisation, no presence of
 * the old organisation reaches the connection; presence is keyed by organisation and person.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(LIFTED_RATE_LIMITS);
});
afterAll(() => server.close());

const people = (r: { people: PersonPresence[] }) => r.people;

/** A round trip on `socket`: everything the server sent it before is in (one socket keeps its order). */
const settle = (socket: TestSocket) => call(socket, 'system:ping', { t: 0 });

describe('presence follows a refreshed token', () => {
  it('after an org change, updates of the old org stop; the new org is served', async () => {
    const carol = await server.person('carol', { org: 'acme', teams: ['eng'] });
    const watcher = await server.person('watcher', { org: 'acme', teams: ['eng'] });
    // a colleague who keeps watching the same things, to know when updates have gone out
    const control = await server.person('control', { org: 'acme' });
    const watch = { teams: ['eng'], sites: ['hq'], people: [carol.sub] };
    await call(watcher.socket, 'presence:subscribe', watch);
    await call(control.socket, 'presence:subscribe', watch);
    const first = nextEvent<PersonPresence>(watcher.socket, 'presence:update', (p) => p.status === 'one');
    await call(carol.socket, 'presence:set', { status: 'one' });
    await first;

    const elsewhere = await server.token({ name: 'watcher', sub: watcher.sub, org: 'evil', teams: ['eng'] });
    await call(watcher.socket, 'system:auth', { token: elsewhere });
    const updates = collect<PersonPresence>(watcher.socket, 'presence:update');
    const settled = nextEvent<PersonPresence>(control.socket, 'presence:update', (p) => p.status === 'two');
    await call(carol.socket, 'presence:set', { status: 'two' });
    await settled;
    await settle(watcher.socket);
    expect(updates.filter((p) => p.sub === carol.sub)).toEqual([]);
    // the old org saw the watcher's device leave (their only one: offline)
    const [gone] = people(await call(control.socket, 'presence:get', { people: [watcher.sub] }));
    expect(gone?.state).toBe('offline');
    // queries are of the new org only
    expect(people(await call(watcher.socket, 'presence:query', { site: 'hq' })).map((p) => p.sub)).not.toContain(
      carol.sub,
    );
    expect(people(await call(watcher.socket, 'presence:get', { people: [carol.sub] }))[0]).toMatchObject({
      state: 'offline',
      name: null,
    });

    // the connection still works, in the new organisation
    const dave = await server.person('dave', { org: 'evil', teams: ['eng'] });
    await call(watcher.socket, 'presence:subscribe', { teams: ['eng'] });
    const fromEvil = nextEvent<PersonPresence>(watcher.socket, 'presence:update', (p) => p.sub === dave.sub);
    await call(dave.socket, 'presence:set', { status: 'hello' });
    expect((await fromEvil).status).toBe('hello');
    const me = await call<PersonPresence>(watcher.socket, 'presence:set', { status: 'moved' });
    expect(me).toMatchObject({ sub: watcher.sub, status: 'moved', state: 'online' });
    expect(people(await call(dave.socket, 'presence:get', { people: [watcher.sub] }))[0]).toMatchObject({
      status: 'moved',
      state: 'online',
    });
  });

  it("a person's own updates of the old org stop reaching a connection that moved", async () => {
    const token = await server.token({ name: 'Multi', sub: 'multi', org: 'acme' });
    const laptop = await server.connect(token);
    const phone = await server.connect(token);
    await call(phone, 'system:auth', { token: await server.token({ name: 'Multi', sub: 'multi', org: 'evil' }) });
    const onPhone = collect<PersonPresence>(phone, 'presence:update');
    const own = nextEvent<PersonPresence>(laptop, 'presence:update', (p) => p.status === 'laptop only');
    await call(laptop, 'presence:set', { status: 'laptop only' });
    await own;
    await settle(phone);
    expect(onPhone.filter((p) => p.status === 'laptop only')).toEqual([]);
  });

  it('a refresh in the same org keeps subscriptions and follows new teams', async () => {
    const erin = await server.person('erin', { org: 'acme', teams: ['eng'] });
    const watcher = await server.person('watcher', { org: 'acme' });
    await call(watcher.socket, 'presence:subscribe', { teams: ['ops'], people: [erin.sub] });
    await call(watcher.socket, 'system:auth', {
      token: await server.token({ name: 'watcher', sub: watcher.sub, org: 'acme', site: 'home' }),
    });
    const still = nextEvent<PersonPresence>(watcher.socket, 'presence:update', (p) => p.status === 'kept');
    await call(erin.socket, 'presence:set', { status: 'kept' });
    expect((await still).sub).toBe(erin.sub);
    // erin's refreshed token puts her in ops: ops watchers learn about her
    const joined = nextEvent<PersonPresence>(
      watcher.socket,
      'presence:update',
      (p) => p.sub === erin.sub && p.teams.includes('ops'),
    );
    await call(erin.socket, 'system:auth', {
      token: await server.token({ name: 'erin', sub: erin.sub, org: 'acme', teams: ['eng', 'ops'] }),
    });
    expect((await joined).teams).toEqual(['eng', 'ops']);
  });

  it('the same sub in two organisations is two people', async () => {
    const acme = await server.connect(await server.token({ name: 'Alice', sub: 'alice', org: 'acme' }));
    const evil = await server.connect(await server.token({ name: 'Alice', sub: 'alice', org: 'evil' }));
    const colleague = await server.connect(await server.token({ name: 'Col', sub: 'col', org: 'acme' }));
    await call(acme, 'presence:set', { status: 'in acme', busy: false });
    await call(evil, 'presence:set', { status: 'pwned', busy: true });
    const [a] = people(await call(colleague, 'presence:get', { people: ['alice'] }));
    expect(a).toMatchObject({ status: 'in acme', busy: false, devices: 1 });
  });
});
