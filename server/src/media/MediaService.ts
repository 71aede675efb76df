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
  TypedEmitter,
} from '@moim/protocol';
import { iceServersFor, MediaRoom, type Peer, type PeerSignal, type TurnOptions, type WorkerPool } from '@moim/sfu';
import type { RtpCapabilities, RtpParameters } from 'mediasoup/types';
import { Counter, Gauge } from 'prom-client';
import { type Principal, personKey } from '../auth/Principal.ts';
import type { Metrics } from '../http/Metrics.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore, RoomRecord, RoomStore } from '../storage/index.ts';

/** How the service reaches one peer's client (the gateway builds it from the socket). */
export interface MediaChannel {
  readonly connectionId: string;
  /**
   * The connection's principal now (a token refresh replaces it while a join awaits): a join that
   * finishes after a refresh is checked again with it.
   */
  principal(): Principal;
  emit(signal: PeerSignal): void;
  /** Send `media:newConsumer` and resolve once the client acknowledges it. */
  newConsumer(payload: ConsumerInfo & { roomId: string }, timeoutMs: number): Promise<void>;
}

export interface MediaServiceEvents {
  /** A person's connection entered a meeting (presence shows "in a meeting"). */
  memberJoined: (roomId: string, sub: string, connectionId: string) => void;
  /** …and left it (each memberJoined is followed by exactly one memberLeft for that connection). */
  memberLeft: (roomId: string, sub: string, connectionId: string) => void;
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
}

