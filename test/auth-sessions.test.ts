/**
 * moim's own session tokens (issue 17): ES256 with `kid`, served at /.well-known/jwks.json,
 * accepted by HTTP, socket.io and /yjs as any token is; key rotation keeps the old public key;
 * refresh, logout (the session's token refused, its socket dropped), revocation of a person who
 * left (every token refused at once, live sockets and /yjs dropped), step-up on approval
 * decisions, sign-in rate limits per address.
 */
import { createPublicKey } from 'node:crypto';
import { connect, devToken } from '@moim/client-sdk';
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthMethod } from '../server/src/auth/Sessions.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { closedWith, destroyAllClients, openDoc, synced } from './docs-support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    MOIM_STEP_UP: 'on',
    MOIM_PASSKEY_RP_ID: 'localhost',
    MOIM_SIGNIN_PER_ADDRESS_PER_MIN: '5',
  });
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

const profile = { name: 'Alice', site: 'hq', role: 'member' as const, teams: ['ops'] };
const issue = (sub: string, amr: AuthMethod[] = ['oidc'], role: 'member' | 'admin' = 'member') =>
  server.app.signIn.sessions.issue('default', sub, { ...profile, role }, amr);

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } & Record<string, unknown> };
}

const disconnected = (socket: { once(e: 'disconnect', fn: (reason: string) => void): unknown }) =>
  new Promise<string>((resolve) => socket.once('disconnect', resolve));

