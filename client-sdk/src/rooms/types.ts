/**
 * The types of a joined video room (the SDK's `rooms`): the tracks it publishes, the peers it
 * sees, the events a `Room` emits, and what `Rooms` hands each `Room` it creates.
 */
import type { MediaServerEvents, MediaSource, PeerInfo, RecordingInfo } from '@moim/protocol';
import type { MoimError } from '@moim/protocol/client';
import type { Device } from 'mediasoup-client';
import type { MoimClient } from '../MoimClient.ts';
import type { RemoteTrack } from './RemoteTrack.ts';
import type { Room } from './Room.ts';
import type { NetworkQuality } from './stats.ts';

export type Args<E extends keyof MediaServerEvents> = Parameters<MediaServerEvents[E]>[0];

/** A track this client publishes. */
export interface LocalTrack {
  source: MediaSource;
  index: number;
  track: MediaStreamTrack;
  producerId: string;
  /** Paused by this client (muted / camera off) or by a moderator. */
  paused: boolean;
  /** The encodings handed to mediasoup-client (from the tier profile). */
  encodings: ReadonlyArray<Record<string, unknown>>;
}

export interface RemotePeer extends PeerInfo {}

export interface RoomEvents {
  peerJoined: (peer: RemotePeer) => void;
  peerLeft: (e: { peerId: string; reason: 'left' | 'removed' | 'timeout' | 'reconnect' }) => void;
  handRaised: (e: { peerId: string; raised: boolean }) => void;
  /** A remote track is ready to show or play (already resumed on the server). */
  track: (track: RemoteTrack) => void;
  trackEnded: (track: RemoteTrack) => void;
  /** A remote track was paused or resumed (by its sender or by this client). */
  trackPaused: (track: RemoteTrack) => void;
  trackResumed: (track: RemoteTrack) => void;
  layersChanged: (track: RemoteTrack) => void;
  localTrack: (track: LocalTrack) => void;
  localTrackEnded: (track: LocalTrack) => void;
  localTrackPaused: (track: LocalTrack & { byModerator: boolean }) => void;
  localTrackResumed: (track: LocalTrack) => void;
  /**
   * A published video track delivered no frame to its sender (a device the browser opens but
   * cannot encode, such as a depth camera). The app usually unpublishes it.
   */
  localTrackStalled: (track: LocalTrack) => void;
  activeSpeaker: (e: { peerId: string; producerId: string }) => void;
  audioLevels: (levels: Args<'media:audioLevels'>['levels']) => void;
  /** Periodic figures from WebRTC stats and the server's scores. */
  quality: (q: NetworkQuality) => void;
  /** The socket dropped; media may continue while the client reconnects. */
  reconnecting: () => void;
  /** Back in the room after a reconnect (`resumed`: the server kept this peer). */
  rejoined: (e: { resumed: boolean }) => void;
  /** A moderator removed me. The room object is closed. */
  removed: (e: { reason: string | null }) => void;
  /**
   * The room object is closed (left, removed, room closed, or `rejoin failed`: every attempt to
   * rejoin after a reconnect or a dead worker failed). `error` says what failed, when something did.
   */
  closed: (e: { reason: string; error?: MoimError }) => void;
  /**
   * A recording of the room started, is being saved, stopped or failed (also told right after
   * joining one that runs or is being saved).
   */
  recording: (recording: RecordingInfo) => void;
}

/** How media transports reach the SFU (see `RoomsOptions.strictNetwork` and `forceTcp`). */
export interface NetworkPolicy {
  /** Relay-only ICE (`iceTransportPolicy: 'relay'`): media goes through the TURN server alone. */
  strictNetwork: boolean;
  /** TCP candidates only from the SFU. */
  forceTcp: boolean;
}

export interface RoomDeps {
  client: MoimClient;
  createDevice: () => Promise<Device>;
  qualityIntervalMs: number;
  /** Check this long after publishing a video track that frames reach its sender (0: never). */
  stallCheckMs: number;
  /** Attempts at rejoining (after a reconnect or a dead worker) before the room closes. */
  rejoinAttempts: number;
  /** Wait before the second attempt; doubles for each further one. */
  rejoinDelayMs: number;
  /** The network policy in force when a transport is created. */
  network: () => NetworkPolicy;
  onClosed: (room: Room) => void;
}
