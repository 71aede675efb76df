/**
 * Owns one video room's lifecycle (open, close, a dead worker closes it), its peers and their
 * state changes (told to the other peers), and the order of its media calls (a lock, so limit
 * checks cannot race). The work is elsewhere: routers RouterSet.ts, transports transports.ts,
 * producers producing.ts with the tier checks of tierRules.ts, consumers Consumers.ts and
 * consumerControls.ts, speakers observers.ts, moderation and rights withdrawn withdraw.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  type ConsumerInfo,
  type MediaSource,
  type RoomCloseReason,
  type Tier,
  type TierProfile,
  type TransportInfo,
  TypedEmitter,
  tierProfile,
} from '@moim/protocol';
import type { Producer, Router, RtpCapabilities } from 'mediasoup/types';
import { Consumers } from './Consumers.ts';
import { adoptProducerEntry } from './cascade.ts';
import * as controls from './consumerControls.ts';
import { mediaCall, SfuError } from './errors.ts';
import type { SfuLogger } from './logging.ts';
import type { MediaRoomEvents, MediaRoomOptions, PeerLeftReason } from './MediaRoomTypes.ts';
import { createSpeakerObservers, observeAudio, reportSpeakers, type SpeakerObservers } from './observers.ts';
import { Peer, type PeerSignal, peerState, transportInfo } from './Peer.ts';
import { createProducer, type ProducerRequest } from './producing.ts';
import { createRoomRouter, RouterSet } from './RouterSet.ts';
import { assertAllowed, checkJoin } from './tierRules.ts';
import {
  addTransport,
  type ConnectParams,
  capIncomingBitrate,
  checkTransportRequest,
  connectTransport,
  openTransport,
  restartIce,
  type TransportRequest,
} from './transports.ts';
import { closeConsumers, closeProducers } from './withdraw.ts';

export type { MediaRoomEvents, MediaRoomOptions, PeerLeftReason } from './MediaRoomTypes.ts';

/**
 * A video room on the SFU: a router on the least-loaded worker (plus, when the room outgrows it,
 * routers on other workers fed through pipeToRouter), the peers, an ActiveSpeakerObserver and an
 * AudioLevelObserver. Every tier limit is enforced here with a stable error code. When any of
 * its workers dies the room closes with `WORKER_DIED`.
 */
export class MediaRoom extends TypedEmitter<MediaRoomEvents> {
  readonly id: string;
  readonly tier: Tier;
  readonly profile: TierProfile;
  readonly #opts: MediaRoomOptions;
  readonly #log: SfuLogger;
  readonly #peers = new Map<string, Peer>();
  readonly #routers: RouterSet;
  readonly #consumers: Consumers;
  readonly #observers: SpeakerObservers;
  /** Serialises produce/transport creation so limit checks cannot race. */
  #lock: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closeReason: RoomCloseReason | undefined;

