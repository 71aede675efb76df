import type { Role, TokenClaims } from '@moim/protocol';
import { isErrorCode, MoimError } from '@moim/protocol/client';

export interface DevTokenInput {
  name: string;
  site: string;
  role: Role;
  sub?: string;
  org?: string;
  teams?: string[];
  ttlSeconds?: number;
}

export interface DevToken {
  token: string;
  claims: TokenClaims & { exp?: number };
  /** Seconds since the epoch. */
  expiresAt: number;
}

/**
 * Development sign-in (`POST /auth/dev-token`): a token for any name, site and role. Refused
 * with DEV_TOKENS_DISABLED on production servers.
 */
export async function devToken(url: string, input: DevTokenInput): Promise<DevToken> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/auth/dev-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await res.json().catch(() => ({}))) as Partial<DevToken> & {
    error?: { code?: string; message?: string };
  };
  if (!res.ok || !body.token) {
    const code = isErrorCode(body.error?.code) ? body.error.code : 'UNAVAILABLE';
    throw new MoimError(code, body.error?.message ?? `sign-in failed (HTTP ${res.status})`);
  }
  return body as DevToken;
}
