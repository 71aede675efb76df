import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorBody, httpStatusOf, MoimError } from '@moim/protocol';
import type { z } from 'zod';
import { payloadShapeProblem } from '../lib/payloadShape.ts';
import { toWireError } from '../lib/wireErrors.ts';
import { describeZodError } from '../lib/zodError.ts';
import type { Logger } from '../logger.ts';
import type { ContentMark } from '../policy/ContentPolicy.ts';

export { describeZodError };

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

/** A handler returns a JSON body (sent with 200, or `status`), or handles `res` itself and returns undefined. */
export type RouteHandler = (ctx: RouteContext) => Promise<{ status?: number; body: unknown } | undefined>;

/**
 * A route that returns stored content of a room, channel or document: the router asks
 * `contentGate` (policy/ContentPolicy.ts) before the handler runs; `target` names the item.
 */
export interface RouteContentMark extends ContentMark {
  target(ctx: RouteContext): Promise<{ id: string; org?: string }> | { id: string; org?: string };
}

/** Decides a content route's request (throws POLICY_FORBIDS); set by the app. */
export type ContentGate = (ctx: RouteContext, mark: RouteContentMark) => Promise<void>;

/**
 * What a route reads from the request body: `json` (the default for POST, PUT, PATCH: the handler's
 * `readJson` validates it), `none` (the router refuses any body but an empty one or `{}` before the
 * handler runs, so a bad body is never ignored and acted on), `csv` or `file` (raw bytes the handler
 * checks itself; any bytes are a valid file).
 */
export type RouteBody = 'json' | 'none' | 'csv' | 'file';

/** The most a `none` route reads of a body before refusing it (an empty one or `{}` is accepted). */
const NO_BODY_MAX_BYTES = 64;

interface Route {
  method: string;
  parts: string[];
  handler: RouteHandler;
  content: RouteContentMark | undefined;
  body: RouteBody;
}

/**
 * A small router: `/docs/:name` patterns, JSON in and out, MoimError → its HTTP status with
 * `{ error: { code, message } }`. Unknown paths fall through to `fallback` (the static web app).
 */
export class HttpRouter {
  readonly #routes: Route[] = [];
  readonly #log: Logger;
  fallback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Asked before every route registered with `content`; without one such routes refuse (fail closed). */
  contentGate: ContentGate | undefined;
  /** Told of each request refused for its token (a failed sign-in on HTTP): the app audits them, bounded. */
  onTokenRefused: ((req: IncomingMessage, code: string) => void) | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  add(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    pattern: string,
    handler: RouteHandler,
    opts: { content?: RouteContentMark } = {},
  ): this {
    const body: RouteBody = method === 'GET' || method === 'DELETE' ? 'none' : 'json';
    this.#routes.push({ method, parts: pattern.split('/').filter(Boolean), handler, content: opts.content, body });
    return this;
  }

  /** Set the body kind of the route added last (`router.add(…).body('none')`): GET and DELETE take none, others JSON. */
  body(kind: RouteBody): this {
    const last = this.#routes.at(-1);
    if (!last) throw new Error('body(): no route added yet');
    last.body = kind;
    return this;
  }

