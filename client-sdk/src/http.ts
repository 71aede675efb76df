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

/**
 * One authorised JSON call to the server's REST API: `Bearer token`, a JSON body when given, the
 * answer parsed. A refusal becomes a `MoimError` with the server's code (NOT_FOUND for a bare 404,
 * UNAVAILABLE when the answer carries no code). `MoimClient.fetchJson` and the telework client
 * (which may run before any socket exists: the sign-in page) both go through it.
 */
export async function authorizedJson<T>(
  url: string,
  token: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  const body = parsed(text);
  if (!res.ok) throw refusalOf(res.status, body);
  return body as T;
}

/**
 * Like `authorizedJson`, for an answer that is not JSON (a CSV export): the text of a success; a
 * refusal (which the server answers in JSON) becomes the same `MoimError`.
 */
export async function authorizedText(url: string, token: string, path: string): Promise<string> {
  const res = await fetch(`${url.replace(/\/+$/, '')}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (!res.ok) throw refusalOf(res.status, parsed(text));
  return text;
}

function parsed(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy's error page, a CSV): the status decides a refusal's code
    return undefined;
  }
}

/** The server's code and message of a refusal (NOT_FOUND for a bare 404, UNAVAILABLE when it names none). */
function refusalOf(status: number, body: unknown): MoimError {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = isErrorCode(err?.code) ? err.code : status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE';
  return new MoimError(code, typeof err?.message === 'string' ? err.message : `HTTP ${status}`);
}
