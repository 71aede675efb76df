import type { Migration } from '../SqliteDb.ts';

/** Sign-in records (id range 1710, issue 17): keys, challenges, identity links, accounts, passkeys, revocations. */
export const authMigrations: Migration[] = [
  {
    id: '1710_auth_sign_in',
    sql: `CREATE TABLE auth_signing_keys (
      kid TEXT PRIMARY KEY,
      alg TEXT NOT NULL,
      public_pem TEXT NOT NULL,
      private_enc TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      sign_from INTEGER NOT NULL,
      sign_until INTEGER NOT NULL,
      verify_until INTEGER NOT NULL
    );
    CREATE TABLE auth_challenges (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      binding TEXT NOT NULL,
      data TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);
    CREATE TABLE auth_identities (
      provider TEXT NOT NULL,
      subject TEXT NOT NULL,
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (provider, subject)
    );
    CREATE TABLE auth_accounts (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      profile TEXT NOT NULL,
      PRIMARY KEY (org, sub)
    );
    CREATE TABLE auth_passkeys (
      id TEXT PRIMARY KEY,
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      public_key TEXT NOT NULL,
      counter INTEGER NOT NULL,
      transports TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX auth_passkeys_person ON auth_passkeys (org, sub);
    CREATE TABLE auth_revoked_sessions (
      sid TEXT PRIMARY KEY,
      expires_at INTEGER NOT NULL
    );
    CREATE TABLE auth_revoked_people (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      revoked_at INTEGER NOT NULL,
      revoked_by TEXT NOT NULL,
      PRIMARY KEY (org, sub)
    );`,
  },
];
