/** The options and events of a MediaRoom (its public contract, apart from its methods). */
import type { RoomCloseReason, Tier, TierProfile } from '@moim/protocol';
import type { Producer } from 'mediasoup/types';
import type { SfuLogger } from './logging.ts';
import type { Peer, ProducerEntry } from './Peer.ts';
import type { WorkerPool } from './WorkerPool.ts';

export interface MediaRoomOptions {
  id: string;
  tier: Tier;
  pool: WorkerPool;
  log: SfuLogger;
  /** Consumers one router serves before recv transports go to a router on another worker (pipeToRouter). */
  consumersPerRouter: number;
  /** Allow `kind: 'plain'` transports (plain RTP; tests and benchmarks). @default false */
  allowPlainTransports?: boolean;
  /** Transports one peer may have open. @default 4 */
  maxTransportsPerPeer?: number;
  /** Audio level reports interval (ms). @default 1000 */
  audioLevelIntervalMs?: number;
  /** Tier profile override (tests); @default the table entry of `tier`. */
  profile?: TierProfile;
}

export type PeerLeftReason = 'left' | 'removed' | 'timeout' | 'closed';

export interface MediaRoomEvents {
  peerJoined: (peer: Peer) => void;
  /** A peer is gone (its transports are closed). `closed`: the whole room closed. */
  peerLeft: (peer: Peer, reason: PeerLeftReason) => void;
  close: (reason: RoomCloseReason) => void;
  /** A peer of this room produced (cascade: the producer is piped to the room's other nodes). */
  producer: (peer: Peer, producer: Producer) => void;
  /** A producer was created (a recording of the room starts recording it). */
  producerAdded: (peer: Peer, entry: ProducerEntry) => void;
}
