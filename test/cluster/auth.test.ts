/**
 * Sign-in across nodes (issue 17, CLARIFICATIONS: "signing keys … work across nodes"): moim's
 * signing keys are in PostgreSQL (private halves encrypted), so a session token signed on one
 * node is accepted by another and both publish the same JWKS; a passkey challenge issued by one
 * node is answered on another and then used up for both; a logout or a revoked person on one
 * node is refused on the other, whose live sockets are dropped (Redis pub/sub).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TestSocket } from '../../server/src/testing/index.ts';
import { eventually } from '../docs-support.ts';
import { devToken } from '../support/serverProcess.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';
import { useCluster } from './fixture.ts';
import { connect } from './support.ts';

const ORIGIN = 'http://localhost:1';
const fixture = useCluster(['node-a', 'node-b'], {
  MOIM_PASSKEY_RP_ID: 'localhost',
  MOIM_PASSKEY_ORIGINS: JSON.stringify([ORIGIN]),
});
const nodes = fixture.nodes;
const sockets: TestSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});

async function post<T = Record<string, unknown>>(url: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: (await res.json()) as T & { error?: { code: string } } };
}
const get = async (url: string, path: string, token: string) => {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
};

/** A person with a passkey registered on node A, signed in with it on node B (options from node A). */
async function passkeySession(sub: string, role: 'member' | 'admin' = 'member') {
  const [a, b] = [nodes[0]!.url, nodes[1]!.url];
  const dev = await devToken(a, { name: sub, sub, role });
  const auth = new SoftAuthenticator('localhost', ORIGIN);
  const reg = await post<{ options: { challenge: string } }>(a, '/auth/passkeys/register/options', {}, dev);
  expect((await post(b, '/auth/passkeys/register', { response: auth.register(reg.body.options) }, dev)).status).toBe(
    201,
  );
  const login = await post<{ options: { challenge: string } }>(a, '/auth/passkeys/login/options');
  const answer = auth.assert(login.body.options);
  const session = await post<{ token: string }>(b, '/auth/passkeys/login', { response: answer });
  expect(session.status).toBe(200);
  return { token: session.body.token, answer };
}

describe('sign-in across nodes', () => {
  it('a session token signed on one node is accepted on the other; both publish the same keys', async () => {
    const { token, answer } = await passkeySession('across-1');
    for (const node of nodes) expect((await get(node.url, '/approvals?role=applicant', token)).status).toBe(200);
    const jwks = await Promise.all(
      nodes.map(async (n) =>
        ((await (await fetch(`${n.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys
          .map((k) => k.kid)
          .sort(),
      ),
    );
    expect(jwks[0]).toEqual(jwks[1]);
    // the answer used on node B is refused on node A (one challenge store)
    const replay = await post(nodes[0]!.url, '/auth/passkeys/login', { response: answer });
    expect(replay.body.error?.code).toBe('SIGN_IN_FAILED');
    const socket = await connect(nodes[1]!.url, token);
    sockets.push(socket);
    expect(socket.connected).toBe(true);
  });

  it('a logout on one node is refused on the other; a revoked person’s sockets drop on every node', async () => {
    const { token } = await passkeySession('across-2');
    expect((await post(nodes[0]!.url, '/auth/logout', {}, token)).status).toBe(200);
    await eventually(
      async () => (await get(nodes[1]!.url, '/approvals?role=applicant', token)).body.error?.code === 'TOKEN_REVOKED',
      {
        what: 'the logout on node B',
        timeoutMs: 10_000,
      },
    );

    const admin = await devToken(nodes[0]!.url, { name: 'Admin', sub: 'across-admin', role: 'admin' });
    const leaver = await devToken(nodes[1]!.url, { name: 'Leaver', sub: 'across-leaver' });
    const socket = await connect(nodes[1]!.url, leaver);
    sockets.push(socket);
    const dropped = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect((await post(nodes[0]!.url, '/auth/revocations', { sub: 'across-leaver' }, admin)).status).toBe(200);
    expect(await dropped).toBe('io server disconnect');
    expect((await get(nodes[1]!.url, '/approvals?role=applicant', leaver)).body.error?.code).toBe('TOKEN_REVOKED');
  });
});
