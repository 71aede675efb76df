/**
 * The node's Redis connections (ioredis, pure JS): one for commands and one for subscriptions
 * (a subscribed connection takes no other commands). Both reconnect forever with a capped backoff
 * and re-subscribe on their own; every error is logged with its context and none ends the
 * process — a Redis that blinks costs a few seconds of cross-node delivery, never the node.
 * Commands issued while Redis is away fail after `commandTimeoutMs` instead of queueing without
 * bound, so callers (heartbeats, relays) see a failure they can retry.
 *
 * Every key and channel starts with the configured prefix (`MOIM_REDIS_PREFIX`), so deployments
 * and tests can share one Redis.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';

export interface RedisConnections {
  /** Commands (and publishing). */
  readonly cmd: Redis;
  /** Subscriptions only. */
  readonly sub: Redis;
  /** Prefix of every key and channel, e.g. `moim:`. */
  readonly prefix: string;
  /** Resolves once both connections are ready (or rejects after `timeoutMs`). */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface RedisConnectOptions {
  url: string;
  prefix: string;
  log: Logger;
  /** A command waiting longer than this (Redis away) fails. @default 2000 */
  commandTimeoutMs?: number | undefined;
}

/** Options every moim Redis connection uses (also for the duplicates the socket.io adapter makes). */
export function redisOptions(log: Logger, role: string, commandTimeoutMs = 2000): RedisOptions {
  return {
    lazyConnect: false,
    // retry forever, 50 ms → 1 s apart: a restarted Redis is found within a second
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: true,
    connectionName: `moim-${role}`,
    reconnectOnError: (err) => {
      log.warn({ err, role }, 'redis: reconnecting after an error reply');
      return /READONLY|LOADING/.test(err.message);
    },
  };
}

export function connectRedis(opts: RedisConnectOptions): RedisConnections {
  const log = opts.log;
  const make = (role: string): Redis => {
    const client = new Redis(opts.url, redisOptions(log, role, opts.commandTimeoutMs));
    watch(client, role, log);
    return client;
  };
  const cmd = make('cmd');
  const sub = make('sub');
  return {
    cmd,
    sub,
    prefix: opts.prefix,
    ready: (timeoutMs = 10_000) => Promise.all([whenReady(cmd, timeoutMs), whenReady(sub, timeoutMs)]).then(() => {}),
    async close() {
      await Promise.allSettled([cmd.quit(), sub.quit()]);
      cmd.disconnect();
      sub.disconnect();
    },
  };
}

/** Log a connection's life: errors (never unhandled), losses and returns. */
export function watch(client: Redis, role: string, log: Logger): void {
  let lost = false;
  client.on('error', (err: Error) => {
    // ioredis reconnects by itself; an 'error' without a listener would only be printed
    if (!lost) log.warn({ err, role }, 'redis: connection error');
  });
  client.on('close', () => {
    if (!lost) log.warn({ role }, 'redis: connection lost; reconnecting');
    lost = true;
  });
  client.on('ready', () => {
    if (lost) log.info({ role }, 'redis: connection back');
    lost = false;
  });
}

function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
