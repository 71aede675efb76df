/**
 * OpenID Connect sign-in against a real provider (`oidc-provider` v9) started here: the
 * authorization code flow with PKCE, state and nonce signs in and maps claims; moim's own checks
 * refuse a tampered state, a state from another browser, a reused state or code, and a code or
 * ID token meant for another client.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIdClaims } from '../server/src/auth/OidcSignIn.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { CookieJar, startTestProvider, type TestProvider } from './support/oidcProvider.ts';

let idp: TestProvider;
let server: TestServer;

beforeAll(async () => {
  idp = await startTestProvider();
  server = await startTestServer({
    MOIM_OIDC_ISSUER: idp.issuer,
    MOIM_OIDC_CLIENT_ID: 'moim',
    MOIM_OIDC_CLIENT_SECRET: 'moim-client-secret-0123456789',
    MOIM_OIDC_ALLOW_INSECURE: 'true',
    MOIM_OIDC_CLAIMS: JSON.stringify({
      org: 'org',
      site: 'site',
      teams: 'groups',
      role: 'roles',
      roles: { admin: ['moim-admin'], manager: ['lead'] },
    }),
  });
  const moimRedirect = `${server.url.replace('127.0.0.1', 'localhost')}/auth/oidc/callback`;
  idp.configure([
    { client_id: 'moim', client_secret: 'moim-client-secret-0123456789', redirect_uris: [moimRedirect] },
    { client_id: 'other', client_secret: 'other-client-secret-0123456789', redirect_uris: ['http://other.example/cb'] },
  ]);
  idp.accounts.set('u-100', {
    name: '김민지',
    email: 'minji@example.org',
    org: 'acme',
    site: 'busan',
    groups: ['ops', 'dev'],
    roles: ['moim-admin'],
  });
  idp.accounts.set('u-200', { name: 'Other Minji', email: 'minji@example.org', org: 'acme' });
});
afterAll(async () => {
  await server?.close();
  await idp?.close();
});

/** Follow the provider's redirects (login and consent answered at once) to moim's callback URL. */
async function authorize(jar: CookieJar, url: string): Promise<URL> {
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
    jar.store(url, res);
    const location = res.headers.get('location');
    if (!location) throw new Error(`provider answered ${res.status} at ${url}: ${await res.text()}`);
    const next = new URL(location, url);
    if (next.pathname === '/auth/oidc/callback' || next.host === 'other.example') return next;
    url = next.href;
  }
  throw new Error('too many redirects');
}

/** moim's start: the provider URL and the browser's jar holding moim's binding cookie. */
async function start(): Promise<{ jar: CookieJar; authUrl: URL }> {
  const jar = new CookieJar();
  const res = await fetch(`${server.url}/auth/oidc/start`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  jar.store(server.url, res);
  return { jar, authUrl: new URL(res.headers.get('location')!) };
}

async function callback(jar: CookieJar, query: URLSearchParams | string) {
  const res = await fetch(`${server.url}/auth/oidc/callback?${query}`, {
    redirect: 'manual',
    headers: { cookie: jar.header(server.url) },
  });
  if (res.status === 302) {
    const token = decodeURIComponent(res.headers.get('location')!.split('#token=')[1] ?? '');
    return { status: 302, token, code: undefined };
  }
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, token: undefined, code: body.error?.code, message: body.error?.message };
}

async function signIn(account: string) {
  idp.next.account = account;
  const { jar, authUrl } = await start();
  const back = await authorize(jar, authUrl.href);
  return { jar, authUrl, back, result: await callback(jar, back.searchParams) };
}

