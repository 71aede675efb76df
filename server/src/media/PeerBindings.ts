/**
 * Which connection holds which peer: every peer of this node's rooms with its person, its
 * connection (the last one while disconnected), its channel and its grace timer, and the
 * connection → room → peer index. No SFU calls and no events: MediaService decides, this keeps
 * the books. Everything is a `Map`, so ids such as `__proto__` find nothing.
 */
import type { RoomGrant } from '@moim/protocol';
import type { Peer } from '@moim/sfu';
import type { MediaChannel } from './joinAnswer.ts';

export interface PeerState {
  roomId: string;
  peer: Peer;
  sub: string;
  org: string;
  /** `personKey(org, sub)`: a `sub` is only unique inside its organisation. */
  key: string;
  /** The connection the peer belongs to (the last one, while disconnected). */
  connectionId: string;
  channel: MediaChannel | undefined;
  grace: NodeJS.Timeout | undefined;
  /** Grants the server gave this peer in its room on top of its token's (MediaServiceOptions.roomAccess). */
  given?: readonly RoomGrant[];
}

export class PeerBindings {
  readonly #peers = new Map<string, PeerState>();
  readonly #byConn = new Map<string, Map<string, string>>();

  get size(): number {
    return this.#peers.size;
  }

  get(peerId: string): PeerState | undefined {
    return this.#peers.get(peerId);
  }

  all(): IterableIterator<PeerState> {
    return this.#peers.values();
  }

  /** The peer `connectionId` has in `roomId`. */
  of(connectionId: string, roomId: string): PeerState | undefined {
    const peerId = this.#byConn.get(connectionId)?.get(roomId);
    return peerId ? this.#peers.get(peerId) : undefined;
  }

  /** Room id → peer id of the connection's peers. */
  roomsOf(connectionId: string): ReadonlyMap<string, string> | undefined {
    return this.#byConn.get(connectionId);
  }

  /** A new peer, bound to its connection. */
  add(state: PeerState): void {
    this.#peers.set(state.peer.id, state);
    this.bind(state.connectionId, state.roomId, state.peer.id);
  }

  bind(connectionId: string, roomId: string, peerId: string): void {
    let rooms = this.#byConn.get(connectionId);
    if (!rooms) {
      rooms = new Map();
      this.#byConn.set(connectionId, rooms);
    }
    rooms.set(roomId, peerId);
  }

  unbind(connectionId: string, roomId: string): void {
    this.#byConn.get(connectionId)?.delete(roomId);
  }

  /** Forget the connection's index (its socket is gone; the peers stay for the grace period). */
  forgetConnection(connectionId: string): void {
    this.#byConn.delete(connectionId);
  }

  clearGraceTimers(): void {
    for (const state of this.#peers.values()) if (state.grace) clearTimeout(state.grace);
  }

  /** Forget a peer that left its room. Returns false if it was already forgotten. */
  drop(state: PeerState): boolean {
    if (this.#peers.get(state.peer.id) !== state) return false;
    if (state.grace) clearTimeout(state.grace);
    state.grace = undefined;
    this.#peers.delete(state.peer.id);
    const rooms = this.#byConn.get(state.connectionId);
    if (rooms?.get(state.roomId) === state.peer.id) rooms.delete(state.roomId);
    if (rooms?.size === 0) this.#byConn.delete(state.connectionId);
    return true;
  }
}
