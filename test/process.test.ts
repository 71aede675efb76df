import type { ChildProcess } from 'node:child_process';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './support/serverProcess.ts';

const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** Start the server exactly as `npm start` does (node server/src/main.ts) on a free port. */
async function startProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess(env);
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
