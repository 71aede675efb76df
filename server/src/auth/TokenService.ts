import type { KeyObject } from 'node:crypto';
import { createHash, randomUUID } from 'node:crypto';
import {
  defaultGrantsFor,
  type Grants,
  grantsSchema,
  MoimError,
  type Role,
  SYSTEM_SUB,
  type TokenClaims,
  tokenClaimsSchema,
} from '@moim/protocol';
import jwt from 'jsonwebtoken';
import type { Config, PublicKeyDef } from '../config.ts';

type Alg = 'HS256' | 'RS256' | 'ES256';

interface VerifyKey {
  alg: Alg;
  key: string | KeyObject;
  /** Required `iss` of tokens signed with this key (moim's own session keys); else the configured one. */
  issuer?: string;
}

/**
 * moim's own session tokens (auth/SessionKeys.ts, auth/Revocations.ts): their keys are looked up
 * by `kid` after the configured ones, and every token is checked against the revocations.
 */
export interface SessionHooks {
  issuer: string;
  verifyKey(kid: string): KeyObject | undefined;
  /** Throws TOKEN_REVOKED for a signed-out session or a person who left. */
  checkRevoked(token: { org: string; sub: string; sid?: string | undefined }): void;
}

export interface TokenServiceOptions {
  /** HS256 secret (signs dev tokens and verifies HS256 tokens). */
  secret?: string | undefined;
  secretKid: string;
  publicKeys: Record<string, PublicKeyDef>;
  audience: string;
  /** Required issuer; undefined: not checked. */
  issuer?: string | undefined;
  devTokenTtlS: number;
}

export interface VerifiedToken extends TokenClaims {
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Session id of moim's own session tokens (logout revokes it). */
  sid?: string | undefined;
  /** Authentication methods (`oidc`, `passkey`, `x509`, …) of moim's own session tokens. */
  amr?: string[] | undefined;
  /** When the person last proved a strong factor (seconds), moim's own session tokens. */
  auth_time?: number | undefined;
  /** When the session began (seconds), moim's own session tokens: refreshes end at its maximum age. */
  sst?: number | undefined;
}

export const DEV_ISSUER = 'moim-dev';

/**
 * Verifies tokens with pinned algorithms: the key is chosen by the header's `kid` and only that
 * key's algorithm is accepted (so `alg: none` and HS/RS confusion are refused). Distinct codes:
 * TOKEN_MISSING, TOKEN_EXPIRED, TOKEN_INVALID (bad signature / malformed), TOKEN_ALGORITHM,
 * TOKEN_AUDIENCE, TOKEN_CLAIMS.
 */
export class TokenService {
  /** The token service a node's configuration describes. */
  static fromConfig(
    config: Pick<Config, 'jwtSecret' | 'jwtSecretKid' | 'jwtPublicKeys' | 'jwtAudience' | 'jwtIssuer' | 'devTokenTtlS'>,
  ): TokenService {
    return new TokenService({
      secret: config.jwtSecret,
      secretKid: config.jwtSecretKid,
      publicKeys: config.jwtPublicKeys,
      audience: config.jwtAudience,
      issuer: config.jwtIssuer,
      devTokenTtlS: config.devTokenTtlS,
    });
  }

  readonly #keys = new Map<string, VerifyKey>();
  readonly #opts: TokenServiceOptions;
  #session: SessionHooks | undefined;

  /** Accept moim's own session tokens and check revocations (set once, at start). */
  attachSessions(hooks: SessionHooks): void {
    this.#session = hooks;
  }

  constructor(opts: TokenServiceOptions) {
    this.#opts = opts;
    if (opts.secret) this.#keys.set(opts.secretKid, { alg: 'HS256', key: opts.secret });
    for (const [kid, def] of Object.entries(opts.publicKeys)) this.#keys.set(kid, { alg: def.alg, key: def.key });
  }

