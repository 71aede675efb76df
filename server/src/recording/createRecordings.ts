import path from 'node:path';
import { RECORDING_STOP_MS } from '@moim/protocol';
import { RecorderPorts } from '@moim/sfu';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { MediaService } from '../media/MediaService.ts';
import type { ContentPolicy } from '../policy/ContentPolicy.ts';
import type { Stores } from '../storage/index.ts';
import type { Clock } from '../telework/Scheduler.ts';
import { Recordings } from './Recordings.ts';

/** The recordings service of one node from its configuration (work folder `<data>/recordings`). */
export function createRecordings(
  config: Config,
  deps: { stores: Stores; media: MediaService; contentPolicy: ContentPolicy; clock: Clock; log: Logger },
): Recordings {
  return new Recordings({
    store: deps.stores.recordings,
    rooms: deps.stores.rooms,
    blobs: deps.stores.blobs,
    audit: deps.stores.audit,
    liveRoom: (roomId) => deps.media.liveRoom(roomId),
    policies: config.recordingPolicy,
    contentPolicy: deps.contentPolicy,
    dir: path.join(config.dataDir, 'recordings'),
    ports: new RecorderPorts({ min: config.recordingPortMin, max: config.recordingPortMax }),
    limits: {
      ffmpegPath: config.recordingFfmpeg,
      niceLevel: config.recordingNice,
      maxMemoryBytes: config.recordingMaxMemoryBytes,
      keyFrameIntervalMs: config.recordingKeyFrameIntervalMs,
      startTimeoutMs: 10_000,
      // a paused producer's ffmpeg ends by itself after its input's 10 s idle timeout; half of the
      // bound a stop answers within (the rest is for storing the files)
      stopTimeoutMs: RECORDING_STOP_MS / 2,
      ip: '127.0.0.1',
    },
    maxConcurrent: config.recordingMaxConcurrent,
    maxTracks: config.recordingMaxTracks,
    maxFileBytes: config.recordingMaxFileBytes,
    clock: deps.clock,
    nodeId: config.nodeId,
    log: deps.log.child({ subsystem: 'recording' }),
  });
}
