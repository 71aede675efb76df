import type { PersonPresence } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { personRoom } from '../lib/rooms.ts';
import { createLogger } from '../logger.ts';
import { chatMigrations } from '../storage/sqlite/migrations/chat.ts';
import { SqliteDb } from '../storage/sqlite/SqliteDb.ts';
import { SqlitePresenceStore } from '../storage/sqlite/SqlitePresenceStore.ts';
import type { PresenceBus } from './PresenceBus.ts';
import { presenceRooms } from './PresenceBus.ts';
import { PresenceService } from './PresenceService.ts';

class RecordingBus implements PresenceBus {
  readonly sent: Array<{ rooms: readonly string[]; presence: PersonPresence }> = [];
  publish(rooms: readonly string[], presence: PersonPresence): void {
    this.sent.push({ rooms, presence });
  }
  last(sub: string): PersonPresence | undefined {
    return this.sent.filter((s) => s.presence.sub === sub).at(-1)?.presence;
  }
}

const log = createLogger('silent', 'test');
let dbs: SqliteDb[] = [];

function setup(awayAfterMs = 60_000, graceMs = 0) {
  const db = SqliteDb.open(':memory:');
  db.migrate(chatMigrations);
  dbs.push(db);
  const store = new SqlitePresenceStore(db);
  const bus = new RecordingBus();
  const presence = new PresenceService({ store, bus, log, awayAfterMs, graceMs });
  return { db, store, bus, presence };
}

const alice = { sub: 'alice', org: 'acme', name: 'Alice', teams: ['eng'], site: 'hq' };

afterEach(() => {
  for (const db of dbs) db.close();
  dbs = [];
});

