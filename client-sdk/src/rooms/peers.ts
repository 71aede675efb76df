/**
 * A room's peers and its room-level server events (`room:peerJoined`, `room:peerLeft`,
 * `room:handRaised`, `room:removed`, `room:closed`): the peer list kept from join answers and
 * events, reconciled after a rejoin, and the events buffered while a join is under way.
 */
import type { PeerInfo } from '@moim/protocol';
import type { TypedEmitter } from '@moim/protocol/client';
import type { MoimClient } from '../MoimClient.ts';
import type { Args, RemotePeer, RoomEvents } from './types.ts';

export const ROOM_EVENTS = [
  'room:peerJoined',
  'room:peerLeft',
  'room:handRaised',
  'room:removed',
  'room:closed',
  'room:recordingChanged',
] as const;
type RoomEventName = (typeof ROOM_EVENTS)[number];
export type EarlyEvent = { [E in RoomEventName]: { event: E; payload: Args<E> } }[RoomEventName];

/**
 * The server may announce another peer before it answers the join: keep such events (to replay
 * once the room object exists) until `stop`.
 */
export function bufferRoomEvents(client: MoimClient, roomId: string): { early: EarlyEvent[]; stop: () => void } {
  const early: EarlyEvent[] = [];
  const offs = ROOM_EVENTS.map((event) =>
    client.onServer(event, ((e: { roomId: string }) => {
      if (e.roomId === roomId) early.push({ event, payload: e } as EarlyEvent);
    }) as never),
  );
  return {
    early,
    stop: () => {
      for (const off of offs) off();
    },
  };
}

/** The other peers of a room, by peer id. */
export class RoomPeers {
  readonly byId = new Map<string, RemotePeer>();
  /** Peers announced by events since the last join answer (a rejoin's snapshot may predate them). */
  readonly #announced = new Set<string>();
  readonly #emitter: TypedEmitter<RoomEvents>;
  readonly #self: () => string;

  constructor(emitter: TypedEmitter<RoomEvents>, self: () => string) {
    this.#emitter = emitter;
    this.#self = self;
  }

  /** The peers of a join answer. */
  add(peers: PeerInfo[]): void {
    for (const p of peers) {
      if (p.peerId === this.#self()) continue;
      const known = this.byId.has(p.peerId);
      this.byId.set(p.peerId, { ...p });
      if (!known) this.#emitter.safeEmit('peerJoined', { ...p });
    }
  }

  /** `room:peerJoined`. */
  joined(peer: PeerInfo): void {
    if (peer.peerId === this.#self()) return;
    const known = this.byId.has(peer.peerId);
    this.byId.set(peer.peerId, { ...peer });
    this.#announced.add(peer.peerId);
    if (!known) this.#emitter.safeEmit('peerJoined', { ...peer });
  }

  /** `room:peerLeft`: whether the peer was known. */
  left(peerId: string): boolean {
    this.#announced.delete(peerId);
    return this.byId.delete(peerId);
  }

  /** A join request starts: what events announce from now on is newer than its answer. */
  clearAnnounced(): void {
    this.#announced.clear();
  }

  /** After a rejoin: drop the peers the answer lacks (unless announced since), add the new ones. */
  reconcile(peers: PeerInfo[]): void {
    const now = new Set(peers.map((p) => p.peerId));
    for (const id of [...this.byId.keys()]) {
      if (now.has(id) || this.#announced.has(id)) continue;
      this.byId.delete(id);
      this.#emitter.safeEmit('peerLeft', { peerId: id, reason: 'reconnect' });
    }
    this.add(peers);
  }
}
