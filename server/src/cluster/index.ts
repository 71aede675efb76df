/**
 * The cluster mode of a node (`REDIS_URL` set): its Redis connections, its lease in the node
 * registry, and socket.io across nodes on the Redis streams adapter — so `io.to(room).emit`,
 * `socketsLeave` and friends reach the sockets of every node, and no sticky sessions are needed
 * (WebSocket transport only). The adapter's own connection queues commands while Redis is away
 * and resumes its stream where it stopped, so a Redis that blinks delays cross-node delivery
 * without losing what was sent meanwhile. Correctness after a reconnect stays with moim's own
 * catch-up (chat seqs, Yjs sync, room rejoin), never with the adapter's session recovery.
 */
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import { ClusterMetrics } from './clusterMetrics.ts';
import { NodeRegistry } from './NodeRegistry.ts';
import { connectRedis, type RedisConnections, redisOptions, watch } from './redis.ts';

export { CallRelay } from './CallRelay.ts';
export type { ClusterMetrics } from './clusterMetrics.ts';
export { MediaRelay } from './MediaRelay.ts';
export { NodeRegistry } from './NodeRegistry.ts';
export { RedisCallDirectory } from './RedisCallDirectory.ts';
export { RedisDocRelay } from './RedisDocRelay.ts';
export { RedisPersonLimits } from './RedisPersonLimits.ts';
export { RedisPresence } from './RedisPresence.ts';
export { RoomHomes } from './RoomHomes.ts';
export type { RedisConnections } from './redis.ts';

export interface ClusterOptions {
  redisUrl: string;
  prefix: string;
  nodeId: string;
  /** This node's base URL as other nodes and clients reach it. */
  url: string;
  site?: string | null | undefined;
  log: Logger;
  metrics: Metrics;
  /** How long start-up waits for Redis. @default 10000 */
  connectTimeoutMs?: number | undefined;
}

export interface Cluster {
  readonly redis: RedisConnections;
  readonly registry: NodeRegistry;
  readonly metrics: ClusterMetrics;
  /** The socket.io adapter (pass as the Server's `adapter` option). */
  readonly adapter: ReturnType<typeof createAdapter>;
  /** True while both Redis connections are up. */
  healthy(): boolean;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const log = opts.log;
  const redis = connectRedis({ url: opts.redisUrl, prefix: opts.prefix, log });
  // the adapter blocks on XREAD (5 s) and must not time out nor drop what it publishes while
  // Redis is away: its own connection, no command timeout, commands wait for the reconnection
  const adapterClient = new Redis(opts.redisUrl, {
    ...redisOptions(log, 'adapter'),
    commandTimeout: undefined,
    maxRetriesPerRequest: null,
  });
  watch(adapterClient, 'adapter', log);
  try {
    await redis.ready(opts.connectTimeoutMs ?? 10_000);
  } catch (err) {
    await redis.close();
    adapterClient.disconnect();
    throw new Error(`REDIS_URL: Redis did not answer (${(err as Error).message})`, { cause: err });
  }
  const adapter = createAdapter(adapterClient, {
    streamName: `${opts.prefix}socket.io`,
    channelPrefix: `${opts.prefix}socket.io`,
    sessionKeyPrefix: `${opts.prefix}sio:session:`,
    maxLen: 100_000,
  });
  const registry = new NodeRegistry({ redis, nodeId: opts.nodeId, url: opts.url, site: opts.site, log });
  await registry.start();
  const healthy = () => redis.cmd.status === 'ready' && redis.sub.status === 'ready';
  return {
    redis,
    registry,
    metrics: new ClusterMetrics(opts.metrics, { registry, redisUp: healthy, log }),
    adapter,
    healthy,
    async close() {
      await registry.stop({ leave: true });
      await redis.close();
      adapterClient.disconnect();
    },
  };
}
