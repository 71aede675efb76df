/**
 * One cluster per test file: a private `redis-server`, a schema of the test database and node
 * processes started before the file's tests (the first node alone: it migrates the schema), all
 * stopped and dropped after them. File-specific hooks registered after `useCluster` run after its
 * start and before its stop.
 */
import { afterAll, beforeAll } from 'vitest';
import type { ServerProcess } from '../support/serverProcess.ts';
import { type ClusterEnv, clusterEnv, type RedisProcess, startNode, startRedis } from './support.ts';

export interface ClusterFixture {
  /** The nodes, in the order of their ids (filled before the tests run). */
  readonly nodes: ServerProcess[];
  readonly redis: RedisProcess;
  readonly cluster: ClusterEnv;
}

export function useCluster(ids: readonly string[], env: Record<string, string> = {}): ClusterFixture {
  const nodes: ServerProcess[] = [];
  let redis: RedisProcess | undefined;
  let cluster: ClusterEnv | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    cluster = clusterEnv();
    const [first, ...rest] = ids;
    if (first !== undefined) nodes.push(await startNode(cluster, redis.url, first, env));
    const started = await Promise.all(rest.map((id) => startNode(cluster!, redis!.url, id, env)));
    nodes.push(...started);
  }, 60_000);
  afterAll(async () => {
    // a stopped (SIGSTOP) node would never exit
    for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGCONT');
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
    await cluster?.cleanup();
  });
  return {
    nodes,
    get redis() {
      if (!redis) throw new Error('the cluster has not started');
      return redis;
    },
    get cluster() {
      if (!cluster) throw new Error('the cluster has not started');
      return cluster;
    },
  };
}