  verify(token: unknown): VerifiedToken {
    if (typeof token !== 'string' || token.length === 0) throw new MoimError('TOKEN_MISSING', 'no token was given');
    if (token.length > 16 * 1024) throw new MoimError('TOKEN_INVALID', 'token is too long');
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw new MoimError('TOKEN_INVALID', 'token is not a JWT');
    const { alg, kid } = decoded.header;
    const key = kid === undefined ? this.#defaultKey() : (this.#keys.get(kid) ?? this.#sessionKey(kid));
    if (!key) throw new MoimError('TOKEN_INVALID', kid === undefined ? 'token has no kid' : `unknown key id ${kid}`);
    if (alg !== key.alg) throw new MoimError('TOKEN_ALGORITHM', `algorithm ${alg} is not accepted for this key`);
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key.key, {
        algorithms: [key.alg],
        audience: this.#opts.audience,
        ...(key.issuer ? { issuer: key.issuer } : this.#opts.issuer ? { issuer: this.#opts.issuer } : {}),
        // for `nbf`/`iat` (clocks of the identity provider); expiry is checked below, exactly
        clockTolerance: 5,
        ignoreExpiration: true,
      }) as jwt.JwtPayload;
    } catch (err) {
      throw mapJwtError(err);
    }
    if (typeof payload.exp !== 'number') throw new MoimError('TOKEN_CLAIMS', 'token has no expiry');
    // one rule everywhere (HTTP, the socket.io handshake, /yjs, and each event through
    // Principal.valid): a token is expired from its `exp` second on, with no tolerance. With
    // jsonwebtoken's clockTolerance, HTTP and the handshake accepted a token for 5 s after expiry
    // while every socket event already refused it with TOKEN_EXPIRED.
    if (tokenExpired(payload.exp)) throw new MoimError('TOKEN_EXPIRED', 'token has expired');
    const claims = tokenClaimsSchema.safeParse(payload);
    if (!claims.success)
      throw new MoimError('TOKEN_CLAIMS', `token claims are invalid: ${claims.error.issues[0]?.message ?? ''}`);
    if (claims.data.sub === SYSTEM_SUB)
      throw new MoimError('TOKEN_CLAIMS', `sub ${SYSTEM_SUB} is moim's own system account`);
    // only moim's own keys vouch for a session and its factors (an outside issuer's `amr` is not step-up)
    const session = key.issuer ? sessionClaims(payload) : {};
    this.#session?.checkRevoked({ org: claims.data.org, sub: claims.data.sub, sid: session.sid });
    return { ...claims.data, exp: payload.exp, ...session };
  }

  #sessionKey(kid: string): VerifyKey | undefined {
    const key = this.#session?.verifyKey(kid);
    return key && this.#session ? { alg: 'ES256', key, issuer: this.#session.issuer } : undefined;
  }

  /** Sign a development token (HS256 with the configured secret). */
  signDev(input: {
    name: string;
    site: string;
    role: Role;
    sub?: string;
    org?: string;
    teams?: string[];
    grants?: Partial<Grants>;
    ttlS?: number;
  }): { token: string; claims: TokenClaims; exp: number } {
    const secret = this.#opts.secret;
    if (!secret) throw new MoimError('DEV_TOKENS_DISABLED', 'no HS256 secret is configured');
    const grants = grantsSchema.parse({ ...defaultGrantsFor(input.role), ...(input.grants ?? {}) });
    const claims: TokenClaims = tokenClaimsSchema.parse({
      sub: input.sub ?? stableSubFor(input.name),
      name: input.name,
      org: input.org ?? 'default',
      teams: input.teams ?? [],
      site: input.site,
      role: input.role,
      grants,
    });
    const ttl = input.ttlS ?? this.#opts.devTokenTtlS;
    const token = jwt.sign(claims, secret, {
      algorithm: 'HS256',
      keyid: this.#opts.secretKid,
      audience: this.#opts.audience,
      issuer: this.#opts.issuer ?? DEV_ISSUER,
      expiresIn: ttl,
      jwtid: randomUUID(),
    });
    return { token, claims, exp: Math.floor(Date.now() / 1000) + ttl };
  }

  #defaultKey(): VerifyKey | undefined {
    if (this.#opts.secret) return this.#keys.get(this.#opts.secretKid);
    return this.#keys.size === 1 ? [...this.#keys.values()][0] : undefined;
  }
}

/** `sid`, `amr`, `auth_time` and `sst` when the token carries them well-formed (others ignore them). */
function sessionClaims(p: jwt.JwtPayload): Pick<VerifiedToken, 'sid' | 'amr' | 'auth_time' | 'sst'> {
  const out: Pick<VerifiedToken, 'sid' | 'amr' | 'auth_time' | 'sst'> = {};
  if (typeof p.sst === 'number' && Number.isFinite(p.sst)) out.sst = p.sst;
  if (typeof p.sid === 'string' && p.sid.length <= 128) out.sid = p.sid;
  if (Array.isArray(p.amr) && p.amr.length <= 8 && p.amr.every((m) => typeof m === 'string' && m.length <= 32))
    out.amr = p.amr as string[];
  if (typeof p.auth_time === 'number' && Number.isFinite(p.auth_time)) out.auth_time = p.auth_time;
  return out;
}

/** True from the token's `exp` (seconds) on; the same test as `Principal.valid`. */
export function tokenExpired(exp: number, now: number = Date.now()): boolean {
  return exp * 1000 <= now;
}

/** A stable person id from a display name (dev sign-in only). */
export function stableSubFor(name: string): string {
  return `u-${createHash('sha256').update(name.normalize('NFC').trim().toLowerCase()).digest('hex').slice(0, 16)}`;
}

function mapJwtError(err: unknown): MoimError {
  if (err instanceof jwt.TokenExpiredError) return new MoimError('TOKEN_EXPIRED', 'token has expired', { cause: err });
  if (err instanceof jwt.NotBeforeError)
    return new MoimError('TOKEN_INVALID', 'token is not valid yet', { cause: err });
  if (err instanceof jwt.JsonWebTokenError) {
    const m = err.message;
    if (m.startsWith('jwt audience invalid'))
      return new MoimError('TOKEN_AUDIENCE', 'token audience is wrong', { cause: err });
    if (m.startsWith('jwt issuer invalid'))
      return new MoimError('TOKEN_AUDIENCE', 'token issuer is wrong', { cause: err });
    if (m === 'invalid algorithm' || m === 'jwt signature is required')
      return new MoimError('TOKEN_ALGORITHM', 'token algorithm is not accepted', { cause: err });
    return new MoimError('TOKEN_INVALID', `token is invalid: ${m}`, { cause: err });
  }
  return new MoimError('TOKEN_INVALID', 'token is invalid', { cause: err });
}
