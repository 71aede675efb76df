import type { PgMigration } from '../PgDb.ts';

/** Sign-in records (id range 1710, issue 17): keys, challenges, identity links, accounts, passkeys, revocations. */
export const authMigrations: PgMigration[] = [
  {
    id: '1710_auth_sign_in',
    sql: `CREATE TABLE auth_signing_keys (
      kid TEXT PRIMARY KEY,
      alg TEXT NOT NULL,
      public_pem TEXT NOT NULL,
      private_enc TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      sign_from BIGINT NOT NULL,
      sign_until BIGINT NOT NULL,
      verify_until BIGINT NOT NULL
    );
    CREATE TABLE auth_challenges (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      binding TEXT NOT NULL,
      data TEXT NOT NULL,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);
    CREATE TABLE auth_identities (
      provider TEXT NOT NULL,
      subject TEXT NOT NULL,
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      created_at BIGINT NOT NULL,
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
      counter BIGINT NOT NULL,
      transports TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );
    CREATE INDEX auth_passkeys_person ON auth_passkeys (org, sub);
    CREATE TABLE auth_revoked_sessions (
      sid TEXT PRIMARY KEY,
      expires_at BIGINT NOT NULL
    );
    CREATE TABLE auth_revoked_people (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      revoked_at BIGINT NOT NULL,
      revoked_by TEXT NOT NULL,
      PRIMARY KEY (org, sub)
    );`,
  },
];
