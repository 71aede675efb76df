// the parts of the wire contract an application needs (so apps depend on the SDK only)
export type {
  AttachmentRef,
  Channel,
  ChatMessage,
  DocInfo,
  DocVersionInfo,
  ErrorCode,
  MyChannel,
  PeerInfo,
  PersonPresence,
  PresenceState,
  Role,
  RoomRecordInfo,
  Tier,
  TierProfile,
} from '@moim/protocol';
export { MoimError, PRESENCE_STATES, ROLES, roomNotesDocName, TIER_PROFILES, TIERS } from '@moim/protocol/client';
export type { ChatEvents, PendingMessage } from './chat/Chat.ts';
export { Chat } from './chat/Chat.ts';
export type { DocHandle } from './docs/Docs.ts';
export { Docs, wsUrl } from './docs/Docs.ts';
export type { DevToken, DevTokenInput } from './http.ts';
export { devToken } from './http.ts';
export type { LineLevel, LogContext, LogExtension, Logger, LoggerName, LogLevel } from './logger.ts';
export { getLogger, getLogLevel, LOG_LEVELS, LoggerNames, setLogExtension, setLogLevel } from './logger.ts';
export type { ClientEvents, ConnectionState, ConnectOptions, Me } from './MoimClient.ts';
export { connect, MoimClient } from './MoimClient.ts';
export type { PresenceEvents, PresenceFilter } from './presence/Presence.ts';
export { Presence } from './presence/Presence.ts';
export { chooseSpatialLayer } from './rooms/layers.ts';
export { RemoteTrack } from './rooms/RemoteTrack.ts';
export type { LocalTrack, RemotePeer, RoomEvents } from './rooms/Room.ts';
export { Room } from './rooms/Room.ts';
export type { RoomsOptions } from './rooms/Rooms.ts';
export { Rooms } from './rooms/Rooms.ts';
export type { NetworkQuality, TrackFigures } from './rooms/stats.ts';
export { randomId, tokenExpiry } from './token.ts';
