import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io } from 'socket.io-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { secretWeakness } from '../server/src/config.ts';
import { startTestServer } from '../server/src/testing/index.ts';
import { type ServerProcess, startServerProcess } from './support/serverProcess.ts';

/** Issue 11, items 10–13, against the server process as `npm start` runs it. */

const STRONG = 'Vh3kR9pXw2Lq7ZsN4tBy8MfC1dJg6QeA0uKo5YiT'; // a real-looking secret (not one char repeated)
// production with a sign-in method: tokens of an outside issuer sharing the secret
const PROD = { MOIM_ENV: 'production', MOIM_JWT_SECRET: STRONG, MOIM_JWT_ISSUER: 'https://idp.example.org' };
const servers: ServerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'moim-hard-'));
  dirs.push(d);
  return d;
}

async function startProcess(env: Record<string, string> = {}, dataDir?: string): Promise<ServerProcess> {
  const s = await startServerProcess(env, dataDir ? { dataDir } : {});
  servers.push(s);
  return s;
}

/** Start a process that must refuse: resolves with its exit code and output. */
async function refusal(env: Record<string, string>, dataDir?: string): Promise<{ code: number; out: string }> {
  const err = await startServerProcess(env, dataDir ? { dataDir } : {}).then(
    (s) => {
      servers.push(s);
      throw new Error('the server started');
    },
    (e: Error) => e,
  );
  const m = /^server exited with (\d+): ([\s\S]*)$/.exec(err.message);
  if (!m) throw err;
  return { code: Number(m[1]), out: m[2]!.trim() };
}

/** One line, no stack trace. */
function expectOneLine(out: string): void {
  expect(out.split('\n')).toHaveLength(1);
  expect(out).not.toMatch(/\n\s+at /);
}

