import { WorkerPool } from '@moim/sfu';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { Stores } from '../storage/index.ts';
import { MediaService } from './MediaService.ts';

/** Start the worker pool and the media service from the node's configuration. */
export async function createMediaService(
  config: Config,
  deps: { log: Logger; metrics: Metrics; stores: Stores },
): Promise<MediaService> {
  const log = deps.log.child({ subsystem: 'media' });
  const pool = await WorkerPool.create({
    workers: config.sfuWorkers,
    listen: config.rtcListen,
    port: config.rtcPort,
    portFallback: config.rtcPortFallback,
    log,
    logLevel: config.sfuLogLevel,
  });
  return new MediaService({
    pool,
    rooms: deps.stores.rooms,
    audit: deps.stores.audit,
    log,
    metrics: deps.metrics,
    peerGraceMs: config.peerGraceMs,
    roomIdleCloseMs: config.roomIdleCloseS * 1000,
    consumersPerRouter: config.consumersPerRouter,
    allowPlainTransports: config.sfuAllowPlain,
    turn: { urls: config.turnUrls, secret: config.turnSecret, ttlS: config.turnTtlS },
  });
}
