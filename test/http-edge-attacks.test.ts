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

/**
 * Bad bodies on each route's REAL path: one real resource of every kind the routes name is made
 * first (a path parameter the table below does not know fails the test, so a new route is covered),
 * so each route's own body parser and validator answers, not a 404 for a path that names nothing.
 * Afterwards every resource reads back exactly as before.
 */
describe('hostile bodies on the real path of every route', () => {
  let server: TestServer;
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const tokens = new Map<string, string>();
  const tok = (sub: string) => tokens.get(sub) ?? '';
  const DAY = '2030-01-08';
  const REPORT_DAY = '2030-01-09';
  /** `<nearest literal segment before it>/:<param>` → its value and whose token the route is sent with. */
  let PARAMS: Record<string, { value: string; as: string }>;
  /** A GET per resource: the body each answers must be the same before and after the attacks. */
  let reads: Array<[string, string]>;

  const ok = async (method: string, target: string, as: string, body?: unknown) => {
    const res = await send(server, method, target, {
      token: tok(as),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 300) throw new Error(`${method} ${target}: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as Record<string, Record<string, unknown>>;
  };

  beforeAll(async () => {
    server = await startTestServer(LIFTED_RATE_LIMITS);
    for (const sub of ['mgr', 'amy', 'eve'])
      tokens.set(sub, await server.token({ name: sub, sub, role: 'member', org: 'eb' }));
    tokens.set('admin', await server.token({ name: 'Admin', sub: 'admin', role: 'admin', org: 'eb' }));
    await ok('PUT', '/telework/directory/mgr', 'admin', { name: 'mgr' });
    await ok('PUT', '/telework/directory/amy', 'admin', { name: 'amy', manager: 'mgr' });
    const hours = { open: '08:00', close: '22:00' };
    await ok('PUT', '/telework/sites/eb-site', 'admin', {
      name: 'Edge centre',
      address: '',
      timeZone: 'Asia/Seoul',
      openingHours: [null, hours, hours, hours, hours, hours, null],
      networks: [],
      kind: 'smart-work-centre',
    });
    await ok('PUT', '/telework/sites/eb-site/places/desk-1', 'admin', {
      kind: 'seat',
      name: 'Desk',
      tier: null,
      capacity: 1,
    });
    await ok('PUT', '/telework/holidays/2030-05-01', 'admin', { name: 'Labour day' });
    await ok('PUT', '/approvals/delegations', 'mgr', { to: 'eve', from: '2030-02-01', until: '2030-02-02' });
    const doc = await ok('POST', '/docs', 'admin', { name: 'eb-doc', title: 'Original title' });
    expect(doc.doc?.name).toBe('eb-doc');
    const version = await ok('POST', '/docs/eb-doc/versions', 'admin', { label: 'v1' });
    const approval = await ok('POST', '/approvals', 'amy', { title: 'Chair', body: 'One chair', approvers: ['mgr'] });
    const request = await ok('POST', '/telework/requests', 'amy', {
      days: [DAY],
      type: 'home',
      siteId: 'home',
      tasks: ['Work'],
    });
    // a second, approved day (at the centre) opens a work report and allows a booking
    const approved = await ok('POST', '/telework/requests', 'amy', {
      days: [REPORT_DAY],
      type: 'smart-work-centre',
      siteId: 'eb-site',
      tasks: ['Report'],
    });
    await ok('POST', `/approvals/${approved.request?.id}/approve`, 'mgr', {});
    await server.app.teleworkRequests.idle();
    let reportId: string | undefined;
    for (let i = 0; i < 100 && !reportId; i++) {
      const listed = await ok('GET', `/telework/reports?from=${REPORT_DAY}&to=${REPORT_DAY}`, 'amy');
      reportId = (listed.reports as unknown as Array<{ id: string }>)[0]?.id;
      if (!reportId) await new Promise((r) => setTimeout(r, 20));
    }
    expect(reportId).toBeDefined();
    const booking = await ok('POST', '/telework/bookings', 'amy', {
      siteId: 'eb-site',
      placeId: 'desk-1',
      start: new Date(Date.UTC(2030, 0, 9, 1)).toISOString(),
      end: new Date(Date.UTC(2030, 0, 9, 2)).toISOString(),
    });
    PARAMS = {
      'policies/:kind': { value: 'doc', as: 'admin' },
      'policies/:id': { value: 'eb-doc', as: 'admin' },
      'docs/:name': { value: 'eb-doc', as: 'admin' },
      'versions/:id': { value: String(version.version?.id), as: 'admin' },
      'revocations/:sub': { value: 'eve', as: 'admin' },
      'sites/:id': { value: 'eb-site', as: 'admin' },
      'places/:placeId': { value: 'desk-1', as: 'admin' },
      'directory/:sub': { value: 'amy', as: 'admin' },
      'holidays/:day': { value: '2030-05-01', as: 'admin' },
      'delegations/:to': { value: 'eve', as: 'mgr' },
      'approvals/:id': { value: String(approval.approval?.id), as: 'amy' },
      'requests/:id': { value: String(request.request?.id), as: 'amy' },
      'reports/:id': { value: String(reportId), as: 'amy' },
      'bookings/:id': { value: String(booking.booking?.id), as: 'amy' },
    };
    reads = [
      ['admin', '/docs/eb-doc'],
      ['admin', '/docs/eb-doc/versions'],
      ['admin', '/policies/doc/eb-doc'],
      ['admin', '/telework/sites/eb-site'],
      ['admin', '/telework/directory/amy'],
      ['admin', '/telework/holidays?year=2030'],
      ['mgr', '/approvals/delegations'],
      ['amy', `/approvals/${approval.approval?.id}`],
      ['amy', `/telework/requests/${request.request?.id}`],
      ['amy', `/telework/reports/${reportId}`],
      ['amy', '/telework/bookings/mine'],
    ];
  }, 30_000);
  afterAll(() => server.close());

  const snapshot = async () =>
    Promise.all(
      reads.map(async ([as, target]) => {
        const res = await send(server, 'GET', target, { token: tok(as) });
        expect(res.status, `${target}: ${res.body.slice(0, 200)}`).toBe(200);
        return [target, JSON.parse(res.body)] as const;
      }),
    );

  it('refuses every bad body with a clear 4xx and changes nothing', async () => {
    const before = await snapshot();
    // a `file` route stores any bytes as a file: its bounds are the attachment tests'
    const routes = server.app.router.routes().filter((r) => r.method !== 'GET' && r.body !== 'file');
    expect(routes.length).toBeGreaterThan(30);
    // the path of each route with its real resources, and whose token it is sent with
    const unknown: string[] = [];
    const targets = routes.map(({ method, pattern, body }) => {
      let as = 'admin';
      let literal = '';
      const parts = pattern
        .split('/')
        .filter(Boolean)
        .map((p) => {
          if (!p.startsWith(':')) {
            literal = p;
            return p;
          }
          const known = Object.hasOwn(PARAMS, `${literal}/${p}`) ? PARAMS[`${literal}/${p}`] : undefined;
          if (!known) {
            unknown.push(`${method} ${pattern}: ${literal}/${p}`);
            return 'x';
          }
          as = known.as;
          return encodeURIComponent(known.value);
        });
      return { method, pattern, body, as, target: `/${parts.join('/')}` };
    });
    // a new route with a path parameter this test cannot fill: add it to PARAMS (and to `reads`)
    expect(unknown).toEqual([]);

    const nest = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const wrongTypes = JSON.stringify(
      Object.fromEntries(
        [
          'name',
          'title',
          'body',
          'label',
          'text',
          'comment',
          'days',
          'type',
          'siteId',
          'placeId',
          'tasks',
          'approvers',
          'to',
          'from',
          'until',
          'start',
          'end',
          'day',
          'kind',
          'capacity',
          'tier',
          'manager',
          'exportAllowed',
          'guests',
          'record',
          'sub',
          'reason',
          'status',
          'decision',
          'openingHours',
        ].map((k) => [k, [[{ x: 1 }]]]),
      ),
    );
    const json = 'application/json';
    const bodies: Array<[string, string | Buffer, string]> = [
      ['wrong JSON types', wrongTypes, json],
      ['a number', '12345', json],
      ['a string', '"hello"', json],
      ['an array', '[{"title":"x"}]', json],
      ['null', 'null', json],
      ['not JSON', '{"title":', json],
      ['a huge string', `{"title":"${'가'.repeat(200_000)}","label":"x","text":"x"}`, json],
      ['deep nesting', nest(5_000), json],
      ['__proto__', '{"__proto__":{"x":1},"title":"t"}', json],
      ['constructor.prototype', '{"constructor":{"prototype":{"x":1}},"title":"t"}', json],
      [
        'invalid UTF-8',
        Buffer.from([...Buffer.from('{"title":"'), 0xff, 0xfe, 0xc0, 0xae, ...Buffer.from('"}')]),
        json,
      ],
      ['wrong content-type', 'title=x&label=y', 'application/x-www-form-urlencoded'],
      ['wrong content-type, JSON-ish', '[1,2]', 'text/plain'],
    ];
    const jobs = targets.flatMap((t) => bodies.map(([name, body, type]) => ({ ...t, name, payload: body, type })));
    const wrong: string[] = [];
    const queue = [...jobs];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          const res = await send(server, job.method, job.target, {
            token: tok(job.as),
            body: job.payload,
            contentType: job.type,
          });
          const problem = clearRefusal(res);
          if (problem) wrong.push(`${job.method} ${job.pattern} [${job.name}]: ${problem}`);
        }
      }),
    );
    expect(wrong).toEqual([]);
    expect(jobs.length).toBeGreaterThan(300);
    expect((await send(server, 'GET', '/healthz')).status).toBe(200);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(await snapshot()).toEqual(before);
  }, 60_000);
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
  opts: { token?: string; body?: string | Buffer | undefined; contentType?: string } = {},
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
            ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(opts.body) }
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
