import { createHash, randomBytes } from 'node:crypto';
import { MoimError } from '@moim/protocol';
import * as oidc from 'openid-client';
import type { ClaimsMap } from '../config/signIn.ts';
import type { Logger } from '../logger.ts';
import type { AccountProfile, AuthStore } from '../storage/index.ts';
import { mapClaims } from './claims.ts';

export interface OidcOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  /** The redirect URI registered at the provider (read when needed: the bound port may be known late). */
  redirectUri: () => string;
  scopes: string;
  claims: ClaimsMap;
  /** openid-client `allowInsecureRequests` (an `http:` issuer): tests only. */
  allowInsecure: boolean;
  challengeTtlMs: number;
  store: AuthStore;
  log: Logger;
}

export const OIDC_COOKIE = 'moim_oidc';
const KIND = 'oidc';

export interface OidcPerson {
  org: string;
  sub: string;
  profile: AccountProfile;
  /** `oidc:<issuer>` and the provider's subject: the account link. */
  provider: string;
  subject: string;
}

/**
 * OpenID Connect sign-in (openid-client v6): authorization code with PKCE, state and nonce.
 * moim's own checks on top of the library's: the state is stored server-side, single-use and
 * bound to the browser that started (a cookie whose hash must match); the ID token's `iss` must be
 * the configured issuer, its `aud` must hold (and `azp` be) moim's client id, its `nonce` the one
 * sent. The person is found by issuer + subject (never e-mail); claims map to org, teams, site,
 * role.
 */
export class OidcSignIn {
  readonly #o: OidcOptions;
  #config: Promise<oidc.Configuration> | undefined;

  constructor(opts: OidcOptions) {
    this.#o = opts;
  }

  #configuration(): Promise<oidc.Configuration> {
    this.#config ??= oidc
      .discovery(
        new URL(this.#o.issuer),
        this.#o.clientId,
        { redirect_uris: [this.#o.redirectUri()] },
        this.#o.clientSecret ? oidc.ClientSecretBasic(this.#o.clientSecret) : oidc.None(),
        this.#o.allowInsecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        // a provider down at first use: try discovery again on the next sign-in
        this.#config = undefined;
        throw new MoimError('UNAVAILABLE', 'the identity provider cannot be reached', { cause: err });
      });
    return this.#config;
  }

  /** Begin: the provider URL to send the browser to and the cookie value that binds the state to it. */
  async start(): Promise<{ url: string; cookie: string }> {
    const config = await this.#configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const cookie = randomBytes(24).toString('base64url');
    await this.#o.store.putChallenge({
      id: state,
      kind: KIND,
      binding: hash(cookie),
      data: JSON.stringify({ verifier, nonce }),
      expiresAt: Date.now() + this.#o.challengeTtlMs,
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#o.redirectUri(),
      scope: this.#o.scopes,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, cookie };
  }

  /** Finish: the callback's query and the browser's binding cookie → the linked person. */
  async finish(query: URLSearchParams, cookie: string | undefined): Promise<OidcPerson> {
    const state = query.get('state');
    if (!state || state.length > 256) throw new MoimError('SIGN_IN_FAILED', 'the callback has no state');
    // taken at once: a state is good for one callback, whatever the outcome
    const challenge = await this.#o.store.takeChallenge(state, KIND, Date.now());
    if (!challenge) throw new MoimError('SIGN_IN_FAILED', 'unknown, used or expired state');
    if (!cookie || hash(cookie) !== challenge.binding)
      throw new MoimError('SIGN_IN_FAILED', 'the state belongs to another browser');
    const error = query.get('error');
    if (error) throw new MoimError('SIGN_IN_FAILED', `the identity provider answered ${error.slice(0, 64)}`);
    const { verifier, nonce } = JSON.parse(challenge.data) as { verifier: string; nonce: string };
    const config = await this.#configuration();
    const current = new URL(this.#o.redirectUri());
    current.search = query.toString();
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      claims = { ...(tokens.claims() ?? {}) };
    } catch (err) {
      throw new MoimError('SIGN_IN_FAILED', `the identity provider's answer was refused: ${describe(err)}`, {
        cause: err,
      });
    }
    const issuer = config.serverMetadata().issuer;
    checkIdClaims(claims, { issuer, clientId: this.#o.clientId, nonce });
    const subject = claims.sub as string;
    const provider = `oidc:${issuer}`;
    const mapped = mapClaims(claims, this.#o.claims, subject);
    const link =
      (await this.#o.store.linkOf(provider, subject)) ??
      (await this.#o.store.addLink(provider, subject, mapped.org, personSub('oidc', provider, subject)));
    await this.#o.store.putAccount(link.org, link.sub, mapped.profile);
    return { org: link.org, sub: link.sub, profile: mapped.profile, provider, subject };
  }
}

/**
 * moim's own checks of ID-token claims (the library checks them too; these hold whatever it does):
 * issuer, audience / authorized party, nonce, subject. SIGN_IN_FAILED naming the first that fails.
 */
export function checkIdClaims(
  claims: Record<string, unknown>,
  expected: { issuer: string; clientId: string; nonce: string },
): void {
  if (claims.iss !== expected.issuer) throw new MoimError('SIGN_IN_FAILED', 'the ID token is from another issuer');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(expected.clientId)) throw new MoimError('SIGN_IN_FAILED', 'the ID token is for another client');
  if (aud.length > 1 && claims.azp !== expected.clientId)
    throw new MoimError('SIGN_IN_FAILED', 'the ID token was issued to another party (azp)');
  if (claims.azp !== undefined && claims.azp !== expected.clientId)
    throw new MoimError('SIGN_IN_FAILED', 'the ID token was issued to another party (azp)');
  if (claims.nonce !== expected.nonce) throw new MoimError('SIGN_IN_FAILED', 'the ID token’s nonce does not match');
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255)
    throw new MoimError('SIGN_IN_FAILED', 'the ID token has no usable subject');
}

/** A stable moim sub for a new linked identity (the link, not this hash, is what finds the person). */
export function personSub(prefix: string, provider: string, subject: string): string {
  return `${prefix}-${createHash('sha256').update(provider).update('\0').update(subject).digest('hex').slice(0, 24)}`;
}

const hash = (s: string): string => createHash('sha256').update(s).digest('base64url');

function describe(err: unknown): string {
  const e = err as { code?: unknown; error?: unknown; message?: unknown };
  return String(e.error ?? e.code ?? e.message ?? 'unknown error').slice(0, 200);
}
