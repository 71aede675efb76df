export { isHelperCodec, routerMediaCodecs } from './codecs.ts';
export { type IceServer, iceServersFor, type TurnOptions } from './iceServers.ts';
export { routeMediasoupLogs, type SfuLogger, silentLogger } from './logging.ts';
export { MediaRoom, type MediaRoomEvents, type MediaRoomOptions, mediaCall, type PeerLeftReason } from './MediaRoom.ts';
export {
  type ConsumerEntry,
  Peer,
  type PeerEvents,
  type PeerSignal,
  type ProducerEntry,
  type TransportEntry,
} from './Peer.ts';
export { type AudioStreamOptions, RtpGenerator, RtpSink, type VideoStreamOptions } from './RtpGenerator.ts';
export { AUDIO_LEVEL_URI, opusRtpParameters, plainRecvCapabilities, vp8RtpParameters, waitFor } from './testing.ts';
export {
  type ListenAddress,
  type PoolWorker,
  WorkerPool,
  type WorkerPoolEvents,
  type WorkerPoolOptions,
} from './WorkerPool.ts';