describe('OIDC sign-in', () => {
  it('signs in with PKCE, state and nonce; maps claims; links by issuer + subject, never e-mail', async () => {
    const { authUrl, result } = await signIn('u-100');
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authUrl.searchParams.get('state')).toBeTruthy();
    expect(authUrl.searchParams.get('nonce')).toBeTruthy();
    expect(result.status).toBe(302);
    const claims = server.app.tokens.verify(result.token);
    expect(claims).toMatchObject({ org: 'acme', site: 'busan', teams: ['ops', 'dev'], role: 'admin', name: '김민지' });
    expect(claims.amr).toEqual(['oidc']);
    expect(jwt.decode(result.token!, { complete: true })!.header.alg).toBe('ES256');
    // the same subject again: the same person; another subject with the same e-mail: someone else
    const again = server.app.tokens.verify((await signIn('u-100')).result.token);
    expect(again.sub).toBe(claims.sub);
    const other = server.app.tokens.verify((await signIn('u-200')).result.token);
    expect(other.sub).not.toBe(claims.sub);
    expect(other.role).toBe('member');
    // the token works on socket.io
    const socket = await server.connect(result.token!);
    expect(socket.connected).toBe(true);
    socket.disconnect();
    const audit = await server.app.stores.audit.list({ action: 'auth.sign-in', limit: 100 });
    expect(audit.some((e) => e.actor === claims.sub && e.detail?.method === 'oidc')).toBe(true);
  });

  it('refuses a tampered state, and a state from another browser (consuming it)', async () => {
    idp.next.account = 'u-100';
    const a = await start();
    const back = await authorize(a.jar, a.authUrl.href);
    const tampered = new URLSearchParams(back.searchParams);
    tampered.set('state', `${tampered.get('state')}x`);
    expect(await callback(a.jar, tampered)).toMatchObject({ status: 401, code: 'SIGN_IN_FAILED' });
    // another browser (its own binding cookie) presents this browser's state: refused, and the state is gone
    const b = await start();
    expect(await callback(b.jar, back.searchParams)).toMatchObject({
      status: 401,
      code: 'SIGN_IN_FAILED',
      message: expect.stringMatching(/another browser/),
    });
    expect(await callback(a.jar, back.searchParams)).toMatchObject({
      status: 401,
      code: 'SIGN_IN_FAILED',
      message: expect.stringMatching(/used or expired state/),
    });
  });

  it('refuses a reused callback and a reused code', async () => {
    const first = await signIn('u-100');
    expect(first.result.status).toBe(302);
    // the same callback again: its state was consumed
    expect(await callback(first.jar, first.back.searchParams)).toMatchObject({ code: 'SIGN_IN_FAILED' });
    // the used code under a fresh, valid state of the same browser: the provider refuses the code
    const fresh = await fetch(`${server.url}/auth/oidc/start`, {
      redirect: 'manual',
      headers: { cookie: first.jar.header(server.url) },
    });
    first.jar.store(server.url, fresh);
    const state = new URL(fresh.headers.get('location')!).searchParams.get('state')!;
    const replay = new URLSearchParams(first.back.searchParams);
    replay.set('state', state);
    const res = await callback(first.jar, replay);
    expect(res).toMatchObject({ status: 401, code: 'SIGN_IN_FAILED', message: expect.stringMatching(/invalid_grant/) });
  });

  it('refuses a code issued to another client', async () => {
    idp.next.account = 'u-100';
    // the other client's flow, run by hand at the provider
    const jar = new CookieJar();
    const url = new URL(`${idp.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: 'other',
      redirect_uri: 'http://other.example/cb',
      response_type: 'code',
      scope: 'openid profile',
      state: 'other-state',
      nonce: 'other-nonce',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const otherBack = await authorize(jar, url.href);
    expect(otherBack.searchParams.get('code')).toBeTruthy();
    const mine = await start();
    const state = mine.authUrl.searchParams.get('state')!;
    const forged = new URLSearchParams({ code: otherBack.searchParams.get('code')!, state, iss: idp.issuer });
    expect(await callback(mine.jar, forged)).toMatchObject({
      status: 401,
      code: 'SIGN_IN_FAILED',
      message: expect.stringMatching(/invalid_grant/),
    });
    // a browser (Accept: text/html) is sent back to the web app with the code instead
    const again = await start();
    const res = await fetch(`${server.url}/auth/oidc/callback?state=${again.authUrl.searchParams.get('state')}x`, {
      redirect: 'manual',
      headers: { cookie: again.jar.header(server.url), accept: 'text/html' },
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/#signin-error=SIGN_IN_FAILED');
    const failures = await server.app.stores.audit.list({ action: 'auth.sign-in-failed', limit: 100 });
    expect(failures.length).toBeGreaterThan(0);
  });
});

describe('moim’s own ID-token checks', () => {
  const good = { iss: 'https://idp', aud: 'moim', nonce: 'n1', sub: 'u1' };
  const expected = { issuer: 'https://idp', clientId: 'moim', nonce: 'n1' };
  it.each([
    ['another issuer', { ...good, iss: 'https://evil' }],
    ['another client (aud)', { ...good, aud: 'other' }],
    ['several audiences without azp', { ...good, aud: ['moim', 'other'] }],
    ['another authorized party', { ...good, azp: 'other' }],
    ['another nonce', { ...good, nonce: 'n2' }],
    ['no nonce', { ...good, nonce: undefined }],
    ['no subject', { ...good, sub: '' }],
  ])('refuses %s', (_what, claims) => {
    expect(() => checkIdClaims(claims, expected)).toThrow(expect.objectContaining({ code: 'SIGN_IN_FAILED' }));
  });
  it('accepts the expected claims', () => {
    expect(() => checkIdClaims(good, expected)).not.toThrow();
    expect(() => checkIdClaims({ ...good, aud: ['moim', 'x'], azp: 'moim' }, expected)).not.toThrow();
  });
});