interface PeerState {
  roomId: string;
  peer: Peer;
  sub: string;
  /** `personKey(org, sub)`: a `sub` is only unique inside its organisation. */
  key: string;
  /** The connection the peer belongs to (the last one, while disconnected). */
  connId: string;
  channel: MediaChannel | undefined;
  grace: NodeJS.Timeout | undefined;
}

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
  readonly #opts: MediaServiceOptions;
  readonly #log: Logger;
  readonly #live = new Map<string, MediaRoom>();
  readonly #opening = new Map<string, Promise<MediaRoom>>();
  readonly #peers = new Map<string, PeerState>();
  readonly #byConn = new Map<string, Map<string, string>>();
  /** `connectionId roomId` of joins in progress (a connection joins a room once). */
  readonly #joining = new Set<string>();
  readonly #deaths: Counter | undefined;
  #closed = false;

  constructor(opts: MediaServiceOptions) {
    super();
    this.#opts = opts;
    this.pool = opts.pool;
    this.#log = opts.log;
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'media listener failed');
    if (opts.metrics) this.#deaths = this.#registerMetrics(opts.metrics);
    this.pool.on('workerDied', () => this.#deaths?.inc());
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

  async createRoom(caller: Principal, data: Data<'room:create'>): Promise<RoomRecordInfo> {
    caller.requireCreateRoom(data.tier);
    const id = randomUUID();
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

  async roomInfo(caller: Principal, { roomId }: Data<'room:info'>): Promise<MediaResponses['room:info']> {
    caller.requireRoom(roomId, 'join');
    const record = await this.#record(caller, roomId);
    const live = this.#live.get(roomId);
    return { ...recordInfo(record), peers: live ? live.peers().map((p) => p.info()) : [] };
  }

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

  async #join(caller: Principal, channel: MediaChannel, data: Data<'room:join'>): Promise<JoinResponse> {
    const { roomId } = data;
    caller.requireRoom(roomId, 'join');
    const record = await this.#record(caller, roomId);
    if (record.closedAt !== null) throw new MoimError('ROOM_CLOSED', 'this room was closed');
    if (await this.#opts.rooms.isBanned(roomId, caller.sub))
      throw new MoimError('PEER_REMOVED', 'you were removed from this room');
    if (this.#byConn.get(channel.connectionId)?.has(roomId))
      throw new MoimError('CONFLICT', 'this connection is already in the room');

    const resumed = data.resume ? this.#resume(caller, channel, roomId, data.resume.peerId) : undefined;
    if (resumed) return this.#joinResponse(record, resumed.room, resumed.state, true);

    const room = await this.#liveRoom(record);
    const peer = room.addPeer({ sub: caller.sub, displayName: data.displayName ?? caller.name });
    const state: PeerState = {
      roomId,
      peer,
      sub: caller.sub,
      key: caller.key,
      connId: channel.connectionId,
      channel,
      grace: undefined,
    };
    this.#peers.set(peer.id, state);
    this.#bind(channel.connectionId, roomId, peer.id);
    peer.on('signal', (signal) => state.channel?.emit(signal));
    peer.on('newConsumer', (info) => this.#sendConsumer(room, state, info));
    this.safeEmit('memberJoined', roomId, caller.sub, channel.connectionId);
    return this.#joinResponse(record, room, state, false);
  }

  async leave(caller: Principal, connId: string, { roomId }: Data<'room:leave'>): Promise<{ left: boolean }> {
    const peerId = this.#byConn.get(connId)?.get(roomId);
    const state = peerId ? this.#peers.get(peerId) : undefined;
    if (!state || state.key !== caller.key) return { left: false };
    this.#live.get(roomId)?.removePeer(state.peer.id, 'left');
    this.#drop(state);
    return { left: true };
  }

  async raiseHand(caller: Principal, connId: string, data: Data<'room:raiseHand'>): Promise<{ raised: boolean }> {
    const { room, peer } = this.#ctx(caller, connId, data.roomId, []);
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
  reauthorize(connId: string, next: Principal): string[] {
    const rooms = this.#byConn.get(connId);
    if (!rooms) return [];
    const left: string[] = [];
    for (const peerId of [...rooms.values()]) {
      const state = this.#peers.get(peerId);
      if (!state) continue;
      if (!this.#allows(next, state)) {
        this.#revoke(state, 'removed');
        left.push(state.roomId);
        continue;
      }
      const room = this.#live.get(state.roomId);
      if (!room || room.closed) continue;
      const { peer, roomId } = state;
      if (!next.hasRoom(roomId, 'publish') && peer.producers.size > 0) {
        const producers = room.stopPublishing(peer);
        this.#log.info({ room: roomId, peer: peer.id, producers }, 'publish withdrawn by a token refresh');
      }
      if (!next.hasRoom(roomId, 'subscribe') && (peer.consumers.size > 0 || peer.rtpCapabilities)) {
        const consumers = room.stopSubscribing(peer);
        this.#log.info(
          { room: roomId, peer: peer.id, consumers: consumers.length },
          'subscribe withdrawn by a token refresh',
        );
      }
    }
    return left;
  }

  /** The socket of `connId` is gone: keep its peers for the grace period. */
  connectionClosed(connId: string): void {
    const rooms = this.#byConn.get(connId);
    if (!rooms) return;
    this.#byConn.delete(connId);
    for (const [roomId, peerId] of rooms) {
      const state = this.#peers.get(peerId);
      const room = this.#live.get(roomId);
      if (!state || !room) continue;
      state.channel = undefined;
      state.peer.connected = false;
      if (this.#opts.peerGraceMs === 0) {
        room.removePeer(peerId, 'timeout');
        continue;
      }
      room.announcePeer(state.peer);
      state.grace = setTimeout(() => {
        state.grace = undefined;
        this.#live.get(roomId)?.removePeer(peerId, 'timeout');
      }, this.#opts.peerGraceMs);
      state.grace.unref?.();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Media

  async createTransport(caller: Principal, connId: string, d: Data<'media:createTransport'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, [d.direction === 'send' ? 'publish' : 'subscribe']);
    return room.createTransport(peer, {
      direction: d.direction,
      kind: d.kind,
      forceTcp: d.forceTcp,
      srtp: d.srtp,
      srtpCryptoSuite: d.srtpCryptoSuite,
    });
  }

  async connectTransport(caller: Principal, connId: string, d: Data<'media:connectTransport'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, []);
    this.#requireDirection(caller, d.roomId, peer.transport(d.transportId).direction);
    await room.connectTransport(peer, d.transportId, d);
    return { connected: true };
  }

  async restartIce(caller: Principal, connId: string, d: Data<'media:restartIce'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, []);
    this.#requireDirection(caller, d.roomId, peer.transport(d.transportId).direction);
    return { iceParameters: await room.restartIce(peer, d.transportId) };
  }

  async setCapabilities(caller: Principal, connId: string, d: Data<'media:setCapabilities'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['subscribe']);
    return { consumers: await room.setCapabilities(peer, d.rtpCapabilities as RtpCapabilities) };
  }

  async produce(caller: Principal, connId: string, d: Data<'media:produce'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['publish']);
    const producerId = await room.produce(peer, {
      transportId: d.transportId,
      kind: d.kind,
      rtpParameters: d.rtpParameters as RtpParameters,
      source: d.source,
      index: d.index,
      paused: d.paused,
    });
    return { producerId };
  }

  async closeProducer(caller: Principal, connId: string, d: Data<'media:closeProducer'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['publish']);
    room.closeProducer(peer, d.producerId);
    return { closed: true };
  }

  async setProducerPaused(caller: Principal, connId: string, d: Data<'media:pauseProducer'>, paused: boolean) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['publish']);
    await room.setProducerPaused(peer, d.producerId, paused);
    return { paused };
  }

  async consume(caller: Principal, connId: string, d: Data<'media:consume'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['subscribe']);
    return room.consume(peer, d.producerId);
  }

  async closeConsumer(caller: Principal, connId: string, d: Data<'media:closeConsumer'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['subscribe']);
    room.closeConsumer(peer, d.consumerId);
    return { closed: true };
  }

  async setConsumerPaused(caller: Principal, connId: string, d: Data<'media:pauseConsumer'>, paused: boolean) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['subscribe']);
    await room.setConsumerPaused(peer, d.consumerId, paused);
    return { paused };
  }

  async setPreferredLayers(caller: Principal, connId: string, d: Data<'media:setPreferredLayers'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['subscribe']);
    return room.setPreferredLayers(peer, d.consumerId, d);
  }

  async setPriority(caller: Principal, connId: string, d: Data<'media:setPriority'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['subscribe']);
    return { priority: await room.setPriority(peer, d.consumerId, d.priority) };
  }

  async requestKeyFrame(caller: Principal, connId: string, d: Data<'media:requestKeyFrame'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, ['subscribe']);
    await room.requestKeyFrame(peer, d.consumerId);
    return { requested: true };
  }

  async getStats(caller: Principal, connId: string, d: Data<'media:getStats'>) {
    const { room, peer } = this.#ctx(caller, connId, d.roomId, []);
    return { stats: await room.getStats(peer, d.type, d.id) };
  }

  // -------------------------------------------------------------------------------------------
  // Moderation (the `moderate` grant, or the room's owner)

  async mutePeer(caller: Principal, d: Data<'room:mutePeer'>) {
    const room = await this.#moderated(caller, d.roomId);
    const paused = await room.mutePeer(d.peerId, d.producerId);
    await this.#audit(caller, 'room.mute-peer', d.roomId, { peerId: d.peerId, paused });
    return { paused };
  }

  async stopVideo(caller: Principal, d: Data<'room:stopVideo'>) {
    const room = await this.#moderated(caller, d.roomId);
    const closed = room.stopVideo(d.peerId, d.producerId);
    await this.#audit(caller, 'room.stop-video', d.roomId, { peerId: d.peerId, closed });
    return { closed };
  }

  async removePeer(caller: Principal, d: Data<'room:removePeer'>) {
    const room = await this.#moderated(caller, d.roomId);
    const peer = room.peer(d.peerId);
    if (this.#peers.get(peer.id)?.key === caller.key) throw new MoimError('INVALID_PAYLOAD', 'use room:leave to leave');
    await this.#opts.rooms.ban(d.roomId, peer.sub, caller.sub, Date.now());
    room.removePeer(peer.id, 'removed', d.reason);
    await this.#audit(caller, 'room.remove-peer', d.roomId, { sub: peer.sub, reason: d.reason ?? null });
    return { removed: true };
  }

  async closeRoom(caller: Principal, { roomId }: Data<'room:close'>) {
    caller.requireRoom(roomId, 'join');
    const record = await this.#record(caller, roomId);
    this.#requireModerator(caller, record);
    const closed = await this.#opts.rooms.close(roomId, Date.now());
    this.#live.get(roomId)?.close('ROOM_CLOSED');
    await this.#audit(caller, 'room.close', roomId, {});
    return { closed };
  }

  /** Close every room (peers get `room:closed` with UNAVAILABLE) and the worker pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const state of this.#peers.values()) if (state.grace) clearTimeout(state.grace);
    for (const room of [...this.#live.values()]) room.close('UNAVAILABLE');
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
    return principal.key === state.key && principal.hasRoom(state.roomId, 'join');
  }

  /**
   * A join that awaited while its connection's token was refreshed: if the refreshed token does
   * not allow the room, the new peer leaves again and the join is refused (the refresh's own
   * check ran before the peer existed).
   */
  #recheckJoin(caller: Principal, channel: MediaChannel, peerId: string): void {
    const now = channel.principal();
    if (now === caller) return;
    const state = this.#peers.get(peerId);
    if (!state || state.connId !== channel.connectionId || this.#allows(now, state)) return;
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
      { room: state.roomId, peer: state.peer.id, conn: state.connId },
      'peer left: token no longer allows the room',
    );
  }

  /** Check grants (every request) and find the caller's peer in the room. */
  #ctx(caller: Principal, connId: string, roomId: string, grants: RoomGrant[]): { room: MediaRoom; peer: Peer } {
    caller.requireRoom(roomId, 'join');
    for (const g of grants) caller.requireRoom(roomId, g);
    const peerId = this.#byConn.get(connId)?.get(roomId);
    const state = peerId ? this.#peers.get(peerId) : undefined;
    const room = this.#live.get(roomId);
    if (!state || !room || room.closed || state.key !== caller.key)
      throw new MoimError('NOT_IN_ROOM', 'join the room first');
    return { room, peer: state.peer };
  }

  #requireDirection(caller: Principal, roomId: string, direction: 'send' | 'recv'): void {
    caller.requireRoom(roomId, direction === 'send' ? 'publish' : 'subscribe');
  }

  #requireModerator(caller: Principal, record: RoomRecord): void {
    // #record found the room in the caller's org, so the owner's sub names one person there
    if (!caller.hasRoom(record.id, 'moderate') && personKey(record.org, record.ownerSub) !== caller.key)
      throw new MoimError('FORBIDDEN', 'moderating this room needs the moderate grant');
  }

  async #moderated(caller: Principal, roomId: string): Promise<MediaRoom> {
    caller.requireRoom(roomId, 'join');
    const record = await this.#record(caller, roomId);
    this.#requireModerator(caller, record);
    const room = this.#live.get(roomId);
    if (!room || room.closed) throw new MoimError('NOT_FOUND', 'nobody is in this room');
    return room;
  }

  async #audit(caller: Principal, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    const entry = { actor: caller.sub, action, target, detail: { ...detail, org: caller.token.org } };
    await this.#opts.audit.append(entry).catch((err: unknown) => {
      this.#log.error({ err, action }, 'audit append failed');
    });
  }

  #bind(connId: string, roomId: string, peerId: string): void {
    let rooms = this.#byConn.get(connId);
    if (!rooms) {
      rooms = new Map();
      this.#byConn.set(connId, rooms);
    }
    rooms.set(roomId, peerId);
  }

  /** Resume a peer kept for the grace period (or still bound to an older socket of the same person). */
  #resume(
    caller: Principal,
    channel: MediaChannel,
    roomId: string,
    peerId: string,
  ): { room: MediaRoom; state: PeerState } | undefined {
    const state = this.#peers.get(peerId);
    const room = this.#live.get(roomId);
    if (!state || !room || room.closed || state.roomId !== roomId || state.key !== caller.key) return undefined;
    if (state.grace) clearTimeout(state.grace);
    state.grace = undefined;
    const oldConn = state.connId;
    this.#byConn.get(oldConn)?.delete(roomId);
    this.safeEmit('memberLeft', roomId, state.sub, oldConn);
    state.connId = channel.connectionId;
    state.channel = channel;
    this.#bind(channel.connectionId, roomId, peerId);
    if (!state.peer.connected) {
      state.peer.connected = true;
      room.announcePeer(state.peer);
    }
    this.safeEmit('memberJoined', roomId, state.sub, channel.connectionId);
    this.#log.info({ room: roomId, peer: peerId }, 'peer resumed');
    return { room, state };
  }

  /** Forget a peer that left the room (any reason). Idempotent. */
  #drop(state: PeerState): void {
    if (this.#peers.get(state.peer.id) !== state) return;
    if (state.grace) clearTimeout(state.grace);
    state.grace = undefined;
    this.#peers.delete(state.peer.id);
    const rooms = this.#byConn.get(state.connId);
    if (rooms?.get(state.roomId) === state.peer.id) rooms.delete(state.roomId);
    if (rooms?.size === 0) this.#byConn.delete(state.connId);
    this.safeEmit('memberLeft', state.roomId, state.sub, state.connId);
  }

  async #liveRoom(record: RoomRecord): Promise<MediaRoom> {
    const live = this.#live.get(record.id);
    if (live && !live.closed) return live;
    let opening = this.#opening.get(record.id);
    if (!opening) {
      opening = MediaRoom.create({
        id: record.id,
        tier: record.tier,
        pool: this.pool,
        log: this.#log,
        consumersPerRouter: this.#opts.consumersPerRouter,
        allowPlainTransports: this.#opts.allowPlainTransports,
      }).then((room) => {
        this.#live.set(record.id, room);
        room.on('peerLeft', (peer) => {
          const state = this.#peers.get(peer.id);
          if (state) this.#drop(state);
        });
        room.on('close', (reason: RoomCloseReason) => {
          if (this.#live.get(record.id) === room) this.#live.delete(record.id);
          this.#log.info({ room: record.id, reason }, 'live room closed');
        });
        return room;
      });
      this.#opening.set(record.id, opening);
      // a failure reaches every awaiting joiner (and is logged below); this only forgets the attempt
      const forget = () => this.#opening.delete(record.id);
      opening.then(forget, forget);
    }
    try {
      return await opening;
    } catch (err) {
      this.#log.error({ err, room: record.id }, 'could not open media room');
      throw new MoimError('UNAVAILABLE', 'no media worker could host this room', { cause: err });
    }
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
    const p = room.profile;
    const peers: PeerInfo[] = room
      .peers()
      .filter((x) => x !== state.peer)
      .map((x) => x.info());
    return {
      room: recordInfo(record),
      peerId: state.peer.id,
      resumed,
      routerRtpCapabilities: room.rtpCapabilities,
      iceServers: iceServersFor(state.sub, this.#opts.turn),
      profile: {
        maxVideo: p.maxVideo,
        cameraEncodings: p.cameraEncodings,
        screenEncodings: p.screenEncodings,
        stereoAudio: p.stereoAudio,
        maxProducersPerSource: p.maxProducersPerSource,
        defaultPreferredLayers: p.defaultPreferredLayers,
      },
      peers,
      ...(resumed
        ? {
            transports: state.peer.transportInfos(),
            producers: state.peer.producerInfos(),
            consumers: state.peer.consumerInfos(),
          }
        : {}),
    };
  }

  #registerMetrics(metrics: Metrics): Counter {
    const registers = [metrics.registry];
    const pool = this.pool;
    const liveRooms = () => this.#live.size;
    const livePeers = () => this.#peers.size;
    new Gauge({
      name: 'moim_sfu_rooms',
      help: 'Live media rooms on this node',
      registers,
      collect() {
        this.set(liveRooms());
      },
    });
    new Gauge({
      name: 'moim_sfu_peers',
      help: 'Media peers on this node',
      registers,
      collect() {
        this.set(livePeers());
      },
    });
    new Gauge({
      name: 'moim_sfu_workers',
      help: 'Live mediasoup workers',
      registers,
      collect() {
        this.set(pool.workers().length);
      },
    });
    new Gauge({
      name: 'moim_sfu_worker_consumers',
      help: 'Consumers open on each mediasoup worker',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const w of pool.workers()) this.set({ worker: String(w.index) }, w.consumers);
      },
    });
    const rss = new Gauge({
      name: 'moim_sfu_worker_max_rss_bytes',
      help: 'Peak resident memory of each mediasoup worker (getResourceUsage)',
      labelNames: ['worker'],
      registers,
    });
    new Gauge({
      name: 'moim_sfu_worker_cpu_seconds',
      help: 'CPU time used by each mediasoup worker (getResourceUsage)',
      labelNames: ['worker', 'mode'],
      registers,
      async collect() {
        this.reset();
        rss.reset();
        for (const { index, usage } of await pool.resourceUsage()) {
          this.set({ worker: String(index), mode: 'user' }, usage.ru_utime / 1000);
          this.set({ worker: String(index), mode: 'system' }, usage.ru_stime / 1000);
          rss.set({ worker: String(index) }, usage.ru_maxrss * 1024);
        }
      },
    });
    return new Counter({
      name: 'moim_sfu_worker_deaths_total',
      help: 'mediasoup workers that died (each is replaced)',
      registers,
    });
  }
}

