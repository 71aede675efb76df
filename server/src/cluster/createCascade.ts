/** The cascade of a cluster node from its configuration (app.ts wiring). */
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { MediaService } from '../media/MediaService.ts';
import type { Metrics } from '../observability/Metrics.ts';
import { Cascade } from './Cascade.ts';
import type { Cluster } from './index.ts';

export function createCascade(
  config: Config,
  deps: { cluster: Cluster; media: MediaService; log: Logger; metrics: Metrics },
): Cascade {
  const listen = config.rtcListen[0];
  if (!listen) throw new Error('MOIM_RTC_LISTEN: the cascade needs a media listen address');
  return new Cascade({
    redis: deps.cluster.redis,
    registry: deps.cluster.registry,
    media: deps.media,
    listen,
    srtp: config.cascadeSrtp,
    timeoutMs: config.cascadeTimeoutMs,
    log: deps.log.child({ subsystem: 'cascade' }),
    metrics: deps.metrics,
  });
}
