/**
 * Owns: room records and their lifecycle, joins and leaves (with the grace period after a socket
 * drops) and reauthorization on a token refresh. Elsewhere: media signalling MediaSignalling.ts,
 * moderation Moderation.ts, the running SFU rooms LiveRooms.ts, which connection holds which peer
 * PeerBindings.ts, the join answer joinAnswer.ts, metrics mediaMetrics.ts, and the one mapping of
 * the SFU's errors to wire codes lib/wireErrors.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  type ConsumerInfo,
  type JoinResponse,
  type MediaResponses,
  MoimError,
  type PeerInfo,
  type RequestData,
  type RoomCloseReason,
  type RoomGrant,
  type RoomRecordInfo,
  SYSTEM_SUB,
  TypedEmitter,
} from '@moim/protocol';
import { iceServersFor, type MediaRoom, type Peer, type TurnOptions, type WorkerPool } from '@moim/sfu';
import type { Counter } from 'prom-client';
import { type Principal, personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { AuditStore, RoomRecord, RoomStore } from '../storage/index.ts';
import { IdleRooms } from './IdleRooms.ts';
import { holdUntilAnswered, joinResponse, type MediaChannel, recordInfo } from './joinAnswer.ts';
import { LiveRooms } from './LiveRooms.ts';
import { MediaSignalling } from './MediaSignalling.ts';
import { MediaModeration } from './Moderation.ts';
import { registerMediaMetrics } from './mediaMetrics.ts';
import { PeerBindings, type PeerState } from './PeerBindings.ts';

export type { MediaChannel } from './joinAnswer.ts';

export interface MediaServiceEvents {
  /** A person's connection entered a meeting (presence shows "in a meeting"); `org`: the person's. */
  memberJoined: (roomId: string, sub: string, connectionId: string, org: string) => void;
  /**
   * …and left it (each memberJoined is followed by exactly one memberLeft for that connection).
   * `rejoining`: not by choice — the room closed under them with WORKER_DIED (a worker died, or
   * the node is fenced or draining), on which clients join again at once.
   */
  memberLeft: (roomId: string, sub: string, connectionId: string, org: string, rejoining: boolean) => void;
  /** The live room closed on this node (cluster: the room's home is released); `reason` as its peers were told. */
  roomClosed: (roomId: string, reason: RoomCloseReason) => void;
}

export interface MediaServiceOptions {
  pool: WorkerPool;
  rooms: RoomStore;
  audit: AuditStore;
  log: Logger;
  metrics?: Metrics;
  /** How long a peer whose socket dropped is kept for a resume. */
  peerGraceMs: number;
  consumersPerRouter: number;
  allowPlainTransports: boolean;
  turn: TurnOptions;
  /** How long to wait for a client's `media:newConsumer` acknowledgement. @default 10000 */
  consumerAckTimeoutMs?: number;
  /** How long a room left empty stays open before its record is closed (IdleRooms.ts). @default 0 (forever) */
  roomIdleCloseMs?: number;
}

/**
 * A service deciding who may do what in rooms of its own, whatever their token's room grants
 * say (calls: the call's people in its `call-…` room, nobody else): the caller's grants in
 * `roomId` (`[]`: none), or undefined for a room that is not the service's (the token decides).
 */
export type RoomAccess = (caller: Principal, roomId: string) => Promise<readonly RoomGrant[] | undefined>;

type Data<N extends keyof MediaResponses> = RequestData<N>;

/**
 * Video rooms as the gateway sees them: an async service addressed by room id. It keeps the
 * room records (RoomStore), checks the caller's grants on every request, binds peers to
 * connections (with a grace period after a socket drops), and drives the SFU's MediaRooms.
 *
 * Every room belongs to one organisation: a room of another org is NOT_FOUND to the caller
 * whatever their grants name (a grant never crosses orgs), and a token refresh
 * (`reauthorize`) leaves the rooms the new token no longer allows. Everything keyed by a room,
 * peer or media id is a `Map`, so ids such as `__proto__` or `constructor` find nothing.
 */
