/**
 * Cluster tests' pieces: a private `redis-server` on a free port (no persistence, so a kill is a
 * real loss), node processes started as `npm start` does with the cluster settings, and a
 * PostgreSQL schema of the test database per test file (dropped at the end).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io as ioClient } from 'socket.io-client';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../server/src/storage/contract/backends.ts';
import type { TestSocket } from '../../server/src/testing/index.ts';
import { type ServerProcess, startServerProcess } from '../support/serverProcess.ts';

export { call, collect, nextEvent, request } from '../../server/src/testing/index.ts';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisProcess {
  url: string;
  port: number;
  /** SIGKILL (everything it held is gone). */
  kill(): Promise<void>;
  /** Start again on the same port, empty. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = c;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      c.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve();
      });
      c.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, stop: kill };
}

export interface ClusterEnv {
  schema: string;
  prefix: string;
  secret: string;
  /** Environment every node of this cluster shares. */
  env(redisUrl: string): Record<string, string>;
  /** Drop the schema. */
  cleanup(): Promise<void>;
}

export function clusterEnv(): ClusterEnv {
  const schema = uniqueSchema('cluster');
  const prefix = `moim-test-${randomBytes(4).toString('hex')}:`;
  const secret = randomBytes(32).toString('hex');
  return {
    schema,
    prefix,
    secret,
    env: (redisUrl) => ({
      DATABASE_URL: TEST_DATABASE_URL,
      MOIM_DATABASE_SCHEMA: schema,
      REDIS_URL: redisUrl,
      MOIM_REDIS_PREFIX: prefix,
      MOIM_CLUSTER_PREVIEW: '1',
      MOIM_JWT_SECRET: secret,
      MOIM_ENV: 'test',
    }),
    cleanup: () => dropSchema(schema),
  };
}

/** Start one node of the cluster. */
export function startNode(
  cluster: ClusterEnv,
  redisUrl: string,
  nodeId: string,
  extra: Record<string, string> = {},
): Promise<ServerProcess> {
  return startServerProcess({ ...cluster.env(redisUrl), MOIM_NODE_ID: nodeId, ...extra });
}

/** A socket.io client of node `url` (WebSocket only, as in a cluster). */
export function connect(url: string, token: string, opts: { reconnection?: boolean } = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket: TestSocket = ioClient(url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION },
      reconnection: opts.reconnection ?? false,
      forceNew: true,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}
