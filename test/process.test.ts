import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './support/serverProcess.ts';

/** Every file below `dir` (relative paths). */
const filesBelow = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : [];

const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** Start the server exactly as `npm start` does (node server/src/main.ts) on a free port. */
async function startProcess(env: Record<string, string> = {}, opts: { dataDir?: string } = {}): Promise<ServerProcess> {
  const server = await startServerProcess(env, opts);
  servers.push(server);
  return server;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('the server process', () => {
  it('starts as npm start does, answers /healthz, and shuts down gracefully on SIGTERM with exit 0', async () => {
    const { child, url } = await startProcess();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('moim_socket_connections');
    const { token } = (await (
      await fetch(`${url}/auth/dev-token`, {
        method: 'POST',
        body: JSON.stringify({ name: 'Kang', site: 'hq', role: 'member' }),
      })
    ).json()) as { token: string };
    const socket = io(url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION },
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    const started = Date.now();
    child.kill('SIGTERM');
    // exit code 0 without a forced exit: nothing keeps the event loop alive
    expect(await exited(child)).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await disconnected).toBe('io server disconnect');
  });

  it('keeps the compile cache of its modules in the data folder once ready, and starts on it again; MOIM_COMPILE_CACHE=off keeps none, a folder keeps it there', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-compile-cache-'));
    try {
      const first = await startProcess({}, { dataDir });
      // written when it says it is ready, not only at exit: SIGKILL leaves it in place
      first.child.kill('SIGKILL');
      await exited(first.child);
      const cached = filesBelow(path.join(dataDir, 'compile-cache'));
      // one entry per module compiled before ready: moim's own and its dependencies'
      expect(cached.length).toBeGreaterThan(100);
      const again = await startProcess({}, { dataDir });
      expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
      expect(again.output()).not.toMatch(/compile cache/);

      const off = await startProcess({ MOIM_COMPILE_CACHE: 'off' });
      expect((await fetch(`${off.url}/healthz`)).status).toBe(200);
      expect(existsSync(path.join(off.dataDir, 'compile-cache'))).toBe(false);

      // a folder of its own (several moims of one installation may share one)
      const shared = path.join(dataDir, 'shared-cache');
      const elsewhere = await startProcess({ MOIM_COMPILE_CACHE: shared });
      expect(filesBelow(shared).length).toBeGreaterThan(100);
      expect(existsSync(path.join(elsewhere.dataDir, 'compile-cache'))).toBe(false);
    } finally {
      for (const s of servers.splice(0)) await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('stops with a message naming the variable on bad configuration', async () => {
    await expect(startProcess({ PORT: 'eighty' })).rejects.toThrow(/exited with 2: .*PORT: expected an integer/s);
  });

  it('refuses dev sign-in in production', async () => {
    const { url } = await startProcess({
      MOIM_ENV: 'production',
      MOIM_JWT_SECRET: 'Vh3kR9pXw2Lq7ZsN4tBy8MfC1dJg6QeA0uKo5YiT',
      MOIM_JWT_ISSUER: 'https://idp.example.org',
    });
    const res = await fetch(`${url}/auth/dev-token`, {
      method: 'POST',
      body: JSON.stringify({ name: 'X', site: 'hq', role: 'admin' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'DEV_TOKENS_DISABLED' } });
  });
});
