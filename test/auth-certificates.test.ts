/**
 * Certificate sign-in (issue 17, GPKI stand-in) on its own mutual-TLS listener: a test CA made
 * with openssl here, a client certificate from it signs in (subject mapped to a person, linked by
 * issuer + subject), another CA's certificate, a revoked one and none at all are refused; the
 * certificate step-up endpoint renews a session's second factor for its own person only.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { TestCa } from './support/testCa.ts';

let dir: string;
let ca: TestCa;
let other: TestCa;
let server: TestServer;
const client: Record<string, { cert: string; key: string }> = Object.create(null);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'moim-ca-'));
  ca = new TestCa(path.join(dir, 'gpki'), '/C=KR/O=Test GPKI/CN=Test GPKI Root');
  other = new TestCa(path.join(dir, 'other'), '/C=KR/O=Elsewhere/CN=Other Root');
  const tls = ca.issue('server', '/CN=localhost', 'server');
  client.alice = ca.issue('alice', '/C=KR/O=acme/OU=ops/CN=Alice Kim', 'client');
  client.bob = ca.issue('bob', '/C=KR/O=acme/CN=Bob Lee', 'client');
  client.mallory = other.issue('mallory', '/C=KR/O=acme/CN=Alice Kim', 'client');
  ca.revoke(client.bob.cert);
  server = await startTestServer({
    MOIM_CERT_PORT: '0',
    MOIM_CERT_SERVER_CERT: tls.cert,
    MOIM_CERT_SERVER_KEY: tls.key,
    MOIM_CERT_CA: ca.cert,
    MOIM_CERT_CRL: ca.crl(),
    MOIM_CERT_CLAIMS: JSON.stringify({ name: 'CN', org: 'O', teams: 'OU', siteDefault: 'hq' }),
    MOIM_STEP_UP: 'on',
  });
}, 30_000);
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function mtls(
  pathname: string,
  who: { cert: string; key: string } | undefined,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
  const url = new URL(pathname, server.app.signIn.certUrl!.replace('localhost', '127.0.0.1'));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        servername: 'localhost',
        ca: readFileSync(ca.cert),
        ...(who ? { cert: readFileSync(who.cert), key: readFileSync(who.key) } : {}),
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('certificate sign-in', () => {
  it('a client certificate from the configured CA signs in as the person its subject maps to', async () => {
    const res = await mtls('/auth/certificate', client.alice);
    expect(res.status).toBe(200);
    const claims = server.app.tokens.verify(res.body.token);
    expect(claims).toMatchObject({ name: 'Alice Kim', org: 'acme', teams: ['ops'], site: 'hq', amr: ['x509'] });
    // the same certificate subject again: the same person
    const again = server.app.tokens.verify((await mtls('/auth/certificate', client.alice)).body.token);
    expect(again.sub).toBe(claims.sub);
    // the main port does not serve it
    expect((await fetch(`${server.url}/auth/certificate`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses another CA’s certificate (even with the same subject), a revoked one, and none', async () => {
    const mallory = await mtls('/auth/certificate', client.mallory);
    expect(mallory.status).toBe(401);
    expect(mallory.body.error).toMatchObject({
      code: 'SIGN_IN_FAILED',
      message: expect.stringMatching(/client certificate is refused/),
    });
    const bob = await mtls('/auth/certificate', client.bob);
    expect(bob.status).toBe(401);
    expect(bob.body.error).toMatchObject({ code: 'SIGN_IN_FAILED', message: expect.stringMatching(/CERT_REVOKED/) });
    const none = await mtls('/auth/certificate', undefined);
    expect(none.body.error).toMatchObject({
      code: 'SIGN_IN_FAILED',
      message: expect.stringMatching(/no client certificate/),
    });
    const failures = await server.app.stores.audit.list({ action: 'auth.sign-in-failed', limit: 100 });
    expect(failures.filter((f) => f.detail?.method === 'x509').length).toBeGreaterThanOrEqual(3);
  });

  it('certificate step-up: its own endpoint renews the second factor of its person only', async () => {
    const signedIn = await mtls('/auth/certificate', client.alice);
    const aliceToken = signedIn.body.token as string;
    const alice = server.app.tokens.verify(aliceToken);
    const dev = await server.token({ name: 'Someone', sub: 'someone-x' });
    const foreign = await mtls('/auth/step-up/certificate', client.alice, dev);
    expect(foreign.body.error?.code).toBe('SIGN_IN_FAILED');
    const up = await mtls('/auth/step-up/certificate', client.alice, aliceToken);
    expect(up.status).toBe(200);
    const stepped = server.app.tokens.verify(up.body.token);
    expect(stepped).toMatchObject({ sub: alice.sub, sid: alice.sid, amr: ['x509'] });
    const id = '00000000-0000-4000-8000-000000000003';
    const res = await fetch(`${server.url}/approvals/${id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${up.body.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
