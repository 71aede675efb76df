/**
 * bench:cluster pieces: a private `redis-server` on a free port (no persistence), a PostgreSQL
 * schema of the test database per trial (dropped at the end), and moim nodes started as
 * `npm start` does (bench/lib/moim.ts) with the cluster settings — as test/cluster/support.ts
 * does for the cluster tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../server/src/storage/contract/backends.ts';
import { freePort } from '../../test/cluster/support.ts';
import { withTimeout } from './bounded.ts';
import { type MoimServer, startMoim } from './moim.ts';

export { TEST_DATABASE_URL };

export interface RedisServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const liveRedis = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveRedis) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A private `redis-server` (no RDB, no AOF) on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveRedis.add(c);
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    c.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
    c.stderr!.on('data', (d) => {
      out += d;
    });
    c.once('error', reject);
    c.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  await withTimeout(ready, 15_000, 'redis-server start');
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: c.pid!,
    async stop() {
      if (c.exitCode !== null || c.signalCode !== null) {
        liveRedis.delete(c);
        return;
      }
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await withTimeout(exited, 10_000, 'redis-server stop');
      liveRedis.delete(c);
    },
  };
}

export interface Deployment {
  /** `one node` (PostgreSQL, no Redis) or `two nodes` (PostgreSQL + Redis). */
  nodes: MoimServer[];
  redis: RedisServer | undefined;
  schema: string;
  /** Node processes' pids (main processes: the SFU workers stay idle). */
  nodePids(): number[];
  stop(): Promise<void>;
}

/**
 * `count` moim nodes on a fresh schema of the test database; with `count` > 1 they share a private
 * Redis (REDIS_URL). Every node has the same JWT secret, so a token minted by one is good on the
 * other.
 */
export async function startDeployment(count: number, extra: Record<string, string> = {}): Promise<Deployment> {
  const schema = uniqueSchema('bench_cluster');
  const secret = randomBytes(32).toString('hex');
  const prefix = `moim-bench-${randomBytes(4).toString('hex')}:`;
  const redis = count > 1 ? await startRedis() : undefined;
  const nodes: MoimServer[] = [];
  const stop = async () => {
    const errs: unknown[] = [];
    await Promise.all(
      nodes.map((n) =>
        n.stop().catch((e: unknown) => {
          errs.push(e);
        }),
      ),
    );
    if (redis) await redis.stop().catch((e: unknown) => errs.push(e));
    await dropSchema(schema).catch((e: unknown) => errs.push(e));
    if (errs.length) throw new Error(`stopping the deployment: ${errs.map(String).join('; ')}`);
  };
  try {
    const env = (id: string): Record<string, string> => ({
      DATABASE_URL: TEST_DATABASE_URL,
      MOIM_DATABASE_SCHEMA: schema,
      MOIM_JWT_SECRET: secret,
      MOIM_ENV: 'test',
      MOIM_NODE_ID: id,
      MOIM_SFU_WORKERS: '1',
      // every load-generator client comes from 127.0.0.1
      MOIM_MAX_SOCKETS_PER_ADDRESS: '100000',
      ...(redis
        ? {
            REDIS_URL: redis.url,
            MOIM_REDIS_PREFIX: prefix,
          }
        : {}),
      ...extra,
    });
    // the first node creates the schema's tables; the others start on them
    nodes.push(await startMoim(env('bench-a')));
    for (let k = 1; k < count; k++) nodes.push(await startMoim(env(`bench-${String.fromCharCode(97 + k)}`)));
  } catch (err) {
    await stop().catch((e: unknown) => process.stderr.write(`cleanup after a failed start: ${String(e)}\n`));
    throw err;
  }
  return { nodes, redis, schema, nodePids: () => nodes.map((n) => n.pid), stop };
}
