/**
 * The sign-in methods besides development sign-in (issue 17): passkeys (`@simplewebauthn/browser`),
 * OpenID Connect (the server redirects back with `#token=` in the URL fragment), and moim's own
 * session tokens, refreshed before they expire and signed out on the server.
 */
import type { Role } from '@moim/client-sdk';
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';

export interface SignInMethods {
  oidc: boolean;
  passkeys: boolean;
  certificate: string | null;
  dev: boolean;
}

export interface SessionAnswer {
  token: string;
  claims: { sub: string; name: string; site: string; role: Role; org: string };
  expiresAt: number;
}

class HttpError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

async function call<T>(path: string, init: { body?: unknown; token?: string } = {}): Promise<T> {
  const res = await fetch(`${location.origin}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: JSON.stringify(init.body ?? {}),
  });
  const body = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok || body.error) throw new HttpError(body.error?.code ?? 'INTERNAL', body.error?.message ?? res.statusText);
  return body;
}

/** What the server offers (unknown → development sign-in only). */
export async function signInMethods(): Promise<SignInMethods> {
  try {
    const res = await fetch(`${location.origin}/auth/methods`);
    if (res.ok) return (await res.json()) as SignInMethods;
  } catch {
    // an older server: development sign-in only
  }
  return { oidc: false, passkeys: false, certificate: null, dev: true };
}

/** Sign in with a passkey (user verification required by the server's options). */
export async function passkeySignIn(): Promise<SessionAnswer> {
  const { options } = await call<{ options: Parameters<typeof startAuthentication>[0]['optionsJSON'] }>(
    '/auth/passkeys/login/options',
  );
  const response = await startAuthentication({ optionsJSON: options });
  return call<SessionAnswer>('/auth/passkeys/login', { body: { response } });
}

/** Register a passkey for the signed-in person. */
export async function registerPasskey(token: string): Promise<void> {
  const { options } = await call<{ options: Parameters<typeof startRegistration>[0]['optionsJSON'] }>(
    '/auth/passkeys/register/options',
    { token },
  );
  const response = await startRegistration({ optionsJSON: options });
  await call('/auth/passkeys/register', { body: { response }, token });
}

/** Prove a passkey again (step-up): a token of the same session with a fresh `auth_time`. */
export async function passkeyStepUp(token: string): Promise<string> {
  const { options } = await call<{ options: Parameters<typeof startAuthentication>[0]['optionsJSON'] }>(
    '/auth/step-up/passkey/options',
    { token },
  );
  const response = await startAuthentication({ optionsJSON: options });
  return (await call<SessionAnswer>('/auth/step-up/passkey', { body: { response }, token })).token;
}

/** The session token an OIDC sign-in left in the URL fragment (`#token=…`), removed from the URL. */
export function tokenFromFragment(): string | undefined {
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (!m) return undefined;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return decodeURIComponent(m[1]!);
}

/** The refusal a single sign-on came back with (`#signin-error=CODE`), removed from the URL. */
export function signInErrorFromFragment(): Error | undefined {
  const m = /^#signin-error=([A-Z_]{1,64})$/.exec(location.hash);
  if (!m) return undefined;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return Object.assign(new Error(m[1]!), { code: m[1]! });
}

/** The claims of a session token (already verified by the server that issued it; read for display). */
export function claimsOf(token: string): SessionAnswer['claims'] & { exp: number } {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

/** A moim session: its current token, refreshed a minute before expiry. */
export class SessionToken {
  #token: string;
  constructor(token: string) {
    this.#token = token;
  }
  get current(): string {
    return this.#token;
  }
  async fresh(): Promise<string> {
    if (claimsOf(this.#token).exp * 1000 - Date.now() > 60_000) return this.#token;
    this.#token = (await call<SessionAnswer>('/auth/session/refresh', { token: this.#token })).token;
    return this.#token;
  }
  /** Sign out on the server (the session's tokens are refused from now on). */
  async logout(): Promise<void> {
    await call('/auth/logout', { token: this.#token });
  }
}
