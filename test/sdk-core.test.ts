import { connect, devToken, type MoimClient, tokenExpiry } from '@moim/client-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

/** The client SDK against a real server in this process. */
let server: TestServer;
const clients: MoimClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server.close();
});

function once<T>(subscribe: (resolve: (v: T) => void) => void, timeoutMs = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    subscribe((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

async function client(
  name: string,
  site = 'hq',
  extra: { ttlSeconds?: number; deviceId?: string; tokenRefreshMarginMs?: number } = {},
) {
  let calls = 0;
  const c = await connect({
    url: server.url,
    ...(extra.tokenRefreshMarginMs !== undefined ? { tokenRefreshMarginMs: extra.tokenRefreshMarginMs } : {}),
    transports: ['websocket'],
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 500,
    ...(extra.deviceId ? { deviceId: extra.deviceId } : {}),
    getToken: async () => {
      calls++;
      const t = await devToken(server.url, {
        name,
        site,
        role: 'member',
        sub: name.toLowerCase(),
        ...(extra.ttlSeconds ? { ttlSeconds: extra.ttlSeconds } : {}),
      });
      return t.token;
    },
  });
  clients.push(c);
  return { c, tokenCalls: () => calls };
}

/** Drop every socket of a person on the server side. */
function dropSockets(sub: string, how: 'kick' | 'transport'): number {
  let n = 0;
  for (const conn of server.app.gateway.connections()) {
    if (conn.principal.sub !== sub) continue;
    n++;
    if (how === 'kick') conn.socket.disconnect(true);
    else conn.socket.conn.close();
  }
  return n;
}

describe('client SDK core', () => {
  it('connects, sends typed requests and learns who it is', async () => {
    const { c } = await client('Kim');
    expect(c.state).toBe('connected');
    expect(c.me).toMatchObject({ sub: 'kim', name: 'Kim', site: 'hq' });
    const pong = await c.request('system:ping', { t: 42 });
    expect(pong.t).toBe(42);
    expect(typeof pong.serverTime).toBe('number');
  });

  it('rejects with the error code of an error acknowledgement', async () => {
    const { c } = await client('Lee');
    await expect(c.request('system:ping', { t: 'x' } as never)).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    await expect(c.request('system:auth', { token: 'not-a-token' })).rejects.toMatchObject({
      code: expect.stringMatching(/^TOKEN_/),
    });
  });

  it('refuses to start with a bad token, with its code', async () => {
    await expect(
      connect({ url: server.url, transports: ['websocket'], getToken: () => 'garbage', reconnectDelayMs: 50 }),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('refreshes the token with system:auth before it expires', async () => {
    const { c, tokenCalls } = await client('Park', 'hq', { ttlSeconds: 8 });
    const first = c.token!;
    const refreshed = await once<{ expiresAt: number }>((r) => c.on('tokenRefreshed', r));
    expect(tokenCalls()).toBeGreaterThanOrEqual(2);
    expect(c.token).not.toBe(first);
    expect(refreshed.expiresAt).toBe(tokenExpiry(c.token!));
    // past the first token's expiry, requests still work on the same connection
    while (Date.now() < tokenExpiry(first)! * 1000 + 500) await new Promise((r) => setTimeout(r, 250));
    expect((await c.request('system:whoami', {})).sub).toBe('park');
  });

  for (const how of ['kick', 'transport'] as const) {
    it(`reconnects by itself when the server drops the socket (${how})`, async () => {
      const { c } = await client('Choi');
      const reconnecting = once<{ reason: string }>((r) => c.on('reconnecting', r));
      const reconnected = once<{ downtimeMs: number }>((r) => c.on('reconnected', r));
      expect(dropSockets('choi', how)).toBe(1);
      expect((await reconnecting).reason).toMatch(how === 'kick' ? /io server disconnect/ : /transport/);
      await reconnected;
      expect(c.state).toBe('connected');
      expect((await c.request('system:ping', { t: 1 })).t).toBe(1);
    });
  }

  it('a request made while disconnected waits for the reconnect', async () => {
    const { c } = await client('Jung');
    const reconnecting = once((r) => c.on('reconnecting', r));
    dropSockets('jung', 'kick');
    await reconnecting;
    expect((await c.request('system:ping', { t: 7 })).t).toBe(7);
  });

  it('asks getToken again when a reconnect needs a fresh token', async () => {
    // 35 s tokens, refreshed at 80% of their life (28 s): a reconnect after 6 s finds < 30 s left
    const { c, tokenCalls } = await client('Yoon', 'hq', { ttlSeconds: 35, tokenRefreshMarginMs: 0 });
    const first = c.token;
    expect(tokenCalls()).toBe(1);
    await new Promise((r) => setTimeout(r, 6_000));
    const reconnected = once((r) => c.on('reconnected', r));
    dropSockets('yoon', 'kick');
    await reconnected;
    expect(tokenCalls()).toBe(2);
    expect(c.token).not.toBe(first);
  }, 30_000);

  it('close() disconnects for good', async () => {
    const { c } = await client('Han');
    const closed = once<{ reason: string }>((r) => c.on('closed', r));
    await c.close();
    await closed;
    expect(c.state).toBe('closed');
    await expect(c.request('system:ping', { t: 1 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // the server sees the device leave
    for (let i = 0; i < 50 && [...server.app.gateway.connections()].some((x) => x.principal.sub === 'han'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect([...server.app.gateway.connections()].some((x) => x.principal.sub === 'han')).toBe(false);
  });
});

describe('client SDK presence', () => {
  it('sees others, their changes, and keeps watching across a reconnect', async () => {
    const { c: a } = await client('Ahn', 'hq');
    await a.presence.subscribe({ sites: ['hq', 'so-sejong'] });
    const { c: b } = await client('Bae', 'so-sejong');
    await expect.poll(() => a.presence.people.get('bae')?.state, { timeout: 10_000 }).toBe('online');

    await b.presence.set({ status: '회의 준비 중', busy: true });
    await expect.poll(() => a.presence.people.get('bae')?.status, { timeout: 10_000 }).toBe('회의 준비 중');
    expect(a.presence.people.get('bae')?.state).toBe('busy');

    // A drops; while A is away B leaves and C arrives; A's picture is right once back
    const reconnected = once((r) => a.on('reconnected', r));
    dropSockets('ahn', 'kick');
    await b.close();
    const { c: cc } = await client('Cho', 'so-sejong');
    await reconnected;
    expect(cc.state).toBe('connected');
    await expect.poll(() => a.presence.people.get('cho')?.state, { timeout: 10_000 }).toBe('online');
    await expect.poll(() => a.presence.people.get('bae')?.state, { timeout: 10_000 }).toBe('offline');
    // and updates keep coming after the reconnect
    await cc.presence.set({ status: 'back' });
    await expect.poll(() => a.presence.people.get('cho')?.status, { timeout: 10_000 }).toBe('back');
  });
});
