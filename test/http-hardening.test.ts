/**
 * HTTP hardening against a real server: security headers on API answers and on the web app (a CSP
 * without inline script, and a web app that has none), and the origin allow-list on the API,
 * socket.io (WebSocket and long-polling) and the /yjs WebSocket.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

const root = path.resolve(import.meta.dirname, '..');
const ALLOWED = 'https://moim.example.go.kr';
const EVIL = 'https://evil.example';
let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer({ MOIM_ALLOWED_ORIGINS: ALLOWED });
  token = await server.token({ name: 'Ann', sub: 'ann' });
  // a small web root for the static answers' headers (the real app's HTML is checked below)
  const web = path.join(server.dataDir, 'no-web');
  mkdirSync(web, { recursive: true });
  writeFileSync(path.join(web, 'index.html'), '<!doctype html><script type="module" src="/assets/a.js"></script>');
});
afterAll(async () => {
  await server?.close();
});

describe('security headers', () => {
  it('every API answer: nosniff, a CSP that runs nothing and forbids framing, no referrer', async () => {
    for (const p of ['/healthz', '/no-such-route', '/docs']) {
      const res = await fetch(`${server.url}${p}`);
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('socket.io long-polling answers: nosniff and no referrer too', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    await res.arrayBuffer();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('the web app: scripts from this origin only, never inline; framing by this origin only', async () => {
    const s = await startTestServer({ MOIM_WEB_ROOT: path.join(server.dataDir, 'no-web') });
    try {
      const res = await fetch(`${s.url}/some/client/route`);
      expect(res.status).toBe(200);
      await res.text();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(csp).toContain("frame-ancestors 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      await s.close();
    }
  });

  it('the web app has no inline script (source and, when built, the bundle)', () => {
    const pages = [path.join(root, 'web-demo/index.html'), path.join(root, 'web-demo/dist/index.html')].filter(
      existsSync,
    );
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      const html = readFileSync(page, 'utf8');
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, body] of scripts) {
        expect(attrs, page).toMatch(/\bsrc=/);
        expect(body?.trim(), page).toBe('');
      }
      expect(html, page).not.toMatch(/\son[a-z]+\s*=/i); // no inline event handlers either
    }
  });
});

describe('origin allow-list', () => {
  const api = (origin?: string) =>
    fetch(`${server.url}/docs`, {
      headers: { authorization: `Bearer ${token}`, ...(origin ? { origin } : {}) },
    });

  it('the API refuses a page of another origin, serves allowed and same-origin pages and clients without Origin', async () => {
    const refused = await api(EVIL);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
    expect((await api('null')).status).toBe(403);
    for (const origin of [ALLOWED, new URL(server.url).origin, undefined]) {
      const res = await api(origin);
      await res.arrayBuffer();
      expect(res.status, String(origin)).toBe(200);
    }
  });

  const socketFrom = (origin: string, transport: 'websocket' | 'polling') =>
    new Promise<string>((resolve) => {
      const s = ioClient(server.url, {
        transports: [transport],
        extraHeaders: { origin },
        auth: { token, protocol: PROTOCOL_VERSION },
        reconnection: false,
        forceNew: true,
      });
      s.once('connect', () => {
        s.disconnect();
        resolve('connected');
      });
      s.once('connect_error', (err) => {
        s.disconnect();
        resolve(`refused: ${err.message}`);
      });
    });

  it('socket.io refuses a page of another origin over WebSocket and long-polling', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      expect(await socketFrom(EVIL, transport)).toMatch(/^refused/);
      expect(await socketFrom(ALLOWED, transport)).toBe('connected');
    }
  });

  it('the /yjs WebSocket refuses a page of another origin (403)', async () => {
    const open = (origin: string) =>
      new Promise<number | 'open'>((resolve) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/yjs/notes?token=${token}`, { origin });
        ws.once('open', () => {
          ws.close();
          resolve('open');
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('error', () => undefined);
      });
    expect(await open(EVIL)).toBe(403);
    expect(await open(ALLOWED)).toBe('open');
  });
});
