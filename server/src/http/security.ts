/**
 * HTTP hardening shared by every response: security headers, and the origin allow-list applied to
 * the API, socket.io (its handshake, long-polling included) and WebSocket upgrades (`/yjs`).
 *
 * A browser names the page's origin in `Origin` on cross-origin requests, POSTs and WebSockets;
 * a page from an origin not allowed (MOIM_ALLOWED_ORIGINS, the public URL, or this server's own
 * `Host`) is refused with ORIGIN_NOT_ALLOWED, so another site cannot drive a signed-in person's
 * session (cross-site WebSocket hijacking, CSRF on a link token). Requests without `Origin` —
 * the SDK in Node, curl — are judged by their token alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MoimError } from '@moim/protocol';
import { sendError } from './HttpRouter.ts';

/** The CSP of API answers (JSON, files): nothing runs, nothing frames them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The CSP of the web app: scripts only from this origin (no inline script, no eval), styles from
 * this origin (inline style attributes allowed for the app's layout), media and images from blobs,
 * sockets to this origin, never framed by another site.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

/** Headers every answer carries (the static web app replaces the CSP with APP_CSP). */
export function setSecurityHeaders(res: ServerResponse, opts: { https: boolean }): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-security-policy', API_CSP);
  res.setHeader('x-frame-options', 'SAMEORIGIN');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(self), microphone=(self), display-capture=(self), geolocation=()');
  if (opts.https) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;
  constructor(allowed: readonly string[]) {
    this.#allowed = new Set(allowed);
  }

  /** True when the request has no Origin, or one that is allowed or this server's own. */
  allows(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (this.#allowed.has(origin)) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // `null` (a sandboxed frame, a file) and garbage
    }
    // same origin: the page was served by the host this request is addressed to
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === req.headers.host;
  }
}

/** Wrap the router's handler: security headers on every answer, foreign origins refused. */
export function hardened(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  opts: { origins: OriginPolicy; https: boolean },
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    setSecurityHeaders(res, opts);
    if (!opts.origins.allows(req)) {
      sendError(res, new MoimError('ORIGIN_NOT_ALLOWED', `origin ${req.headers.origin ?? ''} is not allowed here`));
      return;
    }
    handle(req, res);
  };
}
