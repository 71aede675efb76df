/**
 * Read a JWT's `exp` (seconds since the epoch) without verifying it: the client only needs to
 * know when to fetch a fresh token; the server verifies every token it receives.
 */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = JSON.parse(base64UrlDecode(payload)) as { exp?: unknown };
    return typeof json.exp === 'number' && Number.isFinite(json.exp) ? json.exp : undefined;
  } catch {
    return undefined;
  }
}

function base64UrlDecode(s: string): string {
  const b64 = s
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * When to refresh a token expiring at `expSeconds`: at 80% of its remaining life, and at least
 * `marginMs` before it expires (never earlier than `minDelayMs` from now).
 */
export function refreshDelay(expSeconds: number, nowMs: number, marginMs = 60_000, minDelayMs = 1_000): number {
  const remaining = expSeconds * 1000 - nowMs;
  return Math.max(minDelayMs, Math.min(remaining * 0.8, remaining - marginMs));
}

/** A random id that works outside secure contexts too (crypto.randomUUID needs https). */
export function randomId(bytes = 16): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
