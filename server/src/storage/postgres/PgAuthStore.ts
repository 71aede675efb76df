/** Sign-in records on PostgreSQL: shared by every node (keys, single-use challenges, revocations). */
import type { AccountProfile, AuthStore, StoredChallenge, StoredPasskey, StoredSigningKey } from '../AuthStore.ts';
import { type KeyRow, type PasskeyRow, toPasskey, toSigningKey } from '../sqlite/SqliteAuthStore.ts';
import type { PgDb } from './PgDb.ts';

export class PgAuthStore implements AuthStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async signingKeys(): Promise<StoredSigningKey[]> {
    return (await this.#db.query<KeyRow>('SELECT * FROM auth_signing_keys ORDER BY sign_from')).map(toSigningKey);
  }
  async addSigningKey(k: StoredSigningKey): Promise<void> {
    await this.#db.query(
      `INSERT INTO auth_signing_keys (kid, alg, public_pem, private_enc, created_at, sign_from, sign_until, verify_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [k.kid, k.alg, k.publicPem, k.privateEnc, k.createdAt, k.signFrom, k.signUntil, k.verifyUntil],
    );
  }
  async dropSigningKeys(now: number): Promise<number> {
    return (await this.#db.query('DELETE FROM auth_signing_keys WHERE verify_until <= $1 RETURNING kid', [now])).length;
  }

  async putChallenge(c: StoredChallenge): Promise<void> {
    await this.#db.query('DELETE FROM auth_challenges WHERE expires_at <= $1', [Date.now()]);
    await this.#db.query(
      'INSERT INTO auth_challenges (id, kind, binding, data, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [c.id, c.kind, c.binding, c.data, c.expiresAt],
    );
  }
  async takeChallenge(id: string, kind: string, now: number): Promise<StoredChallenge | undefined> {
    const row = await this.#db.one<{ id: string; kind: string; binding: string; data: string; expires_at: string }>(
      'DELETE FROM auth_challenges WHERE id = $1 AND kind = $2 RETURNING id, kind, binding, data, expires_at',
      [id, kind],
    );
    if (!row || Number(row.expires_at) <= now) return undefined;
    return { id: row.id, kind: row.kind, binding: row.binding, data: row.data, expiresAt: Number(row.expires_at) };
  }

  async linkOf(provider: string, subject: string): Promise<{ org: string; sub: string } | undefined> {
    return this.#db.one<{ org: string; sub: string }>(
      'SELECT org, sub FROM auth_identities WHERE provider = $1 AND subject = $2',
      [provider, subject],
    );
  }
  async addLink(provider: string, subject: string, org: string, sub: string): Promise<{ org: string; sub: string }> {
    await this.#db.query(
      `INSERT INTO auth_identities (provider, subject, org, sub, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [provider, subject, org, sub, Date.now()],
    );
    const link = await this.linkOf(provider, subject);
    if (!link) throw new Error(`identity link of ${provider} was not stored`);
    return link;
  }

  async account(org: string, sub: string): Promise<AccountProfile | undefined> {
    const row = await this.#db.one<{ profile: string }>(
      'SELECT profile FROM auth_accounts WHERE org = $1 AND sub = $2',
      [org, sub],
    );
    return row ? (JSON.parse(row.profile) as AccountProfile) : undefined;
  }
  async putAccount(org: string, sub: string, profile: AccountProfile): Promise<void> {
    await this.#db.query(
      `INSERT INTO auth_accounts (org, sub, profile) VALUES ($1, $2, $3)
       ON CONFLICT (org, sub) DO UPDATE SET profile = excluded.profile`,
      [org, sub, JSON.stringify(profile)],
    );
  }

  async addPasskey(p: StoredPasskey): Promise<void> {
    await this.#db.query(
      `INSERT INTO auth_passkeys (id, org, sub, public_key, counter, transports, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [p.id, p.org, p.sub, p.publicKey, p.counter, JSON.stringify(p.transports), p.createdAt],
    );
  }
  async passkey(id: string): Promise<StoredPasskey | undefined> {
    const row = await this.#db.one<PasskeyRow>('SELECT * FROM auth_passkeys WHERE id = $1', [id]);
    return row ? toPasskey(row) : undefined;
  }
  async passkeysOf(org: string, sub: string): Promise<StoredPasskey[]> {
    return (
      await this.#db.query<PasskeyRow>('SELECT * FROM auth_passkeys WHERE org = $1 AND sub = $2', [org, sub])
    ).map(toPasskey);
  }
  async setPasskeyCounter(id: string, counter: number): Promise<void> {
    await this.#db.query('UPDATE auth_passkeys SET counter = $1 WHERE id = $2', [counter, id]);
  }

  async revokeSession(sid: string, expiresAt: number): Promise<void> {
    await this.#db.query('INSERT INTO auth_revoked_sessions (sid, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      sid,
      expiresAt,
    ]);
  }
  async revokedSessions(now: number): Promise<string[]> {
    await this.#db.query('DELETE FROM auth_revoked_sessions WHERE expires_at <= $1', [now]);
    return (await this.#db.query<{ sid: string }>('SELECT sid FROM auth_revoked_sessions')).map((r) => r.sid);
  }
  async revokePerson(org: string, sub: string, at: number, by: string): Promise<void> {
    await this.#db.query(
      `INSERT INTO auth_revoked_people (org, sub, revoked_at, revoked_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [org, sub, at, by],
    );
  }
  async reinstatePerson(org: string, sub: string): Promise<boolean> {
    return (
      (await this.#db.query('DELETE FROM auth_revoked_people WHERE org = $1 AND sub = $2 RETURNING sub', [org, sub]))
        .length > 0
    );
  }
  async revokedPeople(): Promise<Array<{ org: string; sub: string; at: number }>> {
    return (
      await this.#db.query<{ org: string; sub: string; revoked_at: string }>(
        'SELECT org, sub, revoked_at FROM auth_revoked_people',
      )
    ).map((r) => ({ org: r.org, sub: r.sub, at: Number(r.revoked_at) }));
  }
}
