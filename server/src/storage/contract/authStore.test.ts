/**
 * The AuthStore contract (issue 17), run unchanged against SQLite and PostgreSQL: a challenge is
 * taken by exactly one of racing takers and never after it expired or under another kind;
 * identity links keep the first person linked to an issuer + subject; signing keys are dropped
 * once their tokens all expired; revoked sessions expire; people are revoked and reinstated.
 */
import { describe, expect, it } from 'vitest';
import type { Stores } from '../index.ts';
import { BACKENDS, useStores } from './backends.ts';

describe.each(BACKENDS)('auth store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('hands a challenge to exactly one taker, of its kind, before it expires', async () => {
    const a = stores.auth;
    const now = Date.now();
    await a.putChallenge({ id: 'c1', kind: 'oidc', binding: 'b', data: '{"x":1}', expiresAt: now + 60_000 });
    expect(await a.takeChallenge('c1', 'passkey-login', now)).toBeUndefined();
    const taken = await Promise.all([a.takeChallenge('c1', 'oidc', now), a.takeChallenge('c1', 'oidc', now)]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(taken.find(Boolean)).toMatchObject({ binding: 'b', data: '{"x":1}' });
    await a.putChallenge({ id: 'c2', kind: 'oidc', binding: '', data: '', expiresAt: now + 10 });
    expect(await a.takeChallenge('c2', 'oidc', now + 20)).toBeUndefined();
    expect(await a.takeChallenge('__proto__', 'oidc', now)).toBeUndefined();
  });

  it('keeps the first link of an issuer + subject, and accounts and passkeys per person', async () => {
    const a = stores.auth;
    const [x, y] = await Promise.all([
      a.addLink('oidc:https://idp', 'u1', 'acme', 'p-1'),
      a.addLink('oidc:https://idp', 'u1', 'acme', 'p-2'),
    ]);
    expect(x).toEqual(y);
    expect(await a.linkOf('oidc:https://other', 'u1')).toBeUndefined();
    await a.putAccount('acme', x.sub, { name: 'A', site: 'hq', role: 'member', teams: [] });
    await a.putAccount('acme', x.sub, { name: 'A2', site: 'hq', role: 'admin', teams: ['t'] });
    expect(await a.account('acme', x.sub)).toEqual({ name: 'A2', site: 'hq', role: 'admin', teams: ['t'] });
    expect(await a.account('other', x.sub)).toBeUndefined();
    await a.addPasskey({
      id: 'cred',
      org: 'acme',
      sub: x.sub,
      publicKey: 'pk',
      counter: 0,
      transports: ['internal'],
      createdAt: 1,
    });
    await a.setPasskeyCounter('cred', 5);
    expect(await a.passkey('cred')).toMatchObject({ counter: 5, transports: ['internal'] });
    expect(await a.passkeysOf('acme', x.sub)).toHaveLength(1);
    expect(await a.passkeysOf('other', x.sub)).toHaveLength(0);
  });

  it('drops signing keys past their verification time; expires revoked sessions; revokes and reinstates people', async () => {
    const a = stores.auth;
    const key = { alg: 'ES256' as const, publicPem: 'p', privateEnc: 'e', createdAt: 1, signFrom: 1, signUntil: 2 };
    await a.addSigningKey({ ...key, kid: 'old', verifyUntil: 100 });
    await a.addSigningKey({ ...key, kid: 'new', verifyUntil: 10_000 });
    expect(await a.dropSigningKeys(500)).toBe(1);
    expect((await a.signingKeys()).map((k) => k.kid)).toEqual(['new']);
    await a.revokeSession('s1', 1000);
    await a.revokeSession('s2', 5000);
    expect((await a.revokedSessions(2000)).sort()).toEqual(['s2']);
    await a.revokePerson('acme', 'p-9', 1, 'admin');
    expect(await a.revokedPeople()).toEqual([{ org: 'acme', sub: 'p-9', at: 1 }]);
    expect(await a.reinstatePerson('acme', 'p-9')).toBe(true);
    expect(await a.reinstatePerson('acme', 'p-9')).toBe(false);
    expect(await a.revokedPeople()).toEqual([]);
  });
});
