/**
 * Cluster tests' pieces: a private `redis-server` on a free port (no persistence, so a kill is a
 * real loss), node processes started as `npm start` does with the cluster settings, and a
 * PostgreSQL schema of the test database per test file (dropped at the end).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
export function connect(
  url: string,
  token: string,
  opts: { reconnection?: boolean; deviceId?: string } = {},
): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket: TestSocket = ioClient(url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION, ...(opts.deviceId ? { deviceId: opts.deviceId } : {}) },
      reconnection: opts.reconnection ?? false,
      forceNew: true,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

export interface Balancer {
  url: string;
  /** Connections handed to each backend so far, by backend port. */
  handed: Map<number, number>;
  close(): Promise<void>;
}

/**
 * A TCP load balancer in front of the nodes, as nginx without `ip_hash` would be: each new
 * connection goes to the next backend in turn; a backend that refuses (a dead node) is skipped.
 */
export async function startBalancer(backends: () => Array<{ port: number }>): Promise<Balancer> {
  const { createConnection, createServer: createTcpServer } = await import('node:net');
  let next = 0;
  const handed = new Map<number, number>();
  const sockets = new Set<import('node:net').Socket>();
  const server = createTcpServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const list = backends();
    const attempt = (tries: number): void => {
      if (tries >= list.length) {
        client.destroy();
        return;
      }
      const port = list[next++ % list.length]!.port;
      const upstream = createConnection({ host: '127.0.0.1', port });
      const refused = () => attempt(tries + 1);
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        handed.set(port, (handed.get(port) ?? 0) + 1);
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        upstream.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    handed,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface PostgresProcess {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  url: string;
  port: number;
  /** The cluster's folder (data directory, socket, log). */
  dir: string;
  /** Shut down (`pg_ctl stop -m fast|immediate`), keeping the data; resolves once it is gone. */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Start again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `halt(mode)`, `downMs` of nothing, `start()`. */
  restart(opts?: { mode?: 'fast' | 'immediate'; downMs?: number }): Promise<void>;
  /** SIGKILL of the postmaster and its backends (its process group): a crash; `start()` recovers. */
  kill(): Promise<void>;
  /** The server log so far. */
  log(): string;
  /** Stop for good (immediate) and remove the folder. */
  stop(): Promise<void>;
}

/** PostgreSQL 15's programs: the Debian layout, else whatever `initdb` the PATH finds. */
function pgBin(name: string): string {
  const debian = `/usr/lib/postgresql/15/bin/${name}`;
  return existsSync(debian) ? debian : name;
}

/**
 * Run a PostgreSQL program, as the `postgres` user when this process is root (PostgreSQL refuses
 * to run as root; CI is root), bounded by `timeoutMs`.
 */
async function runPg(name: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  const root = process.getuid?.() === 0;
  const [cmd, argv] = root ? ['runuser', ['-u', 'postgres', '--', pgBin(name), ...args]] : [pgBin(name), args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    return { code, out };
  } finally {
    clearTimeout(timer);
  }
}

async function mustRunPg(name: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await runPg(name, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${name} ${args.join(' ')} failed (${r.code}): ${r.out}`);
  return r.out;
}

/**
 * A private PostgreSQL 15 cluster for a test that restarts or kills it: `initdb` into a fresh
 * temporary folder (owned by `postgres` when running as root), trust auth, listening on a free
 * port of 127.0.0.1 only (its Unix socket in the folder), fsync on. Every wait is bounded (30 s).
 */
export async function startPostgres(): Promise<PostgresProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'moim-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  // --no-sync only makes initdb itself faster; the running server keeps fsync on
  await mustRunPg('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=on',
    '-c max_connections=100',
  ].join(' ');
  const start = async () => {
    // -w: returns once the server accepts connections (or fails within -t seconds)
    await mustRunPg('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '30', '-o', options], 35_000);
  };
  const halt = async (mode: 'fast' | 'immediate' = 'fast') => {
    await mustRunPg('pg_ctl', ['stop', '-D', data, '-m', mode, '-w', '-t', '30'], 35_000);
  };
  const kill = async () => {
    const pidFile = path.join(data, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    // pg_ctl starts the postmaster in a session of its own: the group is the postmaster and its backends
    process.kill(-pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    for (;;) {
      // gone, or a zombie its new parent has not reaped yet (it holds nothing any more)
      let state: string;
      try {
        state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] ?? '';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      if (state === 'Z') return;
      if (Date.now() > deadline) throw new Error(`postgres ${pid} still running 30 s after SIGKILL`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const running = () => existsSync(path.join(data, 'postmaster.pid'));
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    halt,
    start,
    kill,
    async restart(opts = {}) {
      await halt(opts.mode ?? 'fast');
      await new Promise((r) => setTimeout(r, opts.downMs ?? 0));
      await start();
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async stop() {
      try {
        if (running()) await halt('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
