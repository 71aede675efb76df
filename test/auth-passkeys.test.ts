/**
 * Passkeys on the server (issue 17), with a software authenticator that signs real assertions:
 * register and sign in with user verification; a replayed challenge, an assertion without user
 * verification (UV flag off, crafted — a browser would not send it), another person's challenge
 * and an unknown passkey are refused; passkey step-up makes approvals possible.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { SoftAuthenticator } from './support/softAuthenticator.ts';

let server: TestServer;
let origin: string;
beforeAll(async () => {
  server = await startTestServer({ MOIM_PASSKEY_RP_ID: 'localhost', MOIM_STEP_UP: 'on' });
  origin = new URL(server.url).origin.replace('127.0.0.1', 'localhost');
});
afterAll(() => server.close());

async function post<T = Record<string, unknown>>(path: string, body?: unknown, token?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T & { error?: { code: string; message: string } } };
}

async function registered(name: string, sub: string) {
  const token = await server.token({ name, sub, role: 'manager' });
  const auth = new SoftAuthenticator('localhost', origin);
  const opts = await post<{ options: { challenge: string; authenticatorSelection: { userVerification: string } } }>(
    '/auth/passkeys/register/options',
    {},
    token,
  );
  expect(opts.status).toBe(200);
  expect(opts.body.options.authenticatorSelection.userVerification).toBe('required');
  const reg = await post('/auth/passkeys/register', { response: auth.register(opts.body.options) }, token);
  expect(reg.status).toBe(201);
  return { token, auth };
}

const loginOptions = async () =>
  (
    await post<{ options: { challenge: string; userVerification: string; rpId: string } }>(
      '/auth/passkeys/login/options',
    )
  ).body.options;

describe('passkeys', () => {
  it('register, then sign in with user verification: a session token with amr passkey', async () => {
    const { auth } = await registered('Hana', 'hana-1');
    const options = await loginOptions();
    expect(options).toMatchObject({ userVerification: 'required', rpId: 'localhost' });
    const res = await post<{ token: string }>('/auth/passkeys/login', { response: auth.assert(options) });
    expect(res.status).toBe(200);
    const claims = server.app.tokens.verify(res.body.token);
    expect(claims).toMatchObject({ sub: 'hana-1', name: 'Hana', role: 'manager', amr: ['passkey'] });
    expect(claims.auth_time).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('refuses a replayed assertion (its challenge was used)', async () => {
    const { auth } = await registered('Replay', 'replay-1');
    const answer = auth.assert(await loginOptions());
    expect((await post('/auth/passkeys/login', { response: answer })).status).toBe(200);
    const again = await post('/auth/passkeys/login', { response: answer });
    expect(again.status).toBe(401);
    expect(again.body.error).toMatchObject({
      code: 'SIGN_IN_FAILED',
      message: expect.stringMatching(/used or expired challenge/),
    });
  });

  it('refuses an assertion without user verification (crafted, UV flag off)', async () => {
    const { auth } = await registered('NoUv', 'nouv-1');
    const res = await post('/auth/passkeys/login', {
      response: auth.assert(await loginOptions(), { userVerified: false }),
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({
      code: 'SIGN_IN_FAILED',
      message: expect.stringMatching(/user verification/i),
    });
    // and a registration without it
    const token = await server.token({ name: 'NoUv2', sub: 'nouv-2' });
    const other = new SoftAuthenticator('localhost', origin);
    const opts = await post<{ options: { challenge: string } }>('/auth/passkeys/register/options', {}, token);
    const reg = await post(
      '/auth/passkeys/register',
      { response: other.register(opts.body.options, { userVerified: false }) },
      token,
    );
    expect(reg.body.error?.code).toBe('SIGN_IN_FAILED');
  });

  it('refuses another origin, an unknown passkey, and a made-up challenge', async () => {
    const { auth } = await registered('Edge', 'edge-1');
    const evil = new SoftAuthenticator('localhost', 'http://evil.example');
    Object.defineProperty(evil, 'credentialId', { value: auth.credentialId });
    const wrongOrigin = await post('/auth/passkeys/login', { response: evil.assert(await loginOptions()) });
    expect(wrongOrigin.body.error?.code).toBe('SIGN_IN_FAILED');
    const stranger = new SoftAuthenticator('localhost', origin);
    expect(
      (await post('/auth/passkeys/login', { response: stranger.assert(await loginOptions()) })).body.error?.code,
    ).toBe('SIGN_IN_FAILED');
    const madeUp = await post('/auth/passkeys/login', { response: auth.assert({ challenge: 'bm90LWEtY2hhbGxlbmdl' }) });
    expect(madeUp.body.error?.code).toBe('SIGN_IN_FAILED');
    const garbage = await post('/auth/passkeys/login', { response: { id: '__proto__', type: 'public-key' } });
    expect(garbage.body.error?.code).toBe('INVALID_PAYLOAD');
  });

  it('a person whose access was revoked cannot sign in with their passkey', async () => {
    const { auth } = await registered('Gone', 'gone-1');
    const admin = await server.token({ name: 'Admin', sub: 'admin-pk', role: 'admin' });
    expect((await post('/auth/revocations', { sub: 'gone-1' }, admin)).status).toBe(200);
    const res = await post('/auth/passkeys/login', { response: auth.assert(await loginOptions()) });
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe('TOKEN_REVOKED');
  });

  it('step-up with a passkey: a decision refused before, allowed past the step-up check after', async () => {
    const { token, auth } = await registered('Boss', 'boss-1');
    const id = '00000000-0000-4000-8000-000000000002';
    expect((await post(`/approvals/${id}/approve`, {}, token)).body.error?.code).toBe('STEP_UP_REQUIRED');
    // another person's step-up challenge cannot be answered by this person
    const someone = await registered('Someone', 'someone-1');
    const foreign = await post<{ options: { challenge: string } }>('/auth/step-up/passkey/options', {}, someone.token);
    expect(
      (await post('/auth/step-up/passkey', { response: auth.assert(foreign.body.options) }, token)).body.error?.code,
    ).toBe('SIGN_IN_FAILED');
    const opts = await post<{ options: { challenge: string } }>('/auth/step-up/passkey/options', {}, token);
    const up = await post<{ token: string }>(
      '/auth/step-up/passkey',
      { response: auth.assert(opts.body.options) },
      token,
    );
    expect(up.status).toBe(200);
    const stepped = await post(`/approvals/${id}/approve`, {}, up.body.token);
    expect(stepped.body.error?.code).toBe('NOT_FOUND');
  });
});

describe('per-account sign-in limit', () => {
  it('refuses a passkey’s attempts past MOIM_SIGNIN_PER_ACCOUNT_PER_MIN, whatever the answers', async () => {
    const limited = await startTestServer({ MOIM_PASSKEY_RP_ID: 'localhost', MOIM_SIGNIN_PER_ACCOUNT_PER_MIN: '2' });
    try {
      const at = (path: string, body?: unknown, token?: string) =>
        fetch(`${limited.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body ?? {}),
        }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, unknown> & { error?: { code: string } },
        }));
      const token = await limited.token({ name: 'Limited', sub: 'limited-1' });
      const auth = new SoftAuthenticator('localhost', new URL(limited.url).origin.replace('127.0.0.1', 'localhost'));
      const reg = (await at('/auth/passkeys/register/options', {}, token)).body.options as { challenge: string };
      expect((await at('/auth/passkeys/register', { response: auth.register(reg) }, token)).status).toBe(201);
      await awayFromMinuteEdge();
      const codes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const options = (await at('/auth/passkeys/login/options')).body.options as { challenge: string };
        // the first two are refused (UV off) and count; the third, a good one, is over the limit
        const res = await at('/auth/passkeys/login', { response: auth.assert(options, { userVerified: i === 2 }) });
        codes.push(res.body.error?.code ?? String(res.status));
      }
      expect(codes).toEqual(['SIGN_IN_FAILED', 'SIGN_IN_FAILED', 'RATE_LIMITED']);
    } finally {
      await limited.close();
    }
  });
});

/** The limits count in one-minute windows: start a few seconds clear of a window's edge. */
async function awayFromMinuteEdge(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
}
