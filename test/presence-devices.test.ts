import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type PersonPresence, PROTOCOL_VERSION } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  call,
  LIFTED_RATE_LIMITS,
  nextEvent,
  request,
  startTestServer,
  type TestServer,
  type TestSocket,
} from '../server/src/testing/index.ts';

const root = path.resolve(import.meta.dirname, '..');
let servers: TestServer[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers) await s.close();
  servers = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startTestServer({ ...LIFTED_RATE_LIMITS, ...env });
  servers.push(s);
  return s;
}

const update = (socket: TestSocket, sub: string, match: Partial<PersonPresence>) =>
  nextEvent<PersonPresence>(
    socket,
    'presence:update',
    (p) => p.sub === sub && Object.entries(match).every(([k, v]) => p[k as keyof PersonPresence] === v),
  );

async function person(server: TestServer, sub: string, extra: Record<string, unknown> = {}) {
  return server.token({ name: sub[0]!.toUpperCase() + sub.slice(1), sub, ...extra });
}

function connectionIdOf(server: TestServer, sub: string, deviceId: string): string {
  for (const c of server.app.gateway.connections()) if (c.principal.sub === sub && c.deviceId === deviceId) return c.id;
  throw new Error(`no connection for ${sub}/${deviceId}`);
}

describe('presence across devices', () => {
  it('is online while any device is active, away when every device is idle', async () => {
    const server = await start({ MOIM_AWAY_AFTER_MS: '1500' });
    const aliceToken = await person(server, 'alice');
    const watcher = await server.connect(await person(server, 'bob'));
    const laptop = await server.connect(aliceToken, { deviceId: 'laptop' });
    const phone = await server.connect(aliceToken, { deviceId: 'phone' });
    const sub = await call<{ people: PersonPresence[] }>(watcher, 'presence:subscribe', { people: ['alice'] });
    expect(sub.people[0]).toMatchObject({ sub: 'alice', state: 'online', devices: 2, site: 'hq' });

    // the laptop goes idle, the phone is in use: still online
    const inUse = setInterval(() => void request(phone, 'presence:activity', {}), 100);
    try {
      await call(laptop, 'presence:activity', { idle: true });
      await call(phone, 'presence:activity', {});
      const [mid] = (await call<{ people: PersonPresence[] }>(watcher, 'presence:get', { people: ['alice'] })).people;
      expect(mid).toMatchObject({ state: 'online', devices: 2 });
    } finally {
      clearInterval(inUse);
    }

    // the phone falls silent too: after the away delay the person is away (idle timer, no request needed)
    const away = update(watcher, 'alice', { state: 'away' });
    await expect(away).resolves.toMatchObject({ devices: 2 });

    // activity on either device brings the person back
    const back = update(watcher, 'alice', { state: 'online' });
    await call(laptop, 'system:ping', { t: 1 });
    await back;
  });

  it('busy wins over online; in-meeting follows video room membership; the person sees it on every device', async () => {
    const server = await start();
    const aliceToken = await person(server, 'alice');
    const watcher = await server.connect(await person(server, 'bob'));
    const laptop = await server.connect(aliceToken, { deviceId: 'laptop' });
    const phone = await server.connect(aliceToken, { deviceId: 'phone' });
    await call(watcher, 'presence:subscribe', { people: ['alice'] });

    const meeting = update(watcher, 'alice', { state: 'in-meeting' });
    expect(server.app.presence.setMeeting('alice', connectionIdOf(server, 'alice', 'laptop'), 'standup', true)).toBe(
      true,
    );
    await meeting;

    const busy = update(watcher, 'alice', { state: 'busy', busy: true });
    const ownEcho = update(phone, 'alice', { state: 'busy' });
    const me = await call<PersonPresence>(laptop, 'presence:set', { busy: true, status: 'focus time' });
    expect(me).toMatchObject({ state: 'busy', status: 'focus time' });
    await Promise.all([busy, ownEcho]);

    const stillMeeting = update(watcher, 'alice', { state: 'in-meeting', busy: false });
    await call(laptop, 'presence:set', { busy: false });
    await stillMeeting;

    // the meeting ends when the connection that was in the room goes away
    const online = update(watcher, 'alice', { state: 'online', devices: 1 });
    laptop.disconnect();
    await online;

    const offline = update(watcher, 'alice', { state: 'offline', devices: 0 });
    phone.disconnect();
    const gone = await offline;
    expect(gone.lastSeen).toBeGreaterThan(0);
  });

  it('a device that freezes without closing is dropped by the heartbeat and the person goes offline', async () => {
    // the heartbeat window is its grace: no presence grace on top (MOIM_PRESENCE_GRACE_MS is the default)
    const server = await start({ MOIM_HEARTBEAT_TIMEOUT_MS: '2000' });
    const reasons: string[] = [];
    server.app.gateway.on('disconnect', (conn, reason) => {
      if (conn.principal.sub === 'frozen') reasons.push(reason);
    });
    const watcher = await server.connect(await person(server, 'bob'));
    await call(watcher, 'presence:subscribe', { people: ['frozen'] });
    const online = update(watcher, 'frozen', { state: 'online' });
    const child = spawnClient(server.url, await person(server, 'frozen'));
    await child.ready;
    await online;

    // SIGSTOP: the process stops answering pings but its socket stays open (no FIN, no RST)
    const offline = update(watcher, 'frozen', { state: 'offline' });
    child.process.kill('SIGSTOP');
    await offline;
    expect(reasons).toEqual(['ping timeout']);
    // the watcher, which kept answering pings, is still connected
    expect(watcher.connected).toBe(true);
  });

  it('a device whose connection drops and comes back within the grace never shows offline', async () => {
    const server = await start({ MOIM_PRESENCE_GRACE_MS: '1500' });
    const aliceToken = await person(server, 'alice');
    const watcher = await server.connect(await person(server, 'bob'));
    await call(watcher, 'presence:subscribe', { people: ['alice', 'carol'] });
    const seen: PersonPresence[] = [];
    watcher.on('presence:update', (p: PersonPresence) => seen.push(p));
    const reasons: string[] = [];
    server.app.gateway.on('disconnect', (conn, reason) => {
      if (conn.principal.sub !== 'bob') reasons.push(`${conn.principal.sub}: ${reason}`);
    });
    const getOne = async (sub: string) =>
      (await call<{ people: PersonPresence[] }>(watcher, 'presence:get', { people: [sub] })).people[0];

    // a client process killed: its TCP connection closes under the server, as a network drop does
    const first = spawnClient(server.url, aliceToken, 'laptop');
    await first.ready;
    await expect.poll(() => seen.some((p) => p.sub === 'alice' && p.state === 'online')).toBe(true);
    first.process.kill('SIGKILL');
    await expect.poll(() => reasons).toEqual(['alice: transport close']);
    expect(server.app.presence.lingering).toBe(1);
    expect(await getOne('alice')).toMatchObject({ state: 'online', devices: 1 });
    // the same device is back: its old connection gives way at once (no meeting to carry over)
    const laptop = await server.connect(aliceToken, { deviceId: 'laptop' });
    expect(server.app.presence.lingering).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    expect(seen.filter((p) => p.sub === 'alice').map((p) => p.state)).toEqual(['online']);
    expect(await getOne('alice')).toMatchObject({ state: 'online', devices: 1 });

    // nobody comes back: offline at the grace's end, lastSeen when the connection dropped
    const carol = spawnClient(server.url, await person(server, 'carol'), 'desk');
    await carol.ready;
    await expect.poll(() => seen.some((p) => p.sub === 'carol' && p.state === 'online')).toBe(true);
    const carolOffline = update(watcher, 'carol', { state: 'offline', devices: 0 });
    const killedAt = Date.now();
    carol.process.kill('SIGKILL');
    const gone = await carolOffline;
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1400);
    expect(Math.abs(gone.lastSeen! - killedAt)).toBeLessThan(1000);

    // signing out (the client disconnects itself) is offline at once
    const offline = update(watcher, 'alice', { state: 'offline', devices: 0 });
    const t0 = Date.now();
    laptop.disconnect();
    await offline;
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a site change is seen by subscribers of the old and the new site; queries follow it', async () => {
    const server = await start();
    const alice = await server.connect(await person(server, 'alice', { teams: ['eng'] }));
    const hqWatcher = await server.connect(await person(server, 'bob', { teams: ['eng'] }));
    const homeWatcher = await server.connect(await person(server, 'carol', { site: 'gangnam' }));
    const hq = await call<{ people: PersonPresence[] }>(hqWatcher, 'presence:subscribe', { sites: ['hq'] });
    expect(hq.people.map((p) => p.sub).sort()).toEqual(['alice', 'bob']);
    await call(homeWatcher, 'presence:subscribe', { sites: ['home'] });

    const seenAtHq = update(hqWatcher, 'alice', { site: 'home' });
    const seenAtHome = update(homeWatcher, 'alice', { site: 'home' });
    await call(alice, 'presence:set', { site: 'home' });
    await Promise.all([seenAtHq, seenAtHome]);

    const atHome = await call<{ people: PersonPresence[] }>(homeWatcher, 'presence:query', { site: 'home' });
    expect(atHome.people.map((p) => p.sub)).toEqual(['alice']);
    const atHq = await call<{ people: PersonPresence[] }>(homeWatcher, 'presence:query', { site: 'hq' });
    expect(atHq.people.map((p) => p.sub)).toEqual(['bob']);
  });

  it('answers who is online in my team, and who is at a site', async () => {
    const server = await start();
    const a = await server.connect(await person(server, 'alice', { teams: ['eng'] }));
    await server.connect(await person(server, 'bob', { teams: ['eng'], site: 'gangnam' }));
    const carol = await server.connect(await person(server, 'carol', { teams: ['eng', 'ops'] }));
    await server.connect(await person(server, 'dave', { teams: ['ops'] }));
    await call(carol, 'presence:set', { busy: true });
    const team = await call<{ people: PersonPresence[] }>(a, 'presence:query', { team: 'eng', states: ['online'] });
    expect(team.people.map((p) => p.sub)).toEqual(['alice', 'bob']);
    const all = await call<{ people: PersonPresence[] }>(a, 'presence:query', { team: 'eng' });
    expect(all.people.map((p) => [p.sub, p.state])).toEqual([
      ['alice', 'online'],
      ['bob', 'online'],
      ['carol', 'busy'],
    ]);
    const site = await call<{ people: PersonPresence[] }>(a, 'presence:query', { site: 'gangnam' });
    expect(site.people.map((p) => p.sub)).toEqual(['bob']);
    // a team subscription pushes changes of its members only
    await call(a, 'presence:subscribe', { teams: ['ops'] });
    const carolFree = update(a, 'carol', { busy: false });
    await call(carol, 'presence:set', { busy: false });
    await carolFree;
  });

  it('remembers when someone was last seen, across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-presence-'));
    dirs.push(dataDir);
    const first = await start({ MOIM_DATA_DIR: dataDir });
    const alice = await first.connect(await person(first, 'alice'));
    await call(alice, 'presence:set', { status: 'back monday' });
    alice.disconnect();
    await first.close();
    servers = servers.filter((s) => s !== first);

    const second = await start({ MOIM_DATA_DIR: dataDir });
    const bob = await second.connect(await person(second, 'bob'));
    const got = await call<{ people: PersonPresence[] }>(bob, 'presence:get', { people: ['alice', 'nobody'] });
    expect(got.people[0]).toMatchObject({ sub: 'alice', state: 'offline', name: 'Alice', status: 'back monday' });
    expect(got.people[0]?.lastSeen).toBeGreaterThan(0);
    expect(got.people[1]).toMatchObject({ sub: 'nobody', state: 'offline', lastSeen: null, name: null });
  });

  it('refuses malformed presence requests with INVALID_PAYLOAD', async () => {
    const server = await start();
    const s = await server.connect(await person(server, 'alice'));
    for (const [event, payload] of [
      ['presence:set', { busy: 'yes' }],
      ['presence:set', { site: 'Not A Site' }],
      ['presence:set', { status: 'x'.repeat(201) }],
      ['presence:subscribe', { people: 'alice' }],
      ['presence:get', { people: [] }],
      ['presence:query', { limit: 0 }],
    ] as const) {
      const ack = await request(s, event, payload);
      expect(ack, event).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    }
  });
});

/** A socket.io client in its own process, so it can be frozen with SIGSTOP. */
function spawnClient(
  url: string,
  token: string,
  deviceId = 'frozen-device',
): { process: ChildProcess; ready: Promise<void> } {
  const code = `
    import { io } from 'socket.io-client';
    const s = io(${JSON.stringify(url)}, { transports: ['websocket'], reconnection: false,
      auth: { token: ${JSON.stringify(token)}, protocol: ${PROTOCOL_VERSION}, deviceId: ${JSON.stringify(deviceId)} } });
    s.on('connect', () => process.stdout.write('ready\\n'));
    s.on('connect_error', (e) => { process.stderr.write(String(e.message)); process.exit(2); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`client exited with ${code}`)));
  });
  return { process: child, ready };
}
