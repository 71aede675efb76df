import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../server/src/auth/TokenService.ts';
import { loadConfig } from '../server/src/config.ts';
import {
  LIFTED_RATE_LIMITS,
  request,
  startTestServer,
  type TestServer,
  type TestSocket,
} from '../server/src/testing/index.ts';
import { MALFORMED_ESCAPES, PROTOTYPE_NAMES } from './support/hostile.ts';
import { type ServerProcess, startServerProcess } from './support/serverProcess.ts';

/** Send raw bytes on a new TCP connection; resolve with everything the server sent before it closed. */
function raw(port: number, text: string, opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      port,
      host: '127.0.0.1',
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${opts.timeoutMs ?? 5000} ms; got ${JSON.stringify(out.slice(0, 200))}`));
    }, opts.timeoutMs ?? 5000);
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('error', () => undefined); // a reset after the answer is fine: we assert on `out`
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(text);
  });
}

/** The first bytes the server answers on a new connection (then the connection is dropped). */
function firstAnswer(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
    socket.on('error', () => undefined);
    socket.once('data', (d) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(d.toString('latin1'));
    });
    socket.once('close', () => resolve(''));
    socket.write(text);
  });
}

const upgradeRequest = (target: string, headers: Record<string, string> = {}) =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${Object.entries(
    headers,
  )
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

const PRODUCTION = {
  MOIM_ENV: 'production',
  MOIM_JWT_SECRET: 'q8Jd2LmX0vTz4PwR7nYc5KbA1sHe3UgF9oIi6VtN',
  // a sign-in method: tokens of an outside issuer sharing the secret
  MOIM_JWT_ISSUER: 'https://idp.example.org',
};

describe('one request never stops the process (issue 11, items 1–2)', () => {
  let proc: ServerProcess;
  let webRoot: string;
  beforeAll(async () => {
    webRoot = mkdtempSync(path.join(tmpdir(), 'moim-web-'));
    mkdirSync(path.join(webRoot, 'assets'));
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>moim</title>');
    writeFileSync(path.join(webRoot, 'assets', 'app.js'), 'console.log(1)');
    // production, as the attack was: the static fallback serves the web app
    proc = await startServerProcess({ MOIM_WEB_ROOT: webRoot, ...PRODUCTION });
  });
  afterAll(async () => {
    await proc.stop();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('answers malformed percent-escapes with 400 and keeps serving', async () => {
    for (const target of ['/%ff', '/docs/%ZZ', '/%c0%ae', '/assets/%ff.js', '/%', '/a/%E0%A4%A']) {
      const res = await fetch(`${proc.url}${target}`);
      expect(res.status, target).toBe(400);
      expect(await res.json(), target).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    }
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${proc.url}/assets/app.js`)).text()).toBe('console.log(1)');
    expect(await (await fetch(`${proc.url}/some/client/route`)).text()).toContain('<title>moim</title>');
    expect(proc.child.exitCode).toBeNull();
  });

  it('survives /yjs upgrades named after Object.prototype members with a valid token', async () => {
    // production has no dev sign-in: sign as the deployment's identity provider would, with its secret
    const config = loadConfig({ ...PRODUCTION, MOIM_DATA_DIR: proc.dataDir });
    const tokens = TokenService.fromConfig(config);
    const { token } = tokens.signDev({ name: 'Proto', site: 'hq', role: 'member' });
    for (const name of PROTOTYPE_NAMES) {
      const out = await firstAnswer(proc.port, upgradeRequest(`/yjs/${name}?token=${token}`));
      // either a working document (101) or a clean refusal; never a dead process
      expect(out, name).toMatch(/^HTTP\/1\.1 (101|4\d\d)/);
    }
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
    expect(proc.child.exitCode).toBeNull();
  });

  it('frames only from its own origin', async () => {
    const res = await fetch(`${proc.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
  });
});

describe('the HTTP and upgrade edges (issue 11, items 1–3)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MOIM_MAX_SOCKETS_PER_ADDRESS: '40', MOIM_TRUSTED_PROXIES: '127.0.0.3' });
  });
  afterAll(() => server.close());
  const port = () => Number(new URL(server.url).port);

  it('answers an upgrade to any unserved path with 404 and closes it', async () => {
    const before = await connections(server);
    const targets = ['/', '/nope', '/socket.iox', '/yjs', '/docs/x', '/%ff', '/healthz'];
    for (let round = 0; round < 30; round++) {
      const answers = await Promise.all(targets.map((t) => raw(port(), upgradeRequest(t))));
      for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 404 /);
    }
    await waitFor(async () => (await connections(server)) <= before);
    const counter = await metric(server, 'moim_upgrades_unclaimed_total');
    expect(counter).toBeGreaterThanOrEqual(30 * targets.length);
  });

  it('bounds open sockets per address; other addresses and later sockets are served', async () => {
    const held: Socket[] = [];
    const closedByServer: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = connect({ port: port(), host: '127.0.0.1' });
      s.on('error', () => undefined);
      s.on('close', () => closedByServer.push(i));
      held.push(s);
    }
    // this process's own keep-alive fetch connections count under 127.0.0.1 too
    await waitFor(async () => closedByServer.length >= 10);
    await new Promise((r) => setTimeout(r, 200));
    expect(closedByServer.length).toBeGreaterThanOrEqual(10);
    expect(50 - closedByServer.length).toBeLessThanOrEqual(40);
    // another client address is not affected
    const other = await raw(port(), 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
      localAddress: '127.0.0.2',
    });
    expect(other).toMatch(/^HTTP\/1\.1 200 /);
    for (const s of held) s.destroy();
    await waitFor(() => healthzOk(server));
  });

  it('behind a trusted proxy, counts WebSockets per forwarded address', async () => {
    // one person per socket: the per-person document connection cap is not what is tested here
    const tokens = Array.from(
      { length: 43 },
      (_, i) => server.app.tokens.signDev({ name: `Proxied ${i}`, site: 'hq', role: 'member' }).token,
    );
    const open: Socket[] = [];
    const upgradeVia = (forwardedFor: string) =>
      new Promise<string>((resolve) => {
        const token = tokens[open.length]!;
        const s = connect({ port: port(), host: '127.0.0.1', localAddress: '127.0.0.3' });
        s.on('error', () => undefined);
        s.once('data', (d) => resolve(d.toString('latin1')));
        s.once('close', () => resolve(''));
        s.write(
          upgradeRequest(`/yjs/proxied-doc?token=${token}`, { 'X-Forwarded-For': `198.51.100.7, ${forwardedFor}` }),
        );
        open.push(s);
      });
    const answers: string[] = [];
    for (let i = 0; i < 42; i++) answers.push(await upgradeVia('10.1.1.1'));
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 101')).length).toBe(40);
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 429')).length).toBe(2);
    // the proxy itself is never limited, and another client behind it is served
    expect(await upgradeVia('10.2.2.2')).toMatch(/^HTTP\/1\.1 101/);
    for (const s of open) s.destroy();
  });
});

/**
 * Every route and every socket.io event, as registered (the router's `routes()`, the gateway's
 * `events()`), present and future: hostile parameters, bodies and payloads each get a clear 4xx
 * (an error ack with a code), never a 500, a hang or a crash, and `Object.prototype` stays clean.
 */
describe('hostile input on every route and event', () => {
  let server: TestServer;
  let token: string;
  let socket: TestSocket;
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  beforeAll(async () => {
    server = await startTestServer(LIFTED_RATE_LIMITS);
    token = await server.token({ name: 'Fuzz', sub: 'fuzz', role: 'admin' });
    socket = await server.connect(token);
  });
  afterAll(() => server.close());
  afterEach(async () => {
    // the process still serves, and nothing reached Object.prototype
    expect((await send(server, 'GET', '/healthz')).status).toBe(200);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  const BAD_SEGMENTS = [...PROTOTYPE_NAMES, ...MALFORMED_ESCAPES, '%E0%A4%A', 'a'.repeat(10 * 1024)];
  const label = (v: string) => (v.length > 40 ? `<${v.length} chars>` : v);

  it('every :param replaced by a prototype name, a malformed escape or a 10 kB segment: a clear 4xx', async () => {
    const routes = server.app.router.routes();
    expect(routes.length).toBeGreaterThan(50);
    const wrong: string[] = [];
    let sent = 0;
    for (const { method, pattern } of routes) {
      const parts = pattern.split('/').filter(Boolean);
      const params = parts.flatMap((p, i) => (p.startsWith(':') ? [i] : []));
      // every parameter position; a route without one has its last segment replaced
      for (const at of params.length ? params : [parts.length - 1]) {
        for (const value of BAD_SEGMENTS) {
          const target = `/${parts.map((p, i) => (i === at ? value : p.startsWith(':') ? 'x' : p)).join('/')}`;
          const res = await send(server, method, target, { token, body: method === 'GET' ? undefined : '{}' });
          sent++;
          const problem = clearRefusal(res);
          if (problem) wrong.push(`${method} ${pattern} [${parts[at]}=${label(value)}]: ${problem}`);
        }
      }
    }
    expect(sent).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });

  it('every route with a body: __proto__, [], null, not JSON, oversized: a clear 4xx', async () => {
    const routes = server.app.router.routes().filter((r) => r.method !== 'GET');
    expect(routes.length).toBeGreaterThan(20);
    const bodies: Array<[string, string]> = [
      ['__proto__', '{"__proto__":{"x":1}}'],
      ['nested __proto__', '{"a":{"__proto__":{"x":1}},"constructor":{"prototype":{"x":1}}}'],
      ['[]', '[]'],
      ['null', 'null'],
      ['not JSON', '{"a":'],
      ['oversized', `{"a":"${'x'.repeat(server.app.config.maxBodyBytes + 1024)}"}`],
    ];
    const wrong: string[] = [];
    for (const { method, pattern } of routes) {
      const target = pattern.replace(/:[^/]+/g, 'x');
      for (const [name, body] of bodies) {
        const res = await send(server, method, target, { token, body });
        const problem = clearRefusal(res);
        if (problem) wrong.push(`${method} ${pattern} [${name}]: ${problem}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  // beyond the gateway's bounds (10,000 values, 32 levels)
  const HUGE = Object.fromEntries(Array.from({ length: 15_000 }, (_, i) => [`k${i}`, i]));
  let DEEP: unknown = { roomId: 'r' };
  for (let i = 0; i < 200; i++) DEEP = { roomId: 'r', data: DEEP };
  const PAYLOADS: Array<[string, () => unknown]> = [
    ['__proto__', () => JSON.parse('{"__proto__":{"x":1}}')],
    ['nested __proto__', () => JSON.parse('{"roomId":"r","data":{"__proto__":{"x":1}}}')],
    ['null', () => null],
    ['a string', () => 'hello'],
    ['an array', () => [1, 2, 3]],
    ['a huge object', () => HUGE],
    ['a deeply nested object', () => DEEP],
  ];
  for (const [name, payload] of PAYLOADS) {
    it(`every socket.io event with ${name}: an error ack with a code`, async () => {
      const events = server.app.gateway.events();
      expect(events.length).toBeGreaterThan(40);
      const wrong: string[] = [];
      for (const event of events) {
        const ack = await request(socket, event, payload(), 5_000).catch((err: Error) => ({ hang: err.message }));
        if ('hang' in ack) wrong.push(`${event}: no ack (${ack.hang})`);
        else if (!('error' in ack)) wrong.push(`${event}: accepted`);
        else if (typeof ack.error?.code !== 'string' || ack.error.code === 'INTERNAL')
          wrong.push(`${event}: ${JSON.stringify(ack.error)}`);
        if (!socket.connected) throw new Error(`the socket was dropped after ${event}`);
      }
      expect(wrong).toEqual([]);
    }, 60_000);
  }
});

/** What is wrong with an answer that should be a clear refusal (a 4xx with an error code), or undefined. */
function clearRefusal(res: { status: number; body: string }): string | undefined {
  if (res.status < 400 || res.status >= 500) return `status ${res.status} ${res.body.slice(0, 120)}`;
  try {
    const code = (JSON.parse(res.body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? undefined : `no error code: ${res.body.slice(0, 120)}`;
  } catch {
    return `not JSON: ${res.body.slice(0, 120)}`;
  }
}

/**
 * One HTTP request on its own connection, bounded: the status and body, or a throw after 10 s.
 * The server may answer before reading a large body: a reset after the answer is not a failure.
 */
function send(
  server: TestServer,
  method: string,
  target: string,
  opts: { token?: string; body?: string | undefined } = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${target.slice(0, 80)}: no answer within 10 s`));
    }, 10_000);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: url.port,
        method,
        path: target,
        agent: false,
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.body !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) }
            : {}),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(opts.body);
  });
}

/** /healthz answers 200 on a new connection (a pooled one may have been among those refused). */
async function healthzOk(server: TestServer): Promise<boolean> {
  const out = await raw(
    Number(new URL(server.url).port),
    'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  return out.startsWith('HTTP/1.1 200');
}

function connections(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) => server.app.http.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await server.app.metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(name));
  return Number(line?.split(' ').pop() ?? 0);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
