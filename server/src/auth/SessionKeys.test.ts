import path from 'node:path';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { authMigrations } from '../storage/sqlite/migrations/auth.ts';
import { SqliteAuthStore } from '../storage/sqlite/SqliteAuthStore.ts';
import { SqliteDb } from '../storage/sqlite/SqliteDb.ts';
import { tempDirs } from '../testing/tempDirs.ts';
import { Revocations } from './Revocations.ts';
import { SessionKeys } from './SessionKeys.ts';
import { Sessions } from './Sessions.ts';
import { TokenService } from './TokenService.ts';

const tempDir = tempDirs('moim-keys-');

function setup(secret = 'kkkkkkkkVh3kR9pXw2Lq7ZsN4tBy8MfC1dJg6QeA0uKo5YiT') {
  const dir = tempDir();
  const db = SqliteDb.open(path.join(dir, 'auth.sqlite'));
  db.migrate(authMigrations);
  const store = new SqliteAuthStore(db);
  const log = createLogger('silent', 'test');
  let now = Date.UTC(2026, 0, 5, 9);
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const keys = (s = secret) =>
    new SessionKeys({
      store,
      secret: s,
      rotateMs: 3_600_000,
      tokenTtlMs: 600_000,
      refreshMs: 10_000,
      log,
      now: clock.now,
    });
  return { store, log, clock, keys, db };
}

describe('SessionKeys', () => {
  it('publishes the next key ahead, keeps a retired key until its tokens expired, then drops it', async () => {
    const { clock, keys } = setup();
    const a = keys();
    await a.refresh();
    const first = a.signingKey().kid;
    expect(a.jwks().keys.map((k) => k.kid)).toEqual([first]);
    // 20 s before the hour ends the next key is published (3 refresh intervals ahead), not yet signing
    clock.advance(3_600_000 - 20_000);
    await a.refresh();
    expect(a.jwks().keys).toHaveLength(2);
    expect(a.signingKey().kid).toBe(first);
    clock.advance(20_000);
    const second = a.signingKey().kid;
    expect(second).not.toBe(first);
    // the first key stays verifiable for its last tokens' lifetime (+ 60 s), then leaves the JWKS
    expect(a.verifyKey(first)).toBeDefined();
    clock.advance(600_000 + 60_000);
    await a.refresh();
    expect(a.verifyKey(first)).toBeUndefined();
    expect(a.jwks().keys.map((k) => k.kid)).not.toContain(first);
  });

  it('another node (same store, same secret) verifies what this one signed; another secret cannot sign', async () => {
    const { keys, store, log } = setup();
    const a = keys();
    await a.refresh();
    const b = keys();
    await b.refresh();
    expect(b.signingKey().kid).toBe(a.signingKey().kid);
    const tokens = new TokenService({ secretKid: 'hs', publicKeys: {}, audience: 'moim', devTokenTtlS: 60 });
    const revocations = new Revocations({ store, log });
    tokens.attachSessions({
      issuer: 'moim',
      verifyKey: (kid) => b.verifyKey(kid),
      checkRevoked: (t) => revocations.check(t),
    });
    const sessions = new Sessions({ keys: a, revocations, issuer: 'moim', audience: 'moim', ttlS: 600, maxAgeS: 3600 });
    const issued = sessions.issue('org1', 'p1', { name: 'P', site: 'hq', role: 'member', teams: [] }, ['passkey']);
    const verified = tokens.verify(issued.token);
    expect(verified).toMatchObject({ sub: 'p1', org: 'org1', sid: issued.sid, amr: ['passkey'] });
    // a token with the right kid but another issuer is refused
    const wrongIss = jwt.sign(
      { sub: 'p1', name: 'P', site: 'hq', role: 'member', grants: {} },
      a.signingKey().privateKey,
      {
        algorithm: 'ES256',
        keyid: a.signingKey().kid,
        audience: 'moim',
        issuer: 'someone-else',
        expiresIn: 60,
      },
    );
    expect(() => tokens.verify(wrongIss)).toThrow(expect.objectContaining({ code: 'TOKEN_AUDIENCE' }));
    const c = keys('another secret that is long enough for moim 1234');
    await c.refresh();
    // it cannot decrypt the stored private keys, so it signs only with keys it made itself
    expect(c.signingKey().kid).not.toBe(a.signingKey().kid);
  });

  it('a session is refreshed with its sid until its maximum age, then TOKEN_EXPIRED', async () => {
    const { keys, store, log } = setup();
    const a = keys();
    await a.refresh();
    const revocations = new Revocations({ store, log });
    const sessions = new Sessions({ keys: a, revocations, issuer: 'moim', audience: 'moim', ttlS: 600, maxAgeS: 3600 });
    const tokens = new TokenService({ secretKid: 'hs', publicKeys: {}, audience: 'moim', devTokenTtlS: 60 });
    tokens.attachSessions({
      issuer: 'moim',
      verifyKey: (kid) => a.verifyKey(kid),
      checkRevoked: (t) => revocations.check(t),
    });
    const first = tokens.verify(
      sessions.issue('o', 'p', { name: 'P', site: 'hq', role: 'member', teams: [] }, ['oidc']).token,
    );
    const again = tokens.verify(sessions.refresh(first, first.sst!).token);
    expect(again.sid).toBe(first.sid);
    expect(again.auth_time).toBeUndefined();
    expect(() => sessions.refresh(again, Math.floor(Date.now() / 1000) - 3601)).toThrow(
      expect.objectContaining({ code: 'TOKEN_EXPIRED' }),
    );
  });
});
