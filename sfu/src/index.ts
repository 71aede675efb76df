export { isRemotePeer, markRemote, remoteNodeOf } from './cascade.ts';
export { isHelperCodec, routerMediaCodecs } from './codecs.ts';
export { isBindFailure, mediaCall, PortInUseError, SfuError, type SfuErrorCode } from './errors.ts';
export { type IceServer, iceServersFor, type TurnOptions } from './iceServers.ts';
export { BENIGN_WORKER_WARNINGS, routeMediasoupLogs, type SfuLogger, silentLogger, WarningDigest } from './logging.ts';
export { MediaRoom, type MediaRoomEvents, type MediaRoomOptions, type PeerLeftReason } from './MediaRoom.ts';
export {
  type ConsumerEntry,
  Peer,
  type PeerEvents,
  type PeerSignal,
  type ProducerEntry,
  type TransportEntry,
} from './Peer.ts';
export {
  isRecordable,
  type RecordedSegment,
  type RecordedTrack,
  type RecorderLimits,
  RecorderPorts,
  RoomRecorder,
  type RoomRecorderOptions,
  udpPortBound,
} from './recording.ts';
export {
  checkJoin,
  checkProduce,
  checkTransportBitrate,
  declaredBitrate,
  type ProduceContext,
  type ProduceRequest,
  SOURCE_KIND,
  type TierVerdict,
} from './tierRules.ts';
export {
  type ListenAddress,
  type PoolWorker,
  type RtcPorts,
  WorkerPool,
  type WorkerPoolEvents,
  type WorkerPoolOptions,
} from './WorkerPool.ts';
