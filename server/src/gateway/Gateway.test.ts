import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it } from 'vitest';
import { call, request, startTestServer, type TestServer } from '../testing/index.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function refusalCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'CONNECTED';
}

describe('socket.io gateway', () => {
  it('accepts a dev token and knows who is connected', async () => {
    server = await startTestServer();
    const socket = await server.connect(await server.token({ name: 'Choi', site: 'home' }));
    const me = await call<{ name: string; site: string }>(socket, 'system:whoami', {});
    expect(me).toMatchObject({ name: 'Choi', site: 'home' });
    const pong = await call<{ t: number }>(socket, 'system:ping', { t: 7 });
    expect(pong.t).toBe(7);
  });

  it('refuses bad tokens at the handshake with the code in connect_error data', async () => {
    server = await startTestServer();
    const good = await server.token({ name: 'Yoon' });
    expect(await refusalCode(server.connect('garbage'))).toBe('TOKEN_INVALID');
    expect(await refusalCode(server.connect(''))).toBe('TOKEN_MISSING');
    const payload = jwt.decode(good) as Record<string, unknown>;
    const secret = server.app.config.jwtSecret!;
    const expired = jwt.sign({ ...payload, exp: Math.floor(Date.now() / 1000) - 30 }, secret, {
      algorithm: 'HS256',
      keyid: 'hs-1',
    });
    expect(await refusalCode(server.connect(expired))).toBe('TOKEN_EXPIRED');
    expect(await refusalCode(server.connect(good, { protocol: 999 }))).toBe('PROTOCOL_MISMATCH');
    expect(await refusalCode(server.connect(good))).toBe('CONNECTED');
  });

  it('answers malformed payloads with INVALID_PAYLOAD and keeps the socket up', async () => {
    server = await startTestServer();
    const socket = await server.connect(await server.token({ name: 'Han' }));
    const bad: unknown[] = [
      undefined,
      null,
      42,
      'x',
      [],
      { t: 'now' },
      { t: 1, extra: true },
      { t: Number.NaN },
      { t: 'x'.repeat(100_000) },
    ];
    for (const payload of bad) {
      const ack = await request(socket, 'system:ping', payload);
      expect(ack).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    }
    expect(await request(socket, 'no:such-event', {})).toMatchObject({ error: { code: 'UNKNOWN_EVENT' } });
    expect(await request(socket, '__proto__', {})).toMatchObject({ error: { code: 'UNKNOWN_EVENT' } });
    expect(socket.connected).toBe(true);
    expect(await call(socket, 'system:ping', { t: 1 })).toMatchObject({ t: 1 });
  });

  it('rate-limits a connection with RATE_LIMITED and lets it recover', async () => {
    server = await startTestServer({ MOIM_RATE_LIMIT_PER_SEC: '1', MOIM_RATE_LIMIT_BURST: '10' });
    const socket = await server.connect(await server.token({ name: 'Flooder' }));
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => request(socket, 'system:ping', { t: i })));
    const limited = acks.filter((a) => 'error' in a && a.error.code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThanOrEqual(25);
    expect(limited).toBeLessThanOrEqual(30);
    // another connection is not affected
    const other = await server.connect(await server.token({ name: 'Calm' }));
    expect(await call(other, 'system:ping', { t: 1 })).toMatchObject({ t: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await call(socket, 'system:ping', { t: 2 })).toMatchObject({ t: 2 });
  });

  it('refreshes a token for the same person only', async () => {
    server = await startTestServer();
    const socket = await server.connect(await server.token({ name: 'Seo' }));
    const fresh = await server.token({ name: 'Seo' });
    expect(await call<{ expiresAt: number }>(socket, 'system:auth', { token: fresh })).toHaveProperty('expiresAt');
    const other = await server.token({ name: 'Somebody Else' });
    expect(await request(socket, 'system:auth', { token: other })).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(await request(socket, 'system:auth', { token: 'junk' })).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
  });

  it('emits reauth(conn, previous, next) once per accepted refresh, before the answer', async () => {
    server = await startTestServer();
    const seen: Array<{ conn: string; before: string; after: string; current: boolean }> = [];
    server.app.gateway.on('reauth', (conn, previous, next) =>
      seen.push({ conn: conn.id, before: previous.token.org, after: next.token.org, current: conn.principal === next }),
    );
    const socket = await server.connect(await server.token({ name: 'Kim', sub: 'kim' }));
    await call(socket, 'system:auth', { token: await server.token({ name: 'Kim', sub: 'kim', org: 'globex' }) });
    expect(seen).toEqual([{ conn: expect.any(String), before: 'default', after: 'globex', current: true }]);
    expect(await call(socket, 'system:whoami', {})).toMatchObject({ org: 'globex' });
    // refused refreshes change nothing and emit nothing
    await request(socket, 'system:auth', { token: await server.token({ name: 'Lee', sub: 'lee' }) });
    expect(seen).toHaveLength(1);
    expect(server.app.gateway.connectionsOf('globex', 'kim')).toBe(1);
    expect(server.app.gateway.connectionsOf('default', 'kim')).toBe(0);
  });
});
