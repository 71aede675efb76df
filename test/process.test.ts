import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Start the server exactly as `npm start` does (node server/src/main.ts) on a free port. */
function startProcess(
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-proc-'));
  const child = spawn(process.execPath, ['server/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MOIM_DATA_DIR: dataDir,
      MOIM_SFU_WORKERS: '1',
      MOIM_RTC_PORT: '0',
      MOIM_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /moim ready at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!.replace('localhost', '127.0.0.1'), output: () => out });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
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

  it('stops with a message naming the variable on bad configuration', async () => {
    await expect(startProcess({ PORT: 'eighty' })).rejects.toThrow(/exited with 2: .*PORT: expected an integer/s);
  });

  it('refuses dev sign-in in production', async () => {
    const { url } = await startProcess({ MOIM_ENV: 'production', MOIM_JWT_SECRET: 's'.repeat(40) });
    const res = await fetch(`${url}/auth/dev-token`, {
      method: 'POST',
      body: JSON.stringify({ name: 'X', site: 'hq', role: 'admin' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'DEV_TOKENS_DISABLED' } });
  });
});
