/**
 * Sign-in records (issue 17): moim's signing keys, single-use challenges (OIDC state, passkey
 * challenges), identity links (issuer + subject → person, never by e-mail), account profiles,
 * passkeys and revocations. One implementation per backend (SQLite, PostgreSQL), so every node of
 * a cluster sees the same keys, challenges and revocations.
 */

export interface StoredSigningKey {
  kid: string;
  alg: 'ES256';
  /** SPKI PEM of the public key. */
  publicPem: string;
  /** The PKCS#8 private key, encrypted (AES-256-GCM) under the key-encryption key of the config. */
  privateEnc: string;
  createdAt: number;
  /** Tokens are signed with the key from this time (ms) … */
  signFrom: number;
  /** … until this time; … */
  signUntil: number;
  /** … and its public key is published and accepted until this time (its last tokens expired). */
  verifyUntil: number;
}

export interface StoredChallenge {
  id: string;
  kind: string;
  /** What the challenge is bound to (a browser cookie's hash, a person's key). */
  binding: string;
  data: string;
  expiresAt: number;
}

/** The person an account is, as the sign-in methods make their session tokens. */
export interface AccountProfile {
  name: string;
  site: string;
  role: 'admin' | 'manager' | 'member';
  teams: string[];
}

export interface StoredPasskey {
  /** Credential id, base64url. */
  id: string;
  org: string;
  sub: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  createdAt: number;
}

export interface AuthStore {
  signingKeys(): Promise<StoredSigningKey[]>;
  addSigningKey(key: StoredSigningKey): Promise<void>;
  /** Drop keys whose tokens all expired (verifyUntil ≤ now); returns how many. */
  dropSigningKeys(now: number): Promise<number>;

  putChallenge(c: StoredChallenge): Promise<void>;
  /** Take (delete and return) a challenge of that kind: at most one caller ever gets it; an expired one is undefined. */
  takeChallenge(id: string, kind: string, now: number): Promise<StoredChallenge | undefined>;

  /** The person linked to `subject` at `provider` (`oidc:<issuer>`, `x509:<issuer DN>`). */
  linkOf(provider: string, subject: string): Promise<{ org: string; sub: string } | undefined>;
  /** Link, or return the existing link when another node linked first. */
  addLink(provider: string, subject: string, org: string, sub: string): Promise<{ org: string; sub: string }>;

  account(org: string, sub: string): Promise<AccountProfile | undefined>;
  putAccount(org: string, sub: string, profile: AccountProfile): Promise<void>;

  addPasskey(p: StoredPasskey): Promise<void>;
  passkey(id: string): Promise<StoredPasskey | undefined>;
  passkeysOf(org: string, sub: string): Promise<StoredPasskey[]>;
  setPasskeyCounter(id: string, counter: number): Promise<void>;

  /** A session id refused until `expiresAt` (its tokens' last expiry). */
  revokeSession(sid: string, expiresAt: number): Promise<void>;
  revokedSessions(now: number): Promise<string[]>;
  /** A person who left: every token of theirs refused until reinstated. */
  revokePerson(org: string, sub: string, at: number, by: string): Promise<void>;
  reinstatePerson(org: string, sub: string): Promise<boolean>;
  revokedPeople(): Promise<Array<{ org: string; sub: string; at: number }>>;
}