  private constructor(
    opts: MediaRoomOptions,
    profile: TierProfile,
    primary: ConstructorParameters<typeof RouterSet>[1],
    observers: SpeakerObservers,
  ) {
    super();
    this.id = opts.id;
    this.tier = opts.tier;
    this.profile = profile;
    this.#opts = opts;
    this.#log = opts.log.child({ room: opts.id });
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'room listener failed');
    this.#routers = new RouterSet(
      {
        roomId: opts.id,
        profile,
        pool: opts.pool,
        log: this.#log,
        consumersPerRouter: opts.consumersPerRouter,
        isClosed: () => this.#closed,
        onWorkerDied: (worker) => {
          this.#log.error({ worker }, 'worker of this room died');
          this.close('WORKER_DIED');
        },
        onWorkerClosed: (worker) => {
          // a normal shutdown, not a failure: peers are told the server is unavailable, not to rejoin here
          this.#log.info({ worker }, 'worker of this room closed (shutting down)');
          this.close('UNAVAILABLE');
        },
      },
      primary,
    );
    this.#consumers = new Consumers({ roomId: opts.id, profile, routers: this.#routers, log: this.#log });
    this.#observers = observers;
    reportSpeakers(observers, this.id, (signal) => this.#broadcast(signal));
  }

  /** Create the room's router on the least-loaded worker. */
  static async create(opts: MediaRoomOptions): Promise<MediaRoom> {
    const profile = opts.profile ?? tierProfile(opts.tier);
    const slot = await opts.pool.pick();
    const router = await createRoomRouter(slot, opts.id, profile);
    try {
      const observers = await createSpeakerObservers(router, opts.audioLevelIntervalMs ?? 1000);
      const room = new MediaRoom(opts, profile, { router, slot }, observers);
      room.#log.info({ tier: opts.tier, worker: slot.index }, 'media room opened');
      return room;
    } catch (err) {
      router.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the room closed (set before its peers are let go: a `peerLeft` listener can tell why). */
  get closeReason(): RoomCloseReason | undefined {
    return this.#closeReason;
  }

  get rtpCapabilities(): RtpCapabilities {
    return this.#routers.primary.router.rtpCapabilities;
  }

  /** The router producers live on (cascade: pipe transports to other nodes go here; a recording consumes there). */
  get primaryRouter(): Router {
    return this.#routers.primary.router;
  }

  /** Routers serving this room (1 until it outgrows `consumersPerRouter`). */
  get routerCount(): number {
    return this.#routers.count;
  }

  /** Pool slots (worker indexes) this room uses. */
  get workerIndexes(): number[] {
    return this.#routers.workerIndexes;
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  peers(): Peer[] {
    return [...this.#peers.values()];
  }

  getPeer(peerId: string): Peer | undefined {
    return this.#peers.get(peerId);
  }

  peer(peerId: string): Peer {
    const p = this.#peers.get(peerId);
    if (!p) throw new SfuError('NOT_FOUND', 'no such peer in this room');
    return p;
  }

  /** Worker index of the router a transport of `peer` lives on. */
  workerIndexOfTransport(peer: Peer, transportId: string): number {
    const t = peer.transport(transportId);
    return this.#routers.entryOf(t.router)?.slot.index ?? -1;
  }

  // -------------------------------------------------------------------------------------------
  // Peers

  /** Add a peer; ROOM_FULL beyond the tier's `maxPeers`. */
  addPeer(init: { sub: string; displayName: string; id?: string }): Peer {
    this.#assertOpen();
    assertAllowed(checkJoin(this.profile, this.tier, this.#peers.size));
    const peer = new Peer({ id: init.id ?? randomUUID(), sub: init.sub, displayName: init.displayName });
    peer.onListenerError = (event, err) => this.#log.error({ err, event, peer: peer.id }, 'peer listener failed');
    this.#peers.set(peer.id, peer);
    this.#broadcast({ event: 'room:peerJoined', payload: { roomId: this.id, peer: peer.info() } }, peer.id);
    this.#log.info({ peer: peer.id, sub: peer.sub, peers: this.#peers.size }, 'peer joined');
    this.safeEmit('peerJoined', peer);
    return peer;
  }

  /** Remove a peer (closing its media). Idempotent. */
  removePeer(peerId: string, reason: Exclude<PeerLeftReason, 'closed'>, message?: string): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    if (reason === 'removed')
      peer.signal({ event: 'room:removed', payload: { roomId: this.id, reason: message ?? null } });
    this.#peers.delete(peerId);
    peer.close();
    this.#broadcast({ event: 'room:peerLeft', payload: { roomId: this.id, peerId, reason } });
    this.#log.info({ peer: peerId, reason, peers: this.#peers.size }, 'peer left');
    this.safeEmit('peerLeft', peer, reason);
  }

  setHandRaised(peer: Peer, raised: boolean): void {
    this.#assertPeer(peer);
    peerState(peer).handRaised = raised;
    this.#broadcast({ event: 'room:handRaised', payload: { roomId: this.id, peerId: peer.id, raised } });
  }

  /**
   * Mark a peer connected or not (its socket dropped: the grace period) and tell the other peers
   * (`room:peerJoined` with its new state) when it changed.
   */
  setPeerConnected(peer: Peer, connected: boolean): void {
    this.#assertPeer(peer);
    const state = peerState(peer);
    if (state.connected === connected) return;
    state.connected = connected;
    this.#broadcast({ event: 'room:peerJoined', payload: { roomId: this.id, peer: peer.info() } }, peer.id);
  }

  // -------------------------------------------------------------------------------------------
  // Transports

  async createTransport(peer: Peer, opts: TransportRequest): Promise<TransportInfo> {
    return this.#serial(async () => {
      this.#assertPeer(peer);
      checkTransportRequest(opts, {
        allowPlain: this.#opts.allowPlainTransports ?? false,
        max: this.#opts.maxTransportsPerPeer ?? 4,
        open: peer.transports.size,
      });
      // Producers live on the primary router; recv transports go where there is room for consumers.
      const entry = opts.direction === 'send' ? this.#routers.primary : await this.#routers.forConsumers();
      const appData = { roomId: this.id, peerId: peer.id, direction: opts.direction };
      const transport = await openTransport(entry, this.#opts.pool, opts, appData);
      if (peer.closed) {
        transport.close();
        throw new SfuError('NOT_IN_ROOM', 'the peer left');
      }
      if (opts.direction === 'send')
        await capIncomingBitrate(transport, this.profile.maxIncomingBitrate, {
          log: this.#log.child({ peer: peer.id }),
          // the room closing or the peer leaving meanwhile is why it failed
          stillThere: () => this.#assertPeer(peer),
        });
      const t = addTransport(peer, transport, opts, entry.router);
      if (opts.direction === 'recv') void this.#consumers.consumeAllFor(peer, this.#peers.values());
      return transportInfo(transport.id, t);
    });
  }

  async connectTransport(peer: Peer, transportId: string, params: ConnectParams): Promise<void> {
    this.#assertPeer(peer);
    await connectTransport(peer.transport(transportId), params);
  }

  async restartIce(peer: Peer, transportId: string): Promise<unknown> {
    this.#assertPeer(peer);
    return restartIce(peer.transport(transportId));
  }

  // -------------------------------------------------------------------------------------------
  // Producers

  /** Set the peer's receive capabilities and create consumers for every producer it can receive. Returns how many. */
  async setCapabilities(peer: Peer, rtpCapabilities: RtpCapabilities): Promise<number> {
    this.#assertPeer(peer);
    peerState(peer).rtpCapabilities = rtpCapabilities;
    return this.#consumers.consumeAllFor(peer, this.#peers.values());
  }

  async produce(peer: Peer, req: ProducerRequest): Promise<string> {
    const producer = await this.#serial(async () => {
      this.#assertPeer(peer);
      return createProducer(peer, req, {
        profile: this.profile,
        tier: this.tier,
        roomVideoProducers: this.#videoProducers(),
      });
    });
    if (producer.kind === 'audio' && (req.source === 'mic' || req.source === 'screen-audio'))
      await observeAudio(this.#observers, producer, this.#log.child({ peer: peer.id }));
    for (const other of this.#peers.values()) {
      if (other !== peer) void this.#consumers.consumeSafe(other, peer, producer);
    }
    this.#log.debug({ peer: peer.id, producer: producer.id, source: req.source }, 'producer created');
    this.safeEmit('producer', peer, producer);
    const entry = peer.producers.get(producer.id);
    if (entry) this.safeEmit('producerAdded', peer, entry);
    return producer.id;
  }

  /**
   * Cascade: a producer piped in from another node for `peer` (a remote peer, sfu/src/cascade.ts),
   * on the primary router (its `appData.peerId` naming the peer); every other peer consumes it as it
   * would a local one.
   */
  async adoptProducer(peer: Peer, producer: Producer, info: { source: MediaSource; index: number }): Promise<void> {
    this.#assertPeer(peer);
    adoptProducerEntry(peer, producer, info);
    // remote speakers are heard in the speaker and level reports here too
    if (producer.kind === 'audio' && (info.source === 'mic' || info.source === 'screen-audio'))
      await observeAudio(this.#observers, producer, this.#log.child({ peer: peer.id }));
    for (const other of this.#peers.values()) {
      if (other !== peer) void this.#consumers.consumeSafe(other, peer, producer);
    }
  }

  closeProducer(peer: Peer, producerId: string): void {
    this.#assertPeer(peer);
    peer.producer(producerId).producer.close();
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean, byModerator = false): Promise<void> {
    this.#assertPeer(peer);
    const { producer } = peer.producer(producerId);
    if (paused) await mediaCall(() => producer.pause(), 'CONFLICT');
    else await mediaCall(() => producer.resume(), 'CONFLICT');
    if (byModerator && paused) {
      peer.signal({ event: 'media:producerPaused', payload: { roomId: this.id, producerId, byModerator: true } });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Consumers

  /** Create a consumer of `producerId` for `peer` (explicit subscribe); CANNOT_CONSUME without capabilities. */
  async consume(peer: Peer, producerId: string): Promise<ConsumerInfo> {
    this.#assertPeer(peer);
    return this.#consumers.subscribe(peer, producerId, this.#peers.values());
  }

  closeConsumer(peer: Peer, consumerId: string): void {
    this.#assertPeer(peer);
    peer.consumer(consumerId).consumer.close();
  }

  async setConsumerPaused(peer: Peer, consumerId: string, paused: boolean): Promise<void> {
    this.#assertPeer(peer);
    await controls.setPaused(peer.consumer(consumerId).consumer, paused);
  }

  setPreferredLayers(peer: Peer, consumerId: string, layers: controls.LayersRequest): Promise<controls.Layers> {
    this.#assertPeer(peer);
    return controls.setPreferredLayers(peer.consumer(consumerId).consumer, layers);
  }

  async setPriority(peer: Peer, consumerId: string, priority: number): Promise<number> {
    this.#assertPeer(peer);
    return controls.setPriority(peer.consumer(consumerId).consumer, priority);
  }

  async requestKeyFrame(peer: Peer, consumerId: string): Promise<void> {
    this.#assertPeer(peer);
    await controls.requestKeyFrame(peer.consumer(consumerId).consumer);
  }

  async getStats(peer: Peer, type: 'transport' | 'producer' | 'consumer', id: string): Promise<unknown[]> {
    this.#assertPeer(peer);
    return controls.getStats(peer, type, id);
  }

  // -------------------------------------------------------------------------------------------
  // Moderation

  /** Pause a peer's producers server-side: the given one, or every audio producer. Returns the ids paused. */
  async mutePeer(peerId: string, producerId?: string): Promise<string[]> {
    const peer = this.peer(peerId);
    const ids = producerId
      ? [peer.producer(producerId).producer.id]
      : [...peer.producers.values()].filter((p) => p.producer.kind === 'audio').map((p) => p.producer.id);
    const paused: string[] = [];
    for (const id of ids) {
      if (peer.producers.get(id)?.producer.paused) continue;
      await this.setProducerPaused(peer, id, true, true);
      paused.push(id);
    }
    return paused;
  }

  /** Close a peer's camera producers (one, or all). Returns the ids closed. */
  stopVideo(peerId: string, producerId?: string): string[] {
    const peer = this.peer(peerId);
    const entries = producerId
      ? [peer.producer(producerId)]
      : [...peer.producers.values()].filter((p) => p.source === 'camera');
    return closeProducers(peer, entries, this.id, 'moderator', true);
  }

  // -------------------------------------------------------------------------------------------
  // Rights withdrawn (the owner of the peer decides; the room only carries it out)

  /** Close every producer of `peer`; it is told `media:producerClosed` (`revoked`). Returns the ids closed. */
  stopPublishing(peer: Peer): string[] {
    this.#assertPeer(peer);
    return closeProducers(peer, [...peer.producers.values()], this.id, 'revoked', false);
  }

  /**
   * Close every consumer of `peer` (it is told `media:consumerClosed`) and forget its receive
   * capabilities, so no consumer is created for it until it sends `media:setCapabilities` again.
   * Returns the ids closed.
   */
  stopSubscribing(peer: Peer): string[] {
    this.#assertPeer(peer);
    return closeConsumers(peer, this.id);
  }

  /** Close the room: every peer is told `room:closed` with `reason`. Idempotent. */
  close(reason: RoomCloseReason = 'ROOM_CLOSED'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#log.info({ reason, peers: this.#peers.size }, 'media room closed');
    for (const peer of this.#peers.values()) {
      peer.signal({ event: 'room:closed', payload: { roomId: this.id, reason } });
    }
    const peers = [...this.#peers.values()];
    this.#peers.clear();
    for (const peer of peers) {
      peer.close();
      this.safeEmit('peerLeft', peer, 'closed');
    }
    this.#routers.closeAll();
    this.safeEmit('close', reason);
    this.removeAllListeners();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('ROOM_CLOSED', 'the room is closed');
  }

  #assertPeer(peer: Peer): void {
    this.#assertOpen();
    if (peer.closed || this.#peers.get(peer.id) !== peer) throw new SfuError('NOT_IN_ROOM', 'not in this room');
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    // the lock only orders calls: `run`'s failure is its caller's, not the next call's
    this.#lock = run.then(noop, noop);
    return run;
  }

  #broadcast(signal: PeerSignal, exceptPeerId?: string): void {
    for (const peer of this.#peers.values()) if (peer.id !== exceptPeerId) peer.signal(signal);
  }

  #videoProducers(): number {
    let video = 0;
    for (const p of this.#peers.values())
      for (const e of p.producers.values()) if (e.producer.kind === 'video') video++;
    return video;
  }
}

const noop = (): void => undefined;
