import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { grantsSchema, MoimError, ROLES, siteSchema } from '@moim/protocol';
import { z } from 'zod';
import type { TokenService } from '../auth/TokenService.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { AuditStore } from '../storage/index.ts';
import { normalizeAddress } from './clientAddress.ts';
import { type HttpRouter, readJson, safeDecode, sendError, sendJson } from './HttpRouter.ts';
import { APP_CSP } from './security.ts';

export interface CoreRouteDeps {
  router: HttpRouter;
  metrics: Metrics;
  tokens: TokenService;
  audit: AuditStore;
  devTokensEnabled: boolean;
  maxBodyBytes: number;
  /** Readiness: every dependency (storage, workers, Redis) is usable. */
  ready: () => Promise<{ ok: boolean; checks: Record<string, boolean> }>;
  /** Who may read `/metrics`. */
  metricsAccess: MetricsAccess;
}

/**
 * `/metrics` tells room names, counts and load to whoever reads it. With a token
 * (MOIM_METRICS_TOKEN) it requires `Authorization: Bearer <token>` from anyone; without one,
 * `loopbackOnly` (production) serves only direct connections from this host — not through a
 * reverse proxy, which would make every outside request look local.
 */
export interface MetricsAccess {
  token?: string | undefined;
  loopbackOnly: boolean;
}

function checkMetricsAccess(req: IncomingMessage, access: MetricsAccess): void {
  if (access.token !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new MoimError('TOKEN_MISSING', 'metrics need Authorization: Bearer <MOIM_METRICS_TOKEN>');
    // compared as hashes: constant time whatever the lengths
    const digest = (s: string) => createHash('sha256').update(s).digest();
    if (!timingSafeEqual(digest(m[1]!), digest(access.token)))
      throw new MoimError('TOKEN_INVALID', 'the metrics token is wrong');
    return;
  }
  if (!access.loopbackOnly) return;
  const peer = normalizeAddress(req.socket.remoteAddress);
  const loopback = peer === '::1' || /^127\./.test(peer);
  const proxied = ['x-forwarded-for', 'forwarded', 'x-real-ip'].some((h) => req.headers[h] !== undefined);
  if (!loopback || proxied)
    throw new MoimError(
      'FORBIDDEN',
      'metrics are served to this host only; set MOIM_METRICS_TOKEN to scrape them from elsewhere',
    );
}

const devTokenRequest = z
  .object({
    name: z.string().trim().min(1).max(100),
    site: siteSchema,
    role: z.enum(ROLES),
    sub: z.string().min(1).max(128).optional(),
    org: z.string().min(1).max(64).optional(),
    teams: z.array(z.string().min(1).max(64)).max(50).optional(),
    grants: grantsSchema.partial().optional(),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86400)
      .optional(),
  })
  .strict();

export function addCoreRoutes(d: CoreRouteDeps): void {
  d.router.add('GET', '/healthz', async () => ({ body: { ok: true } }));
  d.router.add('GET', '/readyz', async () => {
    const r = await d.ready();
    return { status: r.ok ? 200 : 503, body: r };
  });
  d.router.add('GET', '/metrics', async ({ req, res }) => {
    checkMetricsAccess(req, d.metricsAccess);
    const text = await d.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': d.metrics.registry.contentType });
    res.end(text);
    return undefined;
  });
  /**
   * Development sign-in: anyone may mint a token for any name, site and role. Never enabled
   * when MOIM_ENV=production; a real deployment signs tokens with its own identity provider.
   */
  d.router.add('POST', '/auth/dev-token', async ({ req }) => {
    if (!d.devTokensEnabled)
      throw new MoimError('DEV_TOKENS_DISABLED', 'development sign-in is disabled on this server');
    const body = await readJson(req, devTokenRequest, d.maxBodyBytes);
    const { token, claims, exp } = d.tokens.signDev({
      name: body.name,
      site: body.site,
      role: body.role,
      ...(body.sub ? { sub: body.sub } : {}),
      ...(body.org ? { org: body.org } : {}),
      ...(body.teams ? { teams: body.teams } : {}),
      ...(body.grants ? { grants: stripUndefined(body.grants) } : {}),
      ...(body.ttlSeconds ? { ttlS: body.ttlSeconds } : {}),
    });
    await d.audit.append({
      actor: claims.sub,
      action: 'auth.dev-token',
      org: claims.org,
      detail: { role: claims.role, site: claims.site },
    });
    return { body: { token, claims, expiresAt: exp } };
  });
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]-?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Serve the built web app; unknown paths get index.html (client-side routes). */
export function staticFiles(
  root: string,
  log: Logger,
): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
  const abs = path.resolve(root);
  const index = path.join(abs, 'index.html');
  if (!existsSync(index)) return undefined;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const decoded = safeDecode(url.pathname);
    if (decoded === undefined || decoded.includes('\0')) {
      sendError(res, new MoimError('INVALID_PAYLOAD', 'malformed path'));
      return;
    }
    let file = path.join(abs, path.normalize(decoded));
    if (file !== abs && !file.startsWith(abs + path.sep)) file = index;
    if (!existsSync(file) || !statSync(file).isFile()) file = index;
    const type = MIME[path.extname(file)] ?? 'application/octet-stream';
    const immutable = file.includes(`${path.sep}assets${path.sep}`);
    res.writeHead(200, {
      'content-type': type,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      // scripts from this origin only: no inline script, no eval (http/security.ts)
      'content-security-policy': APP_CSP,
      // for browsers older than CSP frame-ancestors: no framing by other sites (clickjacking)
      'x-frame-options': 'SAMEORIGIN',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', (err) => {
        // the file went away or cannot be read after the headers went out: end the response
        log.warn({ err, file }, 'static file read failed');
        res.destroy();
      })
      .pipe(res);
  };
}

export { sendJson };
