/** Sign-in records on SQLite (the AuthStore of a single node). */
import type { AccountProfile, AuthStore, StoredChallenge, StoredPasskey, StoredSigningKey } from '../AuthStore.ts';
import type { SqliteDb } from './SqliteDb.ts';

interface KeyRow {
  kid: string;
  alg: string;
  public_pem: string;
  private_enc: string;
  created_at: number;
  sign_from: number;
  sign_until: number;
  verify_until: number;
}
interface PasskeyRow {
  id: string;
  org: string;
  sub: string;
  public_key: string;
  counter: number;
  transports: string;
  created_at: number;
}

export const toSigningKey = (r: KeyRow): StoredSigningKey => ({
  kid: r.kid,
  alg: 'ES256',
  publicPem: r.public_pem,
  privateEnc: r.private_enc,
  createdAt: Number(r.created_at),
  signFrom: Number(r.sign_from),
  signUntil: Number(r.sign_until),
  verifyUntil: Number(r.verify_until),
});
export const toPasskey = (r: PasskeyRow): StoredPasskey => ({
  id: r.id,
  org: r.org,
  sub: r.sub,
  publicKey: r.public_key,
  counter: Number(r.counter),
  transports: JSON.parse(r.transports) as string[],
  createdAt: Number(r.created_at),
});
export type { KeyRow, PasskeyRow };

export class SqliteAuthStore implements AuthStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async signingKeys(): Promise<StoredSigningKey[]> {
    return this.#db.all<KeyRow>('SELECT * FROM auth_signing_keys ORDER BY sign_from').map(toSigningKey);
  }
  async addSigningKey(k: StoredSigningKey): Promise<void> {
    this.#db.run(
      `INSERT INTO auth_signing_keys (kid, alg, public_pem, private_enc, created_at, sign_from, sign_until, verify_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      k.kid,
      k.alg,
      k.publicPem,
      k.privateEnc,
      k.createdAt,
      k.signFrom,
      k.signUntil,
      k.verifyUntil,
    );
  }
  async dropSigningKeys(now: number): Promise<number> {
    return this.#db.run('DELETE FROM auth_signing_keys WHERE verify_until <= ?', now).changes;
  }

  async putChallenge(c: StoredChallenge): Promise<void> {
    this.#db.run('DELETE FROM auth_challenges WHERE expires_at <= ?', Date.now());
    this.#db.run(
      'INSERT INTO auth_challenges (id, kind, binding, data, expires_at) VALUES (?, ?, ?, ?, ?)',
      c.id,
      c.kind,
      c.binding,
      c.data,
      c.expiresAt,
    );
  }
  async takeChallenge(id: string, kind: string, now: number): Promise<StoredChallenge | undefined> {
    const row = this.#db.get<{ id: string; kind: string; binding: string; data: string; expires_at: number }>(
      'DELETE FROM auth_challenges WHERE id = ? AND kind = ? RETURNING id, kind, binding, data, expires_at',
      id,
      kind,
    );
    if (!row || Number(row.expires_at) <= now) return undefined;
    return { id: row.id, kind: row.kind, binding: row.binding, data: row.data, expiresAt: Number(row.expires_at) };
  }

  async linkOf(provider: string, subject: string): Promise<{ org: string; sub: string } | undefined> {
    return this.#db.get<{ org: string; sub: string }>(
      'SELECT org, sub FROM auth_identities WHERE provider = ? AND subject = ?',
      provider,
      subject,
    );
  }
  async addLink(provider: string, subject: string, org: string, sub: string): Promise<{ org: string; sub: string }> {
    this.#db.run(
      'INSERT INTO auth_identities (provider, subject, org, sub, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      provider,
      subject,
      org,
      sub,
      Date.now(),
    );
    const link = await this.linkOf(provider, subject);
    if (!link) throw new Error(`identity link of ${provider} was not stored`);
    return link;
  }

  async account(org: string, sub: string): Promise<AccountProfile | undefined> {
    const row = this.#db.get<{ profile: string }>(
      'SELECT profile FROM auth_accounts WHERE org = ? AND sub = ?',
      org,
      sub,
    );
    return row ? (JSON.parse(row.profile) as AccountProfile) : undefined;
  }
  async putAccount(org: string, sub: string, profile: AccountProfile): Promise<void> {
    this.#db.run(
      'INSERT INTO auth_accounts (org, sub, profile) VALUES (?, ?, ?) ON CONFLICT (org, sub) DO UPDATE SET profile = excluded.profile',
      org,
      sub,
      JSON.stringify(profile),
    );
  }

  async addPasskey(p: StoredPasskey): Promise<void> {
    this.#db.run(
      'INSERT INTO auth_passkeys (id, org, sub, public_key, counter, transports, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      p.id,
      p.org,
      p.sub,
      p.publicKey,
      p.counter,
      JSON.stringify(p.transports),
      p.createdAt,
    );
  }
  async passkey(id: string): Promise<StoredPasskey | undefined> {
    const row = this.#db.get<PasskeyRow>('SELECT * FROM auth_passkeys WHERE id = ?', id);
    return row ? toPasskey(row) : undefined;
  }
  async passkeysOf(org: string, sub: string): Promise<StoredPasskey[]> {
    return this.#db.all<PasskeyRow>('SELECT * FROM auth_passkeys WHERE org = ? AND sub = ?', org, sub).map(toPasskey);
  }
  async setPasskeyCounter(id: string, counter: number): Promise<void> {
    this.#db.run('UPDATE auth_passkeys SET counter = ? WHERE id = ?', counter, id);
  }

  async revokeSession(sid: string, expiresAt: number): Promise<void> {
    this.#db.run(
      'INSERT INTO auth_revoked_sessions (sid, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
      sid,
      expiresAt,
    );
  }
  async revokedSessions(now: number): Promise<string[]> {
    this.#db.run('DELETE FROM auth_revoked_sessions WHERE expires_at <= ?', now);
    return this.#db.all<{ sid: string }>('SELECT sid FROM auth_revoked_sessions').map((r) => r.sid);
  }
  async revokePerson(org: string, sub: string, at: number, by: string): Promise<void> {
    this.#db.run(
      'INSERT INTO auth_revoked_people (org, sub, revoked_at, revoked_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      org,
      sub,
      at,
      by,
    );
  }
  async reinstatePerson(org: string, sub: string): Promise<boolean> {
    return this.#db.run('DELETE FROM auth_revoked_people WHERE org = ? AND sub = ?', org, sub).changes > 0;
  }
  async revokedPeople(): Promise<Array<{ org: string; sub: string; at: number }>> {
    return this.#db
      .all<{ org: string; sub: string; revoked_at: number }>('SELECT org, sub, revoked_at FROM auth_revoked_people')
      .map((r) => ({ org: r.org, sub: r.sub, at: Number(r.revoked_at) }));
  }
}