  /** Every route as `METHOD /pattern`, with its body kind and content mark (tests derive their lists from it). */
  routes(): Array<{ method: string; pattern: string; body: RouteBody; content?: ContentMark }> {
    return this.#routes.map((r) => ({
      method: r.method,
      pattern: `/${r.parts.join('/')}`,
      body: r.body,
      ...(r.content ? { content: { kind: r.content.kind, action: r.content.action } } : {}),
    }));
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#dispatch(req, res).catch((err: unknown) => {
      // last line of defence: a throw outside a handler (the fallback, a write) answers 500, never escapes
      this.#log.error({ err, path: req.url?.split('?')[0] }, 'http request failed');
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  };

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, new MoimError('INVALID_PAYLOAD', 'bad request URL'));
      return;
    }
    const segments = url.pathname.split('/').filter(Boolean);
    // a malformed percent-escape (`/%ff`, `/%ZZ`) is a bad request on every path, routed or not
    if (url.pathname.includes('%') && segments.some((s) => safeDecode(s) === undefined)) {
      sendError(res, new MoimError('INVALID_PAYLOAD', 'malformed percent-escape in the path'));
      return;
    }
    let pathMatched = false;
    for (const route of this.#routes) {
      const params = match(route.parts, segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      try {
        const ctx: RouteContext = { req, res, url, params };
        if (route.body === 'none' && req.method !== 'GET' && req.method !== 'HEAD') await refuseBody(req);
        if (route.content) {
          if (!this.contentGate) throw new MoimError('UNAVAILABLE', 'the content policy is not ready');
          await this.contentGate(ctx, route.content);
        }
        const result = await route.handler(ctx);
        if (result && !res.headersSent) sendJson(res, result.status ?? 200, result.body);
      } catch (err) {
        if (!(err instanceof MoimError)) this.#log.error({ err, path: url.pathname }, 'http handler failed');
        else if (err.code.startsWith('TOKEN_')) this.onTokenRefused?.(req, err.code);
        if (!res.headersSent) {
          // refused before the body was read: do not keep the connection for the rest of it
          if (!req.readableEnded) res.setHeader('connection', 'close');
          sendError(res, err);
        } else res.destroy();
      }
      return;
    }
    if (pathMatched) {
      sendJson(res, 405, { error: { code: 'INVALID_PAYLOAD', message: `${req.method} not allowed here` } });
      return;
    }
    if (this.fallback && (req.method === 'GET' || req.method === 'HEAD')) {
      this.fallback(req, res);
      return;
    }
    sendError(res, new MoimError('NOT_FOUND', `no route ${req.method} ${url.pathname}`));
  }
}

function match(parts: string[], segments: string[]): Record<string, string> | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = Object.create(null);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) {
      const value = safeDecode(s);
      if (value === undefined) return undefined;
      params[p.slice(1)] = value;
    } else if (p !== s) return undefined;
  }
  return params;
}

/** decodeURIComponent, or undefined for a malformed escape (`%ff`, `%ZZ`, an overlong `%c0%ae`). */
export function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = toWireError(err) ?? new MoimError('INTERNAL', 'internal error');
  const body: { error: ErrorBody } = { error: e.toBody() };
  sendJson(res, httpStatusOf(e.code), body);
}

/** Read the whole body up to `maxBytes` (PAYLOAD_TOO_LARGE beyond). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new MoimError('PAYLOAD_TOO_LARGE', `body exceeds ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new MoimError('PAYLOAD_TOO_LARGE', `body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A route that takes no body: an empty one or `{}` passes, anything else is INVALID_PAYLOAD. */
async function refuseBody(req: IncomingMessage): Promise<void> {
  let raw: Buffer;
  try {
    raw = await readBody(req, NO_BODY_MAX_BYTES);
  } catch (err) {
    if (err instanceof MoimError && err.code === 'PAYLOAD_TOO_LARGE')
      throw new MoimError('INVALID_PAYLOAD', 'this request takes no body', { cause: err });
    throw err;
  }
  const text = raw.toString('latin1').trim();
  if (text !== '' && text.replace(/\s+/g, '') !== '{}')
    throw new MoimError('INVALID_PAYLOAD', 'this request takes no body');
}

/** Read a JSON body and validate it; INVALID_PAYLOAD with the first issue otherwise. */
export async function readJson<S extends z.ZodType>(
  req: IncomingMessage,
  schema: S,
  maxBytes: number,
): Promise<z.output<S>> {
  const raw = await readBody(req, maxBytes);
  let text: string;
  try {
    // strictly: a lenient decode would turn invalid bytes into U+FFFD and store them
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (err) {
    throw new MoimError('INVALID_PAYLOAD', 'body is not UTF-8', { cause: err });
  }
  let value: unknown;
  try {
    value = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new MoimError('INVALID_PAYLOAD', 'body is not valid JSON');
  }
  // a `__proto__` key at any depth is refused whatever the schema (a record would copy it)
  const shape = payloadShapeProblem(value);
  if (shape) throw new MoimError('INVALID_PAYLOAD', shape);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', describeZodError(parsed.error));
  return parsed.data;
}

/** The bearer token of a request (`Authorization: Bearer …`, or `?token=` for links and WebSockets). */
export function bearerToken(req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return url.searchParams.get('token') ?? undefined;
}