describe('item 10: framing, /metrics and file modes', () => {
  it('the web app forbids framing by other sites; moim.sqlite and its -wal/-shm are 0600', async () => {
    const { url, dataDir } = await startProcess({ ...PROD });
    const res = await fetch(`${url}/`);
    expect(res.headers.get('content-security-policy')).toMatch(/(^|;\s*)frame-ancestors 'self'(;|$)/);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    for (const f of ['moim.sqlite', 'moim.sqlite-wal', 'moim.sqlite-shm', 'moim.lock']) {
      const file = path.join(dataDir, f);
      expect(existsSync(file), f).toBe(true);
      expect((statSync(file).mode & 0o777).toString(8), f).toBe('600');
    }
  });

  it('production without a token: /metrics only to direct loopback connections, never through a proxy', async () => {
    const { url } = await startProcess({ ...PROD });
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    const proxied = await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(403);
    expect(await proxied.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('with MOIM_METRICS_TOKEN: /metrics needs that bearer token', async () => {
    const token = 'metrics-9f8e7d6c5b4a3210';
    const { url } = await startProcess({ ...PROD, MOIM_METRICS_TOKEN: token });
    const none = await fetch(`${url}/metrics`);
    expect([none.status, ((await none.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'TOKEN_MISSING',
    ]);
    const wrong = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer metrics-0000000000000000' } });
    expect([wrong.status, ((await wrong.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'TOKEN_INVALID',
    ]);
    const right = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('moim_socket_connections');
  });
});

describe('item 11: production settings', () => {
  it('tells guessable secrets from random ones', () => {
    for (const weak of [
      'a'.repeat(64),
      'secretsecretsecretsecretsecretsecret',
      'my-prod-jwt-secret-key-2026-please-change',
      'abcdefghijklmnopqrstuvwxyz0123456789',
      'abababababababababababababababab',
      'Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!',
    ])
      expect(secretWeakness(weak), weak).toBeDefined();
    for (let i = 0; i < 2000; i++) {
      for (const strong of [
        randomBytes(16).toString('hex'),
        randomBytes(32).toString('base64'),
        randomBytes(48).toString('base64url'),
      ])
        expect(secretWeakness(strong), strong).toBeUndefined();
    }
    expect(secretWeakness('correct horse battery staple over the moon')).toBeUndefined();
  });

  it('refuses an obviously weak MOIM_JWT_SECRET with a message naming it', async () => {
    for (const secret of [
      's'.repeat(40),
      'changeme-changeme-changeme-changeme',
      'secretsecretsecretsecretsecretsecret',
    ]) {
      const { code, out } = await refusal({ MOIM_ENV: 'production', MOIM_JWT_SECRET: secret });
      expect(code).toBe(2);
      expect(out).toMatch(/^moim: configuration error: MOIM_JWT_SECRET: too weak: /);
      expect(out).not.toContain(secret); // the secret itself is never printed
      expectOneLine(out);
    }
  });

  it('warns at start when MOIM_SFU_ALLOW_PLAIN is on in production', async () => {
    const s = await startProcess({ ...PROD, MOIM_SFU_ALLOW_PLAIN: 'true' });
    const warning = s
      .output()
      .split('\n')
      .find((l) => l.includes('MOIM_SFU_ALLOW_PLAIN'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40 });
  });
});

describe('item 12: one server per data folder', () => {
  it('refuses a second server on the folder; after kill -9 of the first a new one starts; a stop frees it', async () => {
    const dataDir = folder();
    const first = await startProcess({}, dataDir);
    const second = await refusal({}, dataDir);
    expect(second.code).toBe(2);
    expect(second.out).toContain(
      `moim: cannot start: data folder ${dataDir} is in use by another moim (pid ${first.child.pid}`,
    );
    expectOneLine(second.out);

    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(existsSync(path.join(dataDir, 'moim.lock'))).toBe(true); // kill -9 leaves it …
    const third = await startProcess({}, dataDir); // … but not stuck
    expect((await fetch(`${third.url}/readyz`)).status).toBe(200);
    await third.stop();
    expect(existsSync(path.join(dataDir, 'moim.lock'))).toBe(false);
  });
});

const root = process.getuid?.() === 0;

describe('item 13: start-up errors name the path and the reason, in one line', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts.splice(0)) {
      execFileSync('umount', [m]);
      rmSync(m, { recursive: true, force: true });
    }
  });

  /** A folder nothing may be written into: a read-only tmpfs as root, else mode 0500. */
  function readOnlyFolder(): string {
    const d = mkdtempSync(path.join(tmpdir(), 'moim-ro-'));
    if (root) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', d]);
      mounts.push(d);
    } else {
      execFileSync('chmod', ['0500', d]);
      dirs.push(d);
    }
    return d;
  }

  it('a read-only data folder', async () => {
    const dir = readOnlyFolder();
    const reason = root ? /read-only file system \(EROFS\)/ : /permission denied \(EACCES\)/;
    const prod = await refusal({ ...PROD }, dir);
    expect(prod.code).toBe(2);
    expect(prod.out).toContain(`moim: cannot start: data folder ${dir} is not writable: `);
    expect(prod.out).toMatch(reason);
    expectOneLine(prod.out);
    // development first keeps its generated secret there
    const dev = await refusal({}, dir);
    expect(dev.code).toBe(2);
    expect(dev.out).toContain(`MOIM_DATA_DIR: cannot keep the development secret ${path.join(dir, 'dev-secret')}: `);
    expect(dev.out).toMatch(reason);
    expectOneLine(dev.out);
  });

  it('a data folder that is missing and cannot be created', async () => {
    const base = folder();
    mkdirSync(path.join(base, 'x'));
    execFileSync('touch', [path.join(base, 'file')]);
    const dir = path.join(base, 'file', 'data'); // under a file
    const prod = await refusal({ ...PROD }, dir);
    expect(prod.code).toBe(2);
    expect(prod.out).toContain(`moim: cannot start: data folder ${dir} `);
    expect(prod.out).toContain('a part of the path is not a folder (ENOTDIR)');
    expectOneLine(prod.out);
    const dev = await refusal({}, dir);
    expect(dev.code).toBe(2);
    expect(dev.out).toContain(`MOIM_DATA_DIR: cannot keep the development secret ${path.join(dir, 'dev-secret')}: `);
    expectOneLine(dev.out);
  });

  it.skipIf(!existsSync('/proc/self'))(
    'a folder under /proc (where Node’s recursive mkdir loops forever)',
    async () => {
      const dir = `/proc/moim-${process.pid}`;
      const prod = await refusal({ ...PROD }, dir);
      expect(prod).toEqual({
        code: 2,
        out: `moim: cannot start: data folder ${dir} does not exist and cannot be created: does not exist (ENOENT) (MOIM_DATA_DIR)`,
      });
    },
  );
});

describe('item 13: HTTP, the socket.io handshake and /yjs agree on an expired token', () => {
  it('refuse it with TOKEN_EXPIRED from its exp on (there was a 5 s window where HTTP and the handshake took it)', async () => {
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.url}/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Kim', site: 'hq', role: 'member', ttlSeconds: 1 }),
      });
      const { token, expiresAt } = (await res.json()) as { token: string; expiresAt: number };
      // just past the expiry, well inside the old 5-second tolerance
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt * 1000 - Date.now()) + 200));
      const started = Date.now();

      const http = await fetch(`${server.url}/docs`, { headers: { authorization: `Bearer ${token}` } });
      expect(http.status).toBe(401);
      expect(await http.json()).toMatchObject({ error: { code: 'TOKEN_EXPIRED' } });

      const handshake = await new Promise<{ code?: string }>((resolve) => {
        const socket = io(server.url, {
          transports: ['websocket'],
          auth: { token, protocol: PROTOCOL_VERSION },
          reconnection: false,
          forceNew: true,
        });
        socket.once('connect', () => {
          socket.disconnect();
          resolve({ code: 'connected' });
        });
        socket.once('connect_error', (err) =>
          resolve({ code: (err as Error & { data?: { code?: string } }).data?.code }),
        );
      });
      expect(handshake.code).toBe('TOKEN_EXPIRED');

      const yjs = await new Promise<{ code: number; reason: string }>((resolve) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/yjs/notes?token=${token}`);
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      });
      expect(yjs.code).toBe(4401);
      expect(yjs.reason).toContain('TOKEN_EXPIRED');
      expect(Date.now() - started).toBeLessThan(4000); // all of it inside the old window
    } finally {
      await server.close();
    }
  });
});