export class MediaService extends TypedEmitter<MediaServiceEvents> {
  readonly pool: WorkerPool;
  /** Transports, producers and consumers of joined peers (the `media:*` requests). */
  readonly signalling: MediaSignalling;
  /** Mute, stop video, remove, close (the `room:*` moderation requests). */
  readonly moderation: MediaModeration;
  readonly #opts: MediaServiceOptions;
  readonly #log: Logger;
  readonly #live: LiveRooms;
  readonly #bindings = new PeerBindings();
  /** `connectionId roomId` of joins in progress (a connection joins a room once). */
  readonly #joining = new Set<string>();
  readonly #idle: IdleRooms;
  readonly #deaths: Counter | undefined;
  readonly #access: RoomAccess[] = [];
  #closed = false;

  constructor(opts: MediaServiceOptions) {
    super();
    this.#opts = opts;
    this.pool = opts.pool;
    this.#log = opts.log;
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'media listener failed');
    this.#live = new LiveRooms({
      log: this.#log,
      room: {
        pool: this.pool,
        consumersPerRouter: opts.consumersPerRouter,
        allowPlainTransports: opts.allowPlainTransports,
      },
      onPeerLeft: (peer, closing) => {
        const state = this.#bindings.get(peer.id);
        if (state) this.#drop(state, closing === 'WORKER_DIED');
      },
      onRoomClosed: (roomId, reason) => {
        // the last person left (a moderator's close already closed the record: then nothing happens)
        if (reason === 'ROOM_CLOSED') this.#idle.emptied(roomId);
        this.safeEmit('roomClosed', roomId, reason);
      },
    });
    this.#idle = new IdleRooms({
      rooms: opts.rooms,
      audit: opts.audit,
      log: opts.log,
      idleMs: opts.roomIdleCloseMs ?? 0,
    });
    this.signalling = new MediaSignalling(
      (caller, connectionId, roomId, grants) => this.#ctx(caller, connectionId, roomId, grants),
      (org, sub) => iceServersFor(turnUser(org, sub), opts.turn),
    );
    this.moderation = new MediaModeration({
      rooms: opts.rooms,
      audit: opts.audit,
      log: opts.log,
      record: (caller, roomId) => this.#record(caller, roomId),
      live: (roomId) => this.#live.get(roomId),
      keyOf: (peerId) => this.#bindings.get(peerId)?.key,
      granted: (caller, roomId) => this.#granted(caller, roomId),
    });
    if (opts.metrics)
      this.#deaths = registerMediaMetrics(opts.metrics, {
        pool: this.pool,
        rooms: () => this.#live.size,
        peers: () => this.#bindings.size,
      });
    this.pool.on('workerDied', () => this.#deaths?.inc());
  }

  /**
   * Let a service decide the grants in its own rooms (see RoomAccess), asked when people join,
   * ask about or moderate a room; a joined peer keeps what it was given. The room is still looked
   * up in the caller's organisation, its tier's rules still apply, and bans still hold.
   */
  giveRoomAccess(access: RoomAccess): void {
    this.#access.push(access);
  }

  /**
   * A service ends a room of its own (a call ended): its record is marked closed, so nobody
   * joins it again, and its live room on this node closes (peers get `room:closed`,
   * ROOM_CLOSED). False when the room does not exist in `org` or was closed already.
   */
  async endRoom(org: string, roomId: string, reason: string): Promise<boolean> {
    const record = await this.#opts.rooms.get(org, roomId);
    if (!record) return false;
    const closed = record.closedAt === null && (await this.#opts.rooms.close(roomId, Date.now()));
    this.#live.get(roomId)?.close('ROOM_CLOSED');
    if (closed) {
      await this.#opts.audit.append({
        actor: SYSTEM_SUB,
        action: 'room.close',
        target: roomId,
        detail: { org, reason },
      });
      this.#log.info({ room: roomId, org, reason }, 'room ended');
    }
    return closed;
  }

  /**
   * A service withdraws one person from a room of its own (they hung up a call, or were dropped
   * from it): their peers in the live room on this node leave it. Their client is told
   * (`room:removed` with `message`), the others see `room:peerLeft` with `removed`; no ban is
   * recorded (the service's RoomAccess keeps them out). How many peers left.
   */
  removePerson(org: string, roomId: string, sub: string, message: string): number {
    const room = this.#live.get(roomId);
    if (!room || room.closed) return 0;
    const key = personKey(org, sub);
    const gone = [...this.#bindings.all()].filter((s) => s.roomId === roomId && s.key === key);
    for (const state of gone) room.removePeer(state.peer.id, 'removed', message);
    if (gone.length > 0) this.#log.info({ room: roomId, org, sub, peers: gone.length }, 'person withdrawn from room');
    return gone.length;
  }

  /**
   * Whether the person has a peer in the live room on this node (connected, or within its grace
   * period after a dropped socket): a meeting invitation's inviter must be in the meeting.
   */
  hasPerson(org: string, sub: string, roomId: string): boolean {
    const room = this.#live.get(roomId);
    if (!room || room.closed) return false;
    const key = personKey(org, sub);
    for (const s of this.#bindings.all()) if (s.roomId === roomId && s.key === key) return true;
    return false;
  }

  get ready(): boolean {
    return !this.#closed && this.pool.workers().length > 0;
  }

  /** The live SFU room (tests and diagnostics). */
  liveRoom(roomId: string): MediaRoom | undefined {
    return this.#live.get(roomId);
  }

  // -------------------------------------------------------------------------------------------
  // Rooms

  /** `id`: a service's own room (calls make `call-<call id>` rooms, which presence shows as in a call); else a random one. */
  async createRoom(caller: Principal, data: Data<'room:create'>, id: string = randomUUID()): Promise<RoomRecordInfo> {
    caller.requireCreateRoom(data.tier);
    const org = caller.token.org;
    const record = await this.#opts.rooms.create({
      id,
      org,
      tier: data.tier,
      name: data.name ?? null,
      ownerSub: caller.sub,
      docName: data.docName ?? `room-${id}-notes`,
      createdAt: Date.now(),
    });
    await this.#opts.audit.append({
      actor: caller.sub,
      action: 'room.create',
      target: id,
      detail: { tier: data.tier, org },
    });
    this.#log.info({ room: id, org, tier: data.tier, owner: caller.sub }, 'room created');
    return recordInfo(record);
  }

  async roomInfo(asked: Principal, { roomId }: Data<'room:info'>): Promise<MediaResponses['room:info']> {
    const caller = await this.#granted(asked, roomId);
    caller.requireRoom(roomId, 'join');
    const record = await this.#record(caller, roomId);
    const live = this.#live.get(roomId);
    const peers = live ? live.peers().map((p) => p.info()) : ((await this.peersElsewhere?.(roomId)) ?? []);
    return { ...recordInfo(record), peers };
  }

  /** Cluster (cascade): the participants of a room served only by other nodes. */
  peersElsewhere: ((roomId: string) => Promise<PeerInfo[]>) | undefined;

  async join(caller: Principal, channel: MediaChannel, data: Data<'room:join'>): Promise<JoinResponse> {
    this.#assertOpen();
    const key = `${channel.connectionId} ${data.roomId}`;
    if (this.#joining.has(key)) throw new MoimError('CONFLICT', 'a join of this room is already in progress');
    this.#joining.add(key);
    const held = holdUntilAnswered(channel);
    try {
      const joined = await this.#join(caller, held.channel, data);
      this.#recheckJoin(caller, channel, joined.peerId);
      return joined;
    } finally {
      this.#joining.delete(key);
      held.release();
    }
  }

  async #join(asked: Principal, channel: MediaChannel, data: Data<'room:join'>): Promise<JoinResponse> {
    const { roomId } = data;
    const given = await this.#given(asked, roomId);
    const caller = given ? asked.withRoomGrants(roomId, given) : asked;
    caller.requireRoom(roomId, 'join');
    const record = await this.#record(caller, roomId);
    if (record.closedAt !== null) throw new MoimError('ROOM_CLOSED', 'this room was closed');
    if (await this.#opts.rooms.isBanned(roomId, caller.sub))
      throw new MoimError('PEER_REMOVED', 'you were removed from this room');
    if (this.#bindings.roomsOf(channel.connectionId)?.has(roomId))
      throw new MoimError('CONFLICT', 'this connection is already in the room');

    const resumed = data.resume ? this.#resume(caller, channel, roomId, data.resume.peerId) : undefined;
    if (resumed) {
      resumed.state.given = given;
      return this.#joinResponse(record, resumed.room, resumed.state, true);
    }

    const room = await this.#live.open(record);
    this.#idle.joined(record.id);
    const peer = room.addPeer({ sub: caller.sub, displayName: data.displayName ?? caller.name });
    const state: PeerState = {
      roomId,
      peer,
      sub: caller.sub,
      org: caller.token.org,
      key: caller.key,
      connectionId: channel.connectionId,
      channel,
      grace: undefined,
      given,
    };
    this.#bindings.add(state);
    peer.on('signal', (signal) => state.channel?.emit(signal));
    peer.on('newConsumer', (info) => this.#sendConsumer(room, state, info));
    this.safeEmit('memberJoined', roomId, caller.sub, channel.connectionId, caller.token.org);
    return this.#joinResponse(record, room, state, false);
  }

  async leave(caller: Principal, connectionId: string, { roomId }: Data<'room:leave'>): Promise<{ left: boolean }> {
    const state = this.#bindings.of(connectionId, roomId);
    if (!state || state.key !== caller.key) return { left: false };
    this.#live.get(roomId)?.removePeer(state.peer.id, 'left');
    this.#drop(state);
    return { left: true };
  }

  async raiseHand(caller: Principal, connectionId: string, data: Data<'room:raiseHand'>): Promise<{ raised: boolean }> {
    const { room, peer } = this.#ctx(caller, connectionId, data.roomId, []);
    room.setHandRaised(peer, data.raised);
    return { raised: data.raised };
  }

  /**
   * The connection's token was refreshed (`system:auth`, the gateway's `reauth`): leave at once
   * every room `next` no longer allows (another organisation, or no `join` grant for the room).
   * The peer closes; its client gets `room:removed`, the others `room:peerLeft`. In a room it
   * may stay in, a peer that lost `publish` has its producers closed (`media:producerClosed`,
   * `revoked`) and one that lost `subscribe` its consumers (`media:consumerClosed`). Synchronous,
   * so it is done before the refresh is answered. Returns the ids of the rooms left.
   */
  reauthorize(connectionId: string, next: Principal): string[] {
    const rooms = this.#bindings.roomsOf(connectionId);
    if (!rooms) return [];
    const left: string[] = [];
    for (const peerId of [...rooms.values()]) {
      const state = this.#bindings.get(peerId);
      if (!state) continue;
      if (!this.#allows(next, state)) {
        this.#revoke(state, 'removed');
        left.push(state.roomId);
        continue;
      }
      const room = this.#live.get(state.roomId);
      if (!room || room.closed) continue;
      const { peer, roomId } = state;
      const granted = withGiven(next, state);
      if (!granted.hasRoom(roomId, 'publish') && peer.producers.size > 0) {
        const producers = room.stopPublishing(peer);
        this.#log.info({ room: roomId, peer: peer.id, producers }, 'publish withdrawn by a token refresh');
      }
      if (!granted.hasRoom(roomId, 'subscribe') && (peer.consumers.size > 0 || peer.rtpCapabilities)) {
        const consumers = room.stopSubscribing(peer);
        this.#log.info(
          { room: roomId, peer: peer.id, consumers: consumers.length },
          'subscribe withdrawn by a token refresh',
        );
      }
    }
    return left;
  }

  /** The socket of `connectionId` is gone: keep its peers for the grace period. */
  connectionClosed(connectionId: string): void {
    const rooms = this.#bindings.roomsOf(connectionId);
    if (!rooms) return;
    this.#bindings.forgetConnection(connectionId);
    for (const [roomId, peerId] of rooms) {
      const state = this.#bindings.get(peerId);
      const room = this.#live.get(roomId);
      if (!state || !room) continue;
      state.channel = undefined;
      if (this.#opts.peerGraceMs === 0) {
        room.removePeer(peerId, 'timeout');
        continue;
      }
      room.setPeerConnected(state.peer, false);
      state.grace = setTimeout(() => {
        state.grace = undefined;
        this.#live.get(roomId)?.removePeer(peerId, 'timeout');
      }, this.#opts.peerGraceMs);
      state.grace.unref?.();
    }
  }

  /**
   * Close every live room of this node, the service staying open (cluster: a fenced or draining
   * node). Peers get `room:closed` with WORKER_DIED, on which clients join again (on a live node).
   */
  closeLiveRooms(): number {
    const rooms = this.#live.all();
    for (const room of rooms) room.close('WORKER_DIED');
    return rooms.length;
  }

  /** Close every room (peers get `room:closed` with UNAVAILABLE) and the worker pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bindings.clearGraceTimers();
    this.#idle.close();
    for (const room of this.#live.all()) room.close('UNAVAILABLE');
    this.pool.close();
    this.removeAllListeners();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  #assertOpen(): void {
    if (this.#closed) throw new MoimError('UNAVAILABLE', 'the media service is shutting down');
  }

  /** The caller's organisation's room `roomId`; another org's room is NOT_FOUND, as if it did not exist. */
  async #record(caller: Principal, roomId: string): Promise<RoomRecord> {
    const record = await this.#opts.rooms.get(caller.token.org, roomId);
    if (!record) throw new MoimError('NOT_FOUND', 'no such room');
    return record;
  }

  /** Whether `principal` may stay in the peer's room: the same person of the same org, still granted `join`. */
  #allows(principal: Principal, state: PeerState): boolean {
    return principal.key === state.key && withGiven(principal, state).hasRoom(state.roomId, 'join');
  }

  /**
   * A join that awaited while its connection's token was refreshed: if the refreshed token does
   * not allow the room, the new peer leaves again and the join is refused (the refresh's own
   * check ran before the peer existed).
   */
  #recheckJoin(caller: Principal, channel: MediaChannel, peerId: string): void {
    const now = channel.principal();
    if (now === caller) return;
    const state = this.#bindings.get(peerId);
    if (!state || state.connectionId !== channel.connectionId || this.#allows(now, state)) return;
    this.#revoke(state, 'left');
    throw new MoimError('FORBIDDEN', 'the refreshed token does not allow this room');
  }

  /**
   * Close a peer whose connection may no longer be in its room. `removed`: its client is told
   * (`room:removed`) and the others see `room:peerLeft` with `removed`; no ban is recorded.
   */
  #revoke(state: PeerState, reason: 'removed' | 'left'): void {
    const room = this.#live.get(state.roomId);
    if (room && !room.closed) room.removePeer(state.peer.id, reason, REVOKED_MESSAGE);
    this.#drop(state);
    this.#log.info(
      { room: state.roomId, peer: state.peer.id, conn: state.connectionId },
      'peer left: token no longer allows the room',
    );
  }

  /** Check grants (every request) and find the caller's peer in the room. */
  #ctx(
    asked: Principal,
    connectionId: string,
    roomId: string,
    grants: RoomGrant[],
  ): { room: MediaRoom; peer: Peer; caller: Principal } {
    const state = this.#bindings.of(connectionId, roomId);
    const caller = state && state.key === asked.key ? withGiven(asked, state) : asked;
    caller.requireRoom(roomId, 'join');
    for (const g of grants) caller.requireRoom(roomId, g);
    const room = this.#live.get(roomId);
    if (!state || !room || room.closed || state.key !== caller.key)
      throw new MoimError('NOT_IN_ROOM', 'join the room first');
    return { room, peer: state.peer, caller };
  }

  /** Grants the room's own service gives the caller there (MediaServiceOptions.roomAccess), if any. */
  async #given(caller: Principal, roomId: string): Promise<readonly RoomGrant[] | undefined> {
    for (const access of this.#access) {
      const given = await access(caller, roomId);
      if (given) return given;
    }
    return undefined;
  }

  /** The caller with the grants a service decides in `roomId` (its own rooms), else as it is. */
  async #granted(caller: Principal, roomId: string): Promise<Principal> {
    const given = await this.#given(caller, roomId);
    return given ? caller.withRoomGrants(roomId, given) : caller;
  }

  /** Resume a peer kept for the grace period (or still bound to an older socket of the same person). */
  #resume(
    caller: Principal,
    channel: MediaChannel,
    roomId: string,
    peerId: string,
  ): { room: MediaRoom; state: PeerState } | undefined {
    const state = this.#bindings.get(peerId);
    const room = this.#live.get(roomId);
    if (!state || !room || room.closed || state.roomId !== roomId || state.key !== caller.key) return undefined;
    if (state.grace) clearTimeout(state.grace);
    state.grace = undefined;
    const oldConn = state.connectionId;
    this.#bindings.unbind(oldConn, roomId);
    this.safeEmit('memberLeft', roomId, state.sub, oldConn, state.org, false);
    state.connectionId = channel.connectionId;
    state.channel = channel;
    this.#bindings.bind(channel.connectionId, roomId, peerId);
    room.setPeerConnected(state.peer, true);
    this.safeEmit('memberJoined', roomId, state.sub, channel.connectionId, state.org);
    this.#log.info({ room: roomId, peer: peerId }, 'peer resumed');
    return { room, state };
  }

  /** Forget a peer that left the room (any reason; `rejoining`: see memberLeft). Idempotent. */
  #drop(state: PeerState, rejoining = false): void {
    if (this.#bindings.drop(state))
      this.safeEmit('memberLeft', state.roomId, state.sub, state.connectionId, state.org, rejoining);
  }

  #sendConsumer(room: MediaRoom, state: PeerState, info: ConsumerInfo & { roomId: string }): void {
    const channel = state.channel;
    if (!channel) return; // disconnected: listed in the resume response instead
    channel
      .newConsumer(info, this.#opts.consumerAckTimeoutMs ?? 10_000)
      .then(async () => {
        if (!room.closed && state.peer.consumers.has(info.consumerId))
          await room.setConsumerPaused(state.peer, info.consumerId, false);
      })
      .catch((err: unknown) => {
        this.#log.debug({ err, consumer: info.consumerId }, 'consumer not acknowledged; left paused');
      });
  }

  #joinResponse(record: RoomRecord, room: MediaRoom, state: PeerState, resumed: boolean): JoinResponse {
    return joinResponse(record, room, state.peer, {
      resumed,
      iceServers: iceServersFor(turnUser(state.org, state.sub), this.#opts.turn),
    });
  }
}

const REVOKED_MESSAGE = 'your access to this room was withdrawn';

/** The principal with the grants the server gave its peer in the peer's room. */
function withGiven(principal: Principal, state: PeerState): Principal {
  return state.given ? principal.withRoomGrants(state.roomId, state.given) : principal;
}

/**
 * The person part of a TURN REST username (`<expiry>:<org>/<sub>`): coturn's per-person quota
 * counts by it, and a `sub` is only unique inside its organisation. Both parts percent-encoded,
 * so no two people share one.
 */
export function turnUser(org: string, sub: string): string {
  return `${encodeURIComponent(org)}/${encodeURIComponent(sub)}`;
}
