import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { AuthStore, StoredSigningKey } from '../storage/index.ts';

export interface SessionKeysOptions {
  store: AuthStore;
  /** Key-encryption secret: private keys are stored encrypted under a key derived from it. */
  secret: string;
  /** How long one key signs before the next one takes over (ms). */
  rotateMs: number;
  /** Lifetime of the tokens it signs (ms): a retired key is kept (published, accepted) this long after. */
  tokenTtlMs: number;
  /** How often the keys are read again from the store (other nodes' keys), ms. @default 10_000 */
  refreshMs?: number;
  log: Logger;
  now?: () => number;
}

interface LoadedKey {
  stored: StoredSigningKey;
  publicKey: KeyObject;
  /** Undefined when this node cannot decrypt it (another MOIM_SESSION_KEY_SECRET): verify only. */
  privateKey: KeyObject | undefined;
}

export interface Jwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  crv?: string;
  x?: string;
  y?: string;
}

/**
 * moim's own ES256 signing keys. Kept in the AuthStore (every node of a cluster reads the same
 * keys; the private key encrypted with AES-256-GCM under MOIM_SESSION_KEY_SECRET), so any node
 * verifies what any other signed. Rotation publishes the next key ahead of its use (at least two
 * refresh intervals before it signs), keeps a retired key's public half until its last token has
 * expired, then drops it. `GET /.well-known/jwks.json` serves `jwks()`.
 */
export class SessionKeys {
  readonly #opts: SessionKeysOptions;
  readonly #kek: Buffer;
  readonly #keys = new Map<string, LoadedKey>();
  #timer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  constructor(opts: SessionKeysOptions) {
    this.#opts = opts;
    this.#kek = createHash('sha256').update('moim session keys\0').update(opts.secret).digest();
    this.#now = opts.now ?? Date.now;
  }

  /** Load the stored keys and make sure one signs now and the next is published in time. */
  async start(): Promise<void> {
    await this.refresh();
    const refreshMs = this.#opts.refreshMs ?? 10_000;
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.#opts.log.error({ err }, 'session keys: refresh failed'));
    }, refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Read the keys again, drop expired ones, add the next key when due. */
  async refresh(): Promise<void> {
    const now = this.#now();
    await this.#opts.store.dropSigningKeys(now);
    await this.#load();
    const ahead = 3 * (this.#opts.refreshMs ?? 10_000);
    const latest = [...this.#keys.values()].reduce<LoadedKey | undefined>(
      (a, k) => (!a || k.stored.signUntil > a.stored.signUntil ? k : a),
      undefined,
    );
    const signable = [...this.#keys.values()].some(
      (k) => k.privateKey && k.stored.signFrom <= now && k.stored.signUntil > now,
    );
    if (!latest || latest.stored.signUntil <= now || !signable) await this.rotate(now);
    else if (latest.stored.signUntil - now <= ahead) await this.rotate(latest.stored.signUntil);
  }

  /** Add a key that signs from `from` (default: now, which retires the current one at once). */
  async rotate(from: number = this.#now()): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = this.#now();
    const kid = `moim-${new Date(from).toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const signUntil = from + this.#opts.rotateMs;
    const stored: StoredSigningKey = {
      kid,
      alg: 'ES256',
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateEnc: this.#encrypt(privateKey.export({ type: 'pkcs8', format: 'der' })),
      createdAt: now,
      signFrom: from,
      signUntil,
      verifyUntil: signUntil + this.#opts.tokenTtlMs + 60_000,
    };
    // a key signing from now retires the others' signing at once (they stay published until expiry)
    await this.#opts.store.addSigningKey(stored);
    this.#keys.set(kid, { stored, publicKey, privateKey });
    if (from <= now)
      for (const k of this.#keys.values())
        if (k.stored.kid !== kid && k.stored.signUntil > now) k.stored = { ...k.stored, signUntil: now };
    this.#opts.log.info({ kid, signFrom: from }, 'session keys: new signing key');
    return kid;
  }

  /** The key that signs now: the newest whose signing window holds now. */
  signingKey(): { kid: string; privateKey: KeyObject } {
    const now = this.#now();
    let best: LoadedKey | undefined;
    for (const k of this.#keys.values()) {
      if (!k.privateKey || k.stored.signFrom > now || k.stored.signUntil <= now) continue;
      if (!best || k.stored.signFrom > best.stored.signFrom) best = k;
    }
    if (!best) throw new Error('no session signing key is active (the key store was not refreshed)');
    return { kid: best.stored.kid, privateKey: best.privateKey! };
  }

  /** The public key of `kid`, while it is published. */
  verifyKey(kid: string): KeyObject | undefined {
    const k = this.#keys.get(kid);
    return k && k.stored.verifyUntil > this.#now() ? k.publicKey : undefined;
  }

  jwks(): { keys: Jwk[] } {
    const now = this.#now();
    const keys: Jwk[] = [];
    for (const k of this.#keys.values()) {
      if (k.stored.verifyUntil <= now) continue;
      const jwk = k.publicKey.export({ format: 'jwk' }) as { kty: string; crv?: string; x?: string; y?: string };
      keys.push({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: k.stored.kid, alg: 'ES256', use: 'sig' });
    }
    return { keys };
  }

  async #load(): Promise<void> {
    const stored = await this.#opts.store.signingKeys();
    const seen = new Set<string>();
    for (const s of stored) {
      seen.add(s.kid);
      const have = this.#keys.get(s.kid);
      if (have) {
        have.stored = { ...s, signUntil: Math.min(s.signUntil, have.stored.signUntil) };
        continue;
      }
      let privateKey: KeyObject | undefined;
      try {
        privateKey = createPrivateKey({ key: this.#decrypt(s.privateEnc), format: 'der', type: 'pkcs8' });
      } catch (err) {
        // a key encrypted under another MOIM_SESSION_KEY_SECRET: this node verifies with it but cannot sign
        this.#opts.log.error(
          { err, kid: s.kid },
          'session keys: a stored key cannot be decrypted (check MOIM_SESSION_KEY_SECRET)',
        );
      }
      this.#keys.set(s.kid, { stored: s, publicKey: createPublicKey(s.publicPem), privateKey });
    }
    for (const kid of [...this.#keys.keys()]) if (!seen.has(kid)) this.#keys.delete(kid);
  }

  #encrypt(plain: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#kek, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  #decrypt(enc: string): Buffer {
    const raw = Buffer.from(enc, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#kek, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  }
}