const REVOKED_MESSAGE = 'your access to this room was withdrawn';

function recordInfo(r: RoomRecord): RoomRecordInfo {
  return { roomId: r.id, tier: r.tier, name: r.name, ownerSub: r.ownerSub, docName: r.docName, createdAt: r.createdAt };
}

/**
 * A joining peer's channel that holds the room's events until its join answer has gone out, so a
 * client never hears of a room (a simultaneous joiner's `room:peerJoined`, a consumer) before it
 * has joined it. The gateway acknowledges from the continuation of `join()`, in microtasks that
 * run before any `setImmediate`; the held events follow in their order right after.
 */
function holdUntilAnswered(channel: MediaChannel): { channel: MediaChannel; release: () => void } {
  let held: PeerSignal[] | undefined = [];
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    channel: {
      connectionId: channel.connectionId,
      principal: () => channel.principal(),
      emit: (signal) => {
        if (held) held.push(signal);
        else channel.emit(signal);
      },
      newConsumer: async (payload, timeoutMs) => {
        await opened;
        return channel.newConsumer(payload, timeoutMs);
      },
    },
    release: () =>
      setImmediate(() => {
        const signals = held ?? [];
        held = undefined;
        for (const signal of signals) channel.emit(signal);
        open();
      }),
  };
}
