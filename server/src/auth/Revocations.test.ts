import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { authMigrations } from '../storage/sqlite/migrations/auth.ts';
import { SqliteAuthStore } from '../storage/sqlite/SqliteAuthStore.ts';
import { SqliteDb } from '../storage/sqlite/SqliteDb.ts';
import { tempDirs } from '../testing/tempDirs.ts';
import { type Revocation, type RevocationBus, Revocations } from './Revocations.ts';

const tempDir = tempDirs('moim-revoke-');

function store(): SqliteAuthStore {
  const dir = tempDir();
  const db = SqliteDb.open(path.join(dir, 'auth.sqlite'));
  db.migrate(authMigrations);
  return new SqliteAuthStore(db);
}
const log = createLogger('silent', 'test');
const refused = (r: Revocations, t: { org: string; sub: string; sid?: string }) => {
  try {
    r.check(t);
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'TOKEN_REVOKED';
  }
};

describe('Revocations', () => {
  it('refuses at once, tells listeners, and forgets a session once the store let it expire', async () => {
    const s = store();
    const r = new Revocations({ store: s, log });
    const seen: Revocation[] = [];
    r.onRevoked((rev) => seen.push(rev));
    await r.revoke({ kind: 'session', sid: 's1', org: 'o', sub: 'p', expiresAt: Date.now() + 60_000 }, 'p');
    expect(refused(r, { org: 'o', sub: 'p', sid: 's1' })).toBe(true);
    expect(refused(r, { org: 'o', sub: 'p', sid: 's2' })).toBe(false);
    expect(seen).toHaveLength(1);
    // a session whose tokens all expired leaves the store, and memory with it (after a refresh well later)
    await r.revoke({ kind: 'session', sid: 'old', org: 'o', sub: 'p', expiresAt: Date.now() + 100 }, 'p');
    expect(refused(r, { org: 'o', sub: 'p', sid: 'old' })).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await r.refresh();
    expect(refused(r, { org: 'o', sub: 'p', sid: 'old' })).toBe(false);
    expect(refused(r, { org: 'o', sub: 'p', sid: 's1' })).toBe(true);
  });

  it('applies another node’s revocation from the bus, kept across a refresh that missed it', async () => {
    const s = store();
    let deliver: ((rev: Revocation) => void) | undefined;
    const bus: RevocationBus = { publish: async () => {}, onRevoked: (fn) => (deliver = fn) };
    const r = new Revocations({ store: s, log });
    await r.start(60_000, bus);
    // heard from the bus, not (yet) in this node's read of the store
    deliver!({ kind: 'person', org: 'o', sub: 'gone', at: Date.now() });
    deliver!({ kind: 'session', sid: 'elsewhere', org: 'o', sub: 'p', expiresAt: Date.now() + 60_000 });
    await r.refresh();
    expect(refused(r, { org: 'o', sub: 'gone' })).toBe(true);
    expect(refused(r, { org: 'o', sub: 'p', sid: 'elsewhere' })).toBe(true);
    // reinstated here: accepted again
    await s.revokePerson('o', 'gone', Date.now(), 'admin');
    expect(await r.reinstate('o', 'gone')).toBe(true);
    expect(refused(r, { org: 'o', sub: 'gone' })).toBe(false);
    r.stop();
  });
});
