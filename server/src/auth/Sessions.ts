import { randomUUID } from 'node:crypto';
import { defaultGrantsFor, MoimError, type TokenClaims, tokenClaimsSchema } from '@moim/protocol';
import jwt from 'jsonwebtoken';
import type { AccountProfile } from '../storage/index.ts';
import type { Revocations } from './Revocations.ts';
import type { SessionKeys } from './SessionKeys.ts';
import type { VerifiedToken } from './TokenService.ts';

/** Authentication methods a session records in `amr`. `passkey` and `x509` are strong (step-up). */
export type AuthMethod = 'oidc' | 'passkey' | 'x509' | 'dev';
export const STRONG_METHODS: readonly string[] = ['passkey', 'x509'];

export interface SessionOptions {
  keys: SessionKeys;
  revocations: Revocations;
  issuer: string;
  audience: string;
  /** Token lifetime (s). */
  ttlS: number;
  /** A session (refreshed tokens included) ends this long after sign-in (s). */
  maxAgeS: number;
}

export interface IssuedSession {
  token: string;
  claims: TokenClaims;
  sid: string;
  expiresAt: number;
}

/**
 * moim's own short-lived session tokens (ES256, `kid` of the current SessionKeys key): the claims
 * every service reads (sub, org, teams, site, role, grants) plus `sid` (logout revokes it), `amr`
 * (the methods used) and `auth_time` (the last strong factor, for step-up), `sst` (when the session
 * started, bounding refreshes).
 */
export class Sessions {
  readonly #o: SessionOptions;
  constructor(opts: SessionOptions) {
    this.#o = opts;
  }

  get issuer(): string {
    return this.#o.issuer;
  }

  /** A new session for a signed-in person. */
  issue(org: string, sub: string, profile: AccountProfile, amr: AuthMethod[]): IssuedSession {
    const now = Math.floor(Date.now() / 1000);
    const strong = amr.some((m) => STRONG_METHODS.includes(m));
    return this.#sign(
      tokenClaimsSchema.parse({
        sub,
        org,
        name: profile.name,
        site: profile.site,
        role: profile.role,
        teams: profile.teams,
        grants: defaultGrantsFor(profile.role),
      }),
      { sid: randomUUID(), amr, authTime: strong ? now : undefined, started: now },
    );
  }

  /** A fresh token of the same session (same sid, methods and strong-factor time). */
  refresh(token: VerifiedToken, started: number): IssuedSession {
    if (!token.sid) throw new MoimError('TOKEN_INVALID', 'only moim session tokens can be refreshed');
    if (Date.now() / 1000 - started > this.#o.maxAgeS)
      throw new MoimError('TOKEN_EXPIRED', 'the session is over: sign in again');
    return this.#sign(claimsOf(token), {
      sid: token.sid,
      amr: (token.amr ?? []) as AuthMethod[],
      authTime: token.auth_time,
      started,
    });
  }

  /** The same session after a strong factor was proven again (step-up); for an outside token, a new session. */
  stepUp(token: VerifiedToken, method: 'passkey' | 'x509', started: number): IssuedSession {
    // an outside (or dev) token steps up into a moim session of its own
    const amr = [...new Set([...(token.amr ?? []), method])] as AuthMethod[];
    return this.#sign(claimsOf(token), {
      sid: token.sid ?? randomUUID(),
      amr,
      authTime: Math.floor(Date.now() / 1000),
      started,
    });
  }

  /** Logout: the session's tokens are refused from now on, on every node. */
  async logout(token: VerifiedToken): Promise<void> {
    if (!token.sid) throw new MoimError('TOKEN_INVALID', 'only moim session tokens can be signed out');
    await this.#o.revocations.revoke(
      {
        kind: 'session',
        sid: token.sid,
        org: token.org,
        sub: token.sub,
        expiresAt: (Math.floor(Date.now() / 1000) + this.#o.maxAgeS) * 1000,
      },
      token.sub,
    );
  }

  #sign(
    claims: TokenClaims,
    s: { sid: string; amr: AuthMethod[]; authTime: number | undefined; started: number },
  ): IssuedSession {
    const { kid, privateKey } = this.#o.keys.signingKey();
    const token = jwt.sign(
      { ...claims, sid: s.sid, amr: s.amr, sst: s.started, ...(s.authTime ? { auth_time: s.authTime } : {}) },
      privateKey,
      {
        algorithm: 'ES256',
        keyid: kid,
        audience: this.#o.audience,
        issuer: this.#o.issuer,
        expiresIn: this.#o.ttlS,
        jwtid: randomUUID(),
      },
    );
    return { token, claims, sid: s.sid, expiresAt: Math.floor(Date.now() / 1000) + this.#o.ttlS };
  }
}

function claimsOf(t: VerifiedToken): TokenClaims {
  return { sub: t.sub, org: t.org, name: t.name, site: t.site, role: t.role, teams: t.teams, grants: t.grants };
}