describe('PresenceService', () => {
  it('aggregates devices: one active device keeps the person online, all idle is away', async () => {
    const { presence, bus } = setup();
    await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
    await presence.connect({ ...alice, connectionId: 'c2', deviceId: 'phone' });
    expect(bus.last('alice')?.state).toBe('online');
    presence.activity('c1', true);
    expect((await presence.snapshot('acme', 'alice'))?.state).toBe('online');
    presence.activity('c2', true);
    expect((await presence.snapshot('acme', 'alice'))?.state).toBe('away');
    expect(bus.last('alice')?.state).toBe('away');
    presence.activity('c2');
    expect(bus.last('alice')?.state).toBe('online');
    await presence.close();
  });

  it('busy wins over online and away; in-meeting follows video room membership per connection', async () => {
    const { presence, bus } = setup();
    await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
    await presence.connect({ ...alice, connectionId: 'c2', deviceId: 'phone' });
    expect(presence.setMeeting('alice', 'c1', 'room-1', true)).toBe(true);
    expect(bus.last('alice')?.state).toBe('in-meeting');
    presence.set('acme', 'alice', { busy: true });
    expect(bus.last('alice')?.state).toBe('busy');
    presence.set('acme', 'alice', { busy: false });
    expect(bus.last('alice')?.state).toBe('in-meeting');
    // another person's sub or an unknown connection changes nothing
    expect(presence.setMeeting('bob', 'c1', 'room-1', false)).toBe(false);
    expect(presence.setMeeting('alice', 'nope', 'room-2', true)).toBe(false);
    // one connection in two rooms: leaving one keeps it in the other
    presence.setMeeting('alice', 'c1', 'room-2', true);
    presence.setMeeting('alice', 'c1', 'room-1', false);
    expect(bus.last('alice')?.state).toBe('in-meeting');
    expect(await presence.inRoom('acme', 'alice', 'room-2')).toBe(true);
    expect(await presence.inRoom('acme', 'alice', 'room-1')).toBe(false);
    presence.setMeeting('alice', 'c1', 'room-2', false);
    expect(bus.last('alice')?.state).toBe('online');
    // leaving the room by dropping the connection also ends the meeting
    presence.setMeeting('alice', 'c2', 'room-1', true);
    expect(bus.last('alice')?.state).toBe('in-meeting');
    presence.disconnect('c2');
    expect(bus.last('alice')?.state).toBe('online');
    await presence.close();
  });

  it('turns a silent device idle after awayAfterMs', async () => {
    const { presence, bus } = setup(50);
    await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
    await expect.poll(() => bus.last('alice')?.state, { timeout: 5000 }).toBe('away');
    presence.activity('c1');
    expect(bus.last('alice')?.state).toBe('online');
    await expect.poll(() => bus.last('alice')?.state, { timeout: 5000 }).toBe('away');
    await presence.close();
  });

  it('publishes to the person, site, team and watcher rooms, and to the old site on a move', async () => {
    const { presence, bus } = setup();
    await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
    presence.set('acme', 'alice', { site: 'home' });
    const last = bus.sent.at(-1);
    expect(last?.presence.site).toBe('home');
    expect(last?.rooms).toEqual(
      expect.arrayContaining([
        personRoom('acme', 'alice'),
        presenceRooms.person('acme', 'alice'),
        presenceRooms.site('acme', 'home'),
        presenceRooms.site('acme', 'hq'),
        presenceRooms.team('acme', 'eng'),
      ]),
    );
    await presence.close();
  });

  it('publishes only real changes', async () => {
    const { presence, bus } = setup();
    await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
    const before = bus.sent.length;
    for (let i = 0; i < 10; i++) presence.activity('c1');
    presence.set('acme', 'alice', { busy: false });
    expect(bus.sent.length).toBe(before);
  });

  it('remembers lastSeen, status and do-not-disturb after the last device leaves and across restarts', async () => {
    const { presence, store, bus } = setup();
    await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
    presence.set('acme', 'alice', { status: 'at the dentist', busy: true });
    presence.disconnect('c1');
    expect(bus.last('alice')?.state).toBe('offline');
    await presence.close();
    const again = new PresenceService({ store, bus: new RecordingBus(), log, awayAfterMs: 60_000 });
    const [p] = await again.get('acme', ['alice']);
    expect(p).toMatchObject({ sub: 'alice', name: 'Alice', state: 'offline', site: 'hq', status: 'at the dentist' });
    expect(p?.lastSeen).toBeGreaterThan(0);
    // another organisation sees nothing
    const [other] = await again.get('globex', ['alice']);
    expect(other).toMatchObject({ name: null, lastSeen: null });
    // the status and do-not-disturb come back on reconnect
    await again.connect({ ...alice, connectionId: 'c9', deviceId: 'laptop' });
    expect(await again.snapshot('acme', 'alice')).toMatchObject({ state: 'busy', status: 'at the dentist' });
    await again.close();
  });

  it('answers queries by site, team and state, scoped to the organisation', async () => {
    const { presence } = setup();
    await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'a' });
    await presence.connect({
      sub: 'bob',
      org: 'acme',
      name: 'Bob',
      teams: ['ops'],
      site: 'hq',
      connectionId: 'c2',
      deviceId: 'b',
    });
    await presence.connect({
      sub: 'eve',
      org: 'globex',
      name: 'Eve',
      teams: ['eng'],
      site: 'hq',
      connectionId: 'c3',
      deviceId: 'e',
    });
    presence.activity('c2', true);
    expect((await presence.query({ org: 'acme', site: 'hq', limit: 10 })).map((p) => p.sub)).toEqual(['alice', 'bob']);
    expect((await presence.query({ org: 'acme', team: 'eng', limit: 10 })).map((p) => p.sub)).toEqual(['alice']);
    expect((await presence.query({ org: 'acme', states: ['online'], limit: 10 })).map((p) => p.sub)).toEqual(['alice']);
    await presence.close();
  });

  describe('a dropped device lingers for the grace', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const states = (bus: RecordingBus) =>
      bus.sent.filter((x) => x.presence.sub === 'alice').map((x) => x.presence.state);

    it('a network drop and a reconnect of the same device within the grace publish nothing', async () => {
      const { presence, bus } = setup(60_000, 200);
      await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
      presence.setMeeting('alice', 'c1', 'room-1', true);
      const before = bus.sent.length;
      presence.disconnect('c1', 'transport close');
      expect(presence.lingering).toBe(1);
      expect((await presence.snapshot('acme', 'alice'))?.state).toBe('in-meeting');
      await presence.connect({ ...alice, connectionId: 'c2', deviceId: 'laptop' });
      // the media room takes the held peer over: the new connection joins, the old one leaves
      presence.setMeeting('alice', 'c2', 'room-1', true);
      presence.setMeeting('alice', 'c1', 'room-1', false);
      expect(presence.lingering).toBe(0);
      await sleep(300);
      expect(bus.sent.slice(before).map((x) => x.presence.state)).toEqual([]);
      expect(await presence.snapshot('acme', 'alice')).toMatchObject({ state: 'in-meeting', devices: 1 });
      await presence.close();
    });

    it('a lingering device without a meeting gives way as soon as the same device is back', async () => {
      const { presence, bus } = setup(60_000, 10_000);
      await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
      await presence.connect({ ...alice, connectionId: 'p1', deviceId: 'phone' });
      presence.disconnect('c1', 'transport close');
      presence.disconnect('p1', 'transport error');
      expect(presence.lingering).toBe(2);
      await presence.connect({ ...alice, connectionId: 'c2', deviceId: 'laptop' });
      // the laptop's old connection is replaced; the phone's still lingers (another device)
      expect(presence.lingering).toBe(1);
      expect(await presence.snapshot('acme', 'alice')).toMatchObject({ state: 'online', devices: 2 });
      expect(states(bus)).toEqual(['online']);
      await presence.close();
    });

    it('ends with offline and lastSeen at the drop when nobody comes back', async () => {
      let now = 1_000_000;
      const db = SqliteDb.open(':memory:');
      db.migrate(chatMigrations);
      dbs.push(db);
      const store = new SqlitePresenceStore(db);
      const bus = new RecordingBus();
      const presence = new PresenceService({ store, bus, log, awayAfterMs: 60_000, graceMs: 150, now: () => now });
      await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
      presence.setMeeting('alice', 'c1', 'room-1', true);
      presence.disconnect('c1', 'transport error');
      const droppedAt = now;
      now += 5000;
      await sleep(50);
      expect(states(bus)).toEqual(['online', 'in-meeting']);
      await sleep(200);
      expect(presence.lingering).toBe(0);
      expect(bus.last('alice')).toMatchObject({ state: 'offline', devices: 0, lastSeen: droppedAt });
      await presence.close();
      expect((await store.get('acme', ['alice']))[0]?.lastSeen).toBe(droppedAt);
    });

    it('a client that disconnects itself, a server that drops it or the heartbeat end the device at once', async () => {
      const { presence, bus } = setup(60_000, 10_000);
      await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
      presence.disconnect('c1', 'client namespace disconnect');
      expect(bus.last('alice')?.state).toBe('offline');
      await presence.connect({ ...alice, connectionId: 'c2', deviceId: 'laptop' });
      presence.disconnect('c2', 'server namespace disconnect');
      expect(bus.last('alice')?.state).toBe('offline');
      await presence.connect({ ...alice, connectionId: 'c3', deviceId: 'laptop' });
      presence.disconnect('c3');
      expect(bus.last('alice')?.state).toBe('offline');
      // silent for the whole heartbeat window already
      await presence.connect({ ...alice, connectionId: 'c4', deviceId: 'laptop' });
      presence.disconnect('c4', 'ping timeout');
      expect(bus.last('alice')?.state).toBe('offline');
      expect(presence.lingering).toBe(0);
      await presence.close();
    });

    it('a lingering device takes no activity and close() ends the grace', async () => {
      const { presence, bus, store } = setup(60_000, 10_000);
      await presence.connect({ ...alice, connectionId: 'c1', deviceId: 'laptop' });
      presence.disconnect('c1', 'transport close');
      presence.disconnect('c1', 'transport close'); // twice: nothing more
      expect(presence.activity('c1', true)).toBeUndefined();
      expect(bus.last('alice')?.state).toBe('online');
      await presence.close();
      expect(presence.lingering).toBe(0);
      expect((await store.get('acme', ['alice']))[0]?.lastSeen).toBeGreaterThan(0);
    });
  });
});