describe('session tokens', () => {
  it('are ES256 with a kid the JWKS publishes, and verify with that JWK alone', async () => {
    const { token } = issue('jwks-1');
    const header = jwt.decode(token, { complete: true })!.header;
    expect(header.alg).toBe('ES256');
    const res = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Array<{ kid: string; kty: string; crv: string; alg: string }> };
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    const payload = jwt.verify(token, createPublicKey({ key: jwk as never, format: 'jwk' }), {
      algorithms: ['ES256'],
    }) as jwt.JwtPayload;
    expect(payload).toMatchObject({ sub: 'jwks-1', aud: 'moim', amr: ['oidc'] });
    expect(typeof payload.sid).toBe('string');
  });

  it('are accepted by HTTP, socket.io and /yjs', async () => {
    const { token } = issue('everywhere');
    expect((await api('GET', '/approvals?role=applicant', token)).status).toBe(200);
    const socket = await server.connect(token);
    expect(socket.connected).toBe(true);
    const doc = openDoc(server.url, 'session-doc', token);
    await synced(doc);
    socket.disconnect();
  });

  it('rotate: a new kid signs, the old key stays published and its tokens still verify', async () => {
    const before = issue('rot-1');
    const oldKid = jwt.decode(before.token, { complete: true })!.header.kid;
    const newKid = await server.app.signIn.keys.rotate();
    const after = issue('rot-2');
    expect(jwt.decode(after.token, { complete: true })!.header.kid).toBe(newKid);
    const kids = (
      (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
    ).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect((await api('GET', '/approvals?role=applicant', before.token)).status).toBe(200);
    expect((await api('GET', '/approvals?role=applicant', after.token)).status).toBe(200);
  });

  it('refresh keeps the session; logout refuses its tokens and drops its socket, not other sessions', async () => {
    const a = issue('leaver-session');
    const b = issue('leaver-session');
    const refreshed = await api('POST', '/auth/session/refresh', a.token);
    expect(refreshed.status).toBe(200);
    const fresh = refreshed.body.token as string;
    expect((jwt.decode(fresh) as jwt.JwtPayload).sid).toBe(a.sid);
    const socketA = await server.connect(fresh);
    const socketB = await server.connect(b.token);
    const docA = openDoc(server.url, 'logout-doc', fresh);
    const docB = openDoc(server.url, 'logout-doc', b.token);
    await Promise.all([synced(docA), synced(docB)]);
    const gone = disconnected(socketA);
    const docGone = closedWith(docA);
    expect((await api('POST', '/auth/logout', a.token)).status).toBe(200);
    await gone;
    expect(await docGone).toMatchObject({ code: 4401, reason: expect.stringMatching(/TOKEN_REVOKED/) });
    expect(docB.closes).toEqual([]);
    for (const t of [a.token, fresh]) {
      const res = await api('GET', '/approvals?role=applicant', t);
      expect(res.status).toBe(401);
      expect(res.body.error?.code).toBe('TOKEN_REVOKED');
    }
    await expect(server.connect(fresh)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    expect(socketB.connected).toBe(true);
    expect((await api('GET', '/approvals?role=applicant', b.token)).status).toBe(200);
    socketB.disconnect();
    const audit = await server.app.stores.audit.list({ action: 'auth.logout', limit: 10 });
    expect(audit.some((e) => e.actor === 'leaver-session')).toBe(true);
  });

  it('revoking a person who left refuses every token of theirs at once and drops sockets and /yjs', async () => {
    const admin = issue('boss', ['oidc'], 'admin');
    const session = issue('left-1');
    const dev = await server.token({ name: 'Left', sub: 'left-1' });
    const socket = await server.connect(dev);
    const doc = openDoc(server.url, 'left-doc', session.token);
    await synced(doc);
    const gone = disconnected(socket);
    const docClosed = closedWith(doc);
    const member = issue('not-admin');
    expect((await api('POST', '/auth/revocations', member.token, { sub: 'left-1' })).body.error?.code).toBe(
      'FORBIDDEN',
    );
    expect((await api('POST', '/auth/revocations', admin.token, { sub: 'left-1' })).status).toBe(200);
    await gone;
    expect((await docClosed).code).toBeGreaterThanOrEqual(4000);
    for (const t of [session.token, dev]) {
      const res = await api('GET', '/approvals?role=applicant', t);
      expect(res.body.error?.code).toBe('TOKEN_REVOKED');
      await expect(server.connect(t)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    }
    // reinstated: accepted again
    expect((await api('DELETE', '/auth/revocations/left-1', admin.token)).status).toBe(200);
    expect((await api('GET', '/approvals?role=applicant', dev)).status).toBe(200);
  });
});

describe('the SDK and revocation', () => {
  it('a revoked person’s client closes with TOKEN_REVOKED instead of retrying', async () => {
    const client = await connect({
      url: server.url,
      getToken: async () =>
        (await devToken(server.url, { name: 'Sdk', sub: 'sdk-left', site: 'hq', role: 'member' })).token,
      reconnectDelayMs: 50,
    });
    const closed = new Promise<{ code?: string }>((resolve) => client.on('closed', resolve));
    const admin = issue('boss-sdk', ['oidc'], 'admin');
    expect((await api('POST', '/auth/revocations', admin.token, { sub: 'sdk-left' })).status).toBe(200);
    expect((await closed).code).toBe('TOKEN_REVOKED');
    expect(client.state).toBe('closed');
  });
});

describe('step-up', () => {
  it('an approval decision needs a fresh passkey or certificate', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    const weak = issue('approver-1', ['oidc']);
    const res = await api('POST', `/approvals/${id}/approve`, weak.token, {});
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe('STEP_UP_REQUIRED');
    const dev = await server.token({ name: 'Dev', sub: 'approver-2' });
    expect((await api('POST', `/approvals/${id}/approve`, dev, {})).body.error?.code).toBe('STEP_UP_REQUIRED');
    // an outside (here: HS256) token's own amr and auth_time claims do not count
    const forged = jwt.sign(
      {
        sub: 'approver-3',
        name: 'Forger',
        site: 'hq',
        role: 'member',
        grants: {},
        amr: ['passkey'],
        auth_time: Math.floor(Date.now() / 1000),
      },
      server.app.config.jwtSecret!,
      { algorithm: 'HS256', keyid: 'hs-1', audience: 'moim', issuer: 'moim-dev', expiresIn: 60 },
    );
    expect((await api('POST', `/approvals/${id}/approve`, forged, {})).body.error?.code).toBe('STEP_UP_REQUIRED');
    const strong = issue('approver-1', ['passkey']);
    const passed = await api('POST', `/approvals/${id}/reject`, strong.token, {});
    expect(passed.body.error?.code).not.toBe('STEP_UP_REQUIRED');
    expect(passed.status).toBe(404);
  });
});

describe('sign-in rate limits', () => {
  it('refuses attempts past the per-address limit with RATE_LIMITED', async () => {
    await awayFromMinuteEdge();
    const codes: number[] = [];
    for (let i = 0; i < 7; i++)
      codes.push((await fetch(`${server.url}/auth/passkeys/login/options`, { method: 'POST' })).status);
    expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(codes.slice(5)).toEqual([429, 429]);
  });
});

/** The limits count in one-minute windows: start a few seconds clear of a window's edge. */
async function awayFromMinuteEdge(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
}
