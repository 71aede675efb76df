import { randomUUID } from 'node:crypto';
import {
  type ConsumerInfo,
  type ErrorCode,
  type MediaSource,
  MoimError,
  type RoomCloseReason,
  type Tier,
  type TierProfile,
  type TransportInfo,
  TypedEmitter,
  tierProfile,
} from '@moim/protocol';
import type {
  ActiveSpeakerObserver,
  AudioLevelObserver,
  Consumer,
  DtlsParameters,
  MediaKind,
  PlainTransport,
  Producer,
  Router,
  RtpCapabilities,
  RtpParameters,
  SrtpCryptoSuite,
  SrtpParameters,
  TransportObserver,
  WebRtcTransport,
} from 'mediasoup/types';
import { isHelperCodec, routerMediaCodecs } from './codecs.ts';
import type { SfuLogger } from './logging.ts';
import { type ConsumerEntry, Peer, type PeerSignal, type TransportEntry, transportInfo } from './Peer.ts';
import type { PoolWorker, WorkerPool } from './WorkerPool.ts';

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
}

interface RouterEntry {
  router: Router;
  slot: PoolWorker;
  /** Consumers currently on this router (excluding pipe consumers). */
  consumers: number;
  /** Producers piped into this router (producer id → pipe promise). */
  piped: Map<string, Promise<void>>;
}

const SOURCE_KIND: Record<MediaSource, MediaKind> = {
  camera: 'video',
  screen: 'video',
  mic: 'audio',
  'screen-audio': 'audio',
};

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
  readonly #routers: RouterEntry[];
  readonly #activeSpeaker: ActiveSpeakerObserver;
  readonly #audioLevel: AudioLevelObserver;
  /** Serialises produce/transport creation so limit checks cannot race. */
  #lock: Promise<unknown> = Promise.resolve();
  #growing: Promise<RouterEntry> | undefined;
  /** `peerId producerId` pairs whose consumer is being created (no duplicates from concurrent paths). */
  readonly #consuming = new Set<string>();
  #closed = false;

  private constructor(
    opts: MediaRoomOptions,
    profile: TierProfile,
    primary: RouterEntry,
    observers: { activeSpeaker: ActiveSpeakerObserver; audioLevel: AudioLevelObserver },
  ) {
    super();
    this.id = opts.id;
    this.tier = opts.tier;
    this.profile = profile;
    this.#opts = opts;
    this.#log = opts.log.child({ room: opts.id });
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'room listener failed');
    this.#routers = [primary];
    this.#activeSpeaker = observers.activeSpeaker;
    this.#audioLevel = observers.audioLevel;
    this.#watchRouter(primary);
    this.#activeSpeaker.on('dominantspeaker', ({ producer }) => {
      const peerId = (producer.appData as { peerId?: string }).peerId;
      if (peerId)
        this.#broadcast({
          event: 'media:activeSpeaker',
          payload: { roomId: this.id, peerId, producerId: producer.id },
        });
    });
    this.#audioLevel.on('volumes', (volumes) => {
      const levels = volumes.flatMap(({ producer, volume }) => {
        const peerId = (producer.appData as { peerId?: string }).peerId;
        return peerId ? [{ peerId, producerId: producer.id, volume }] : [];
      });
      this.#broadcast({ event: 'media:audioLevels', payload: { roomId: this.id, levels } });
    });
    this.#audioLevel.on('silence', () =>
      this.#broadcast({ event: 'media:audioLevels', payload: { roomId: this.id, levels: [] } }),
    );
  }

  /** Create the room's router on the least-loaded worker. */
  static async create(opts: MediaRoomOptions): Promise<MediaRoom> {
    const profile = opts.profile ?? tierProfile(opts.tier);
    const slot = await opts.pool.pick();
    const router = await slot.worker.createRouter({
      mediaCodecs: routerMediaCodecs(profile),
      appData: { roomId: opts.id, workerIndex: slot.index },
    });
    try {
      const activeSpeaker = await router.createActiveSpeakerObserver({ interval: 300 });
      const audioLevel = await router.createAudioLevelObserver({
        maxEntries: 5,
        threshold: -70,
        interval: opts.audioLevelIntervalMs ?? 1000,
      });
      const room = new MediaRoom(
        opts,
        profile,
        { router, slot, consumers: 0, piped: new Map() },
        { activeSpeaker, audioLevel },
      );
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

  get rtpCapabilities(): RtpCapabilities {
    return this.#primary.router.rtpCapabilities;
  }

  /** Routers serving this room (1 until it outgrows `consumersPerRouter`). */
  get routerCount(): number {
    return this.#routers.length;
  }

  /** Pool slots (worker indexes) this room uses. */
  get workerIndexes(): number[] {
    return this.#routers.map((r) => r.slot.index);
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
    if (!p) throw new MoimError('NOT_FOUND', 'no such peer in this room');
    return p;
  }

  /** Worker index of the router a transport of `peer` lives on. */
  workerIndexOfTransport(peer: Peer, transportId: string): number {
    const t = peer.transport(transportId);
    return this.#routers.find((r) => r.router === t.router)?.slot.index ?? -1;
  }

  // -------------------------------------------------------------------------------------------
  // Peers

  /** Add a peer; ROOM_FULL beyond the tier's `maxPeers`. */
  addPeer(init: { sub: string; displayName: string; id?: string }): Peer {
    this.#assertOpen();
    if (this.#peers.size >= this.profile.maxPeers)
      throw new MoimError('ROOM_FULL', `this ${this.tier} room is full (${this.profile.maxPeers} people)`);
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
    peer.handRaised = raised;
    this.#broadcast({ event: 'room:handRaised', payload: { roomId: this.id, peerId: peer.id, raised } });
  }

  /** Tell the other peers that a peer's connection state changed (grace period). */
  announcePeer(peer: Peer): void {
    this.#assertPeer(peer);
    this.#broadcast({ event: 'room:peerJoined', payload: { roomId: this.id, peer: peer.info() } }, peer.id);
  }

  // -------------------------------------------------------------------------------------------
  // Transports

  async createTransport(
    peer: Peer,
    opts: {
      direction: 'send' | 'recv';
      kind: 'webrtc' | 'plain';
      forceTcp?: boolean | undefined;
      /** Plain only: SRTP, with `srtpCryptoSuite` (default AES_CM_128_HMAC_SHA1_80). */
      srtp?: boolean | undefined;
      /** Plain SRTP only; Chromium negotiates AEAD_AES_256_GCM with a WebRtcTransport. */
      srtpCryptoSuite?: SrtpCryptoSuite | undefined;
    },
  ): Promise<TransportInfo> {
    return this.#serial(async () => {
      this.#assertPeer(peer);
      if (opts.kind === 'plain' && !this.#opts.allowPlainTransports)
        throw new MoimError('FORBIDDEN', 'plain RTP transports are disabled on this server');
      if (opts.srtp && opts.kind !== 'plain')
        throw new MoimError('INVALID_PAYLOAD', 'srtp applies to plain transports (WebRTC is always encrypted)');
      if (opts.srtpCryptoSuite && !opts.srtp)
        throw new MoimError('INVALID_PAYLOAD', 'srtpCryptoSuite needs srtp: true (on a plain transport)');
      const max = this.#opts.maxTransportsPerPeer ?? 4;
      if (peer.transports.size >= max)
        throw new MoimError('TOO_MANY_TRANSPORTS', `a peer may have at most ${max} transports`);
      // Producers live on the primary router; recv transports go where there is room for consumers.
      const entry = opts.direction === 'send' ? this.#primary : await this.#routerForConsumers();
      const appData = { roomId: this.id, peerId: peer.id, direction: opts.direction };
      const transport =
        opts.kind === 'webrtc'
          ? await entry.router.createWebRtcTransport({
              webRtcServer: entry.slot.webRtcServer,
              enableUdp: !opts.forceTcp,
              enableTcp: true,
              preferUdp: !opts.forceTcp,
              initialAvailableOutgoingBitrate: 1_000_000,
              appData,
            })
          : await entry.router.createPlainTransport({
              listenInfo: this.#opts.pool.plainListenInfo(),
              rtcpMux: true,
              comedia: opts.direction === 'send',
              ...(opts.srtp
                ? { enableSrtp: true, srtpCryptoSuite: opts.srtpCryptoSuite ?? ('AES_CM_128_HMAC_SHA1_80' as const) }
                : {}),
              appData,
            });
      if (peer.closed) {
        transport.close();
        throw new MoimError('NOT_IN_ROOM', 'the peer left');
      }
      if (opts.direction === 'send') {
        const cap = this.profile.maxIncomingBitrate;
        try {
          await transport.setMaxIncomingBitrate(cap);
        } catch (err) {
          // without its cap the transport would break the tier's guarantee: refuse it rather than keep it
          transport.close();
          this.#assertPeer(peer); // the room closing or the peer leaving meanwhile is why it failed
          this.#log.error({ err, peer: peer.id, transport: transport.id, cap }, 'could not cap incoming bitrate');
          throw new MoimError('MEDIA_ERROR', `could not apply this tier's incoming bitrate cap (${cap} bits/s)`, {
            cause: err,
          });
        }
      }
      const t: TransportEntry = { transport, direction: opts.direction, kind: opts.kind, router: entry.router };
      peer.transports.set(transport.id, t);
      (transport.observer as TransportObserver).once('close', () => peer.transports.delete(transport.id));
      if (opts.direction === 'recv') void this.#consumeAllFor(peer);
      return transportInfo(transport.id, t);
    });
  }

  async connectTransport(
    peer: Peer,
    transportId: string,
    params: {
      dtlsParameters?: unknown;
      ip?: string | undefined;
      port?: number | undefined;
      rtcpPort?: number | undefined;
      srtpParameters?: SrtpParameters | undefined;
    },
  ): Promise<void> {
    this.#assertPeer(peer);
    const t = peer.transport(transportId);
    if (t.kind === 'webrtc') {
      if (!params.dtlsParameters) throw new MoimError('INVALID_PAYLOAD', 'a WebRTC transport needs dtlsParameters');
      const w = t.transport as WebRtcTransport;
      await mediaCall(() => w.connect({ dtlsParameters: params.dtlsParameters as DtlsParameters }), 'INVALID_PAYLOAD');
      return;
    }
    const plain = t.transport as PlainTransport;
    const srtp = plain.srtpParameters !== undefined;
    if (srtp !== (params.srtpParameters !== undefined))
      throw new MoimError(
        'INVALID_PAYLOAD',
        srtp ? 'an SRTP transport needs srtpParameters' : 'this transport is not SRTP',
      );
    const srtpParameters = params.srtpParameters ? { srtpParameters: params.srtpParameters } : {};
    if (t.direction === 'send') {
      // comedia: the plain send transport learns the remote address from the first packet.
      if (params.ip || params.port) throw new MoimError('INVALID_PAYLOAD', 'a plain send transport needs no address');
      if (srtp) await mediaCall(() => plain.connect(srtpParameters), 'INVALID_PAYLOAD');
      return;
    }
    if (!params.ip || !params.port) throw new MoimError('INVALID_PAYLOAD', 'a plain recv transport needs ip and port');
    const { ip, port, rtcpPort } = params;
    await mediaCall(
      () => plain.connect({ ip, port, ...(rtcpPort ? { rtcpPort } : {}), ...srtpParameters }),
      'CONFLICT',
    );
  }

  async restartIce(peer: Peer, transportId: string): Promise<unknown> {
    this.#assertPeer(peer);
    const t = peer.transport(transportId);
    if (t.kind !== 'webrtc') throw new MoimError('INVALID_PAYLOAD', 'only WebRTC transports restart ICE');
    return mediaCall(() => (t.transport as WebRtcTransport).restartIce(), 'CONFLICT');
  }

  // -------------------------------------------------------------------------------------------
  // Producers

  /** Set the peer's receive capabilities and create consumers for every producer it can receive. Returns how many. */
  async setCapabilities(peer: Peer, rtpCapabilities: RtpCapabilities): Promise<number> {
    this.#assertPeer(peer);
    peer.rtpCapabilities = rtpCapabilities;
    return this.#consumeAllFor(peer);
  }

  async produce(
    peer: Peer,
    req: {
      transportId: string;
      kind: MediaKind;
      rtpParameters: RtpParameters;
      source: MediaSource;
      index: number;
      paused: boolean;
    },
  ): Promise<string> {
    const producer = await this.#serial(async () => {
      this.#assertPeer(peer);
      const t = peer.transport(req.transportId);
      if (t.direction !== 'send') throw new MoimError('INVALID_PAYLOAD', 'produce needs a send transport');
      if (SOURCE_KIND[req.source] !== req.kind)
        throw new MoimError('INVALID_PAYLOAD', `source ${req.source} is ${SOURCE_KIND[req.source]}, not ${req.kind}`);
      this.#checkProducerLimits(peer, req);
      const declaredBitrate = (req.rtpParameters.encodings ?? []).reduce((sum, e) => sum + (e.maxBitrate ?? 0), 0);
      let onTransport = declaredBitrate;
      for (const p of peer.producers.values()) if (p.transportId === req.transportId) onTransport += p.declaredBitrate;
      if (onTransport > this.profile.maxIncomingBitrate)
        throw new MoimError(
          'BITRATE_NOT_ALLOWED',
          `declared bitrate ${onTransport} exceeds this tier's ${this.profile.maxIncomingBitrate} bits/s`,
        );
      const producer = await mediaCall(
        () =>
          t.transport.produce({
            kind: req.kind,
            rtpParameters: req.rtpParameters,
            paused: req.paused,
            appData: { peerId: peer.id, source: req.source, index: req.index },
          }),
        'INVALID_PAYLOAD',
        'invalid rtpParameters',
      );
      if (peer.closed) {
        producer.close();
        throw new MoimError('NOT_IN_ROOM', 'the peer left');
      }
      peer.producers.set(producer.id, {
        producer,
        source: req.source,
        index: req.index,
        transportId: req.transportId,
        declaredBitrate,
      });
      producer.observer.once('close', () => peer.producers.delete(producer.id));
      return producer;
    });
    if (producer.kind === 'audio' && (req.source === 'mic' || req.source === 'screen-audio')) {
      // the producer works without them (no speaker or level reports for it)
      const unobserved = (observer: string) => (err: unknown) =>
        this.#log.warn({ err, peer: peer.id, producer: producer.id, observer }, 'could not observe audio producer');
      await this.#activeSpeaker.addProducer({ producerId: producer.id }).catch(unobserved('activeSpeaker'));
      await this.#audioLevel.addProducer({ producerId: producer.id }).catch(unobserved('audioLevel'));
    }
    for (const other of this.#peers.values()) {
      if (other !== peer) void this.#consumeSafe(other, peer, producer);
    }
    this.#log.debug({ peer: peer.id, producer: producer.id, source: req.source }, 'producer created');
    return producer.id;
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
    const owner = this.#ownerOf(producerId);
    if (!owner) throw new MoimError('NOT_FOUND', 'no such producer in this room');
    if (owner.peer === peer) throw new MoimError('CANNOT_CONSUME', 'cannot consume your own producer');
    const consumer = await this.#consume(peer, owner.peer, owner.producer, { explicit: true });
    return peer.consumerInfo(consumer!.id);
  }

  closeConsumer(peer: Peer, consumerId: string): void {
    this.#assertPeer(peer);
    peer.consumer(consumerId).consumer.close();
  }

  async setConsumerPaused(peer: Peer, consumerId: string, paused: boolean): Promise<void> {
    this.#assertPeer(peer);
    const { consumer } = peer.consumer(consumerId);
    if (paused) await mediaCall(() => consumer.pause(), 'CONFLICT');
    else await mediaCall(() => consumer.resume(), 'CONFLICT');
  }

  async setPreferredLayers(
    peer: Peer,
    consumerId: string,
    layers: { spatialLayer: number; temporalLayer?: number | undefined },
  ): Promise<{ spatialLayer: number; temporalLayer: number | null }> {
    this.#assertPeer(peer);
    const { consumer } = peer.consumer(consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc')
      throw new MoimError('INVALID_PAYLOAD', 'only simulcast and SVC consumers have layers');
    await mediaCall(
      () =>
        consumer.setPreferredLayers({
          spatialLayer: layers.spatialLayer,
          ...(layers.temporalLayer === undefined ? {} : { temporalLayer: layers.temporalLayer }),
        }),
      'INVALID_PAYLOAD',
    );
    const p = consumer.preferredLayers;
    return { spatialLayer: p?.spatialLayer ?? layers.spatialLayer, temporalLayer: p?.temporalLayer ?? null };
  }

  async setPriority(peer: Peer, consumerId: string, priority: number): Promise<number> {
    this.#assertPeer(peer);
    const { consumer } = peer.consumer(consumerId);
    await mediaCall(() => consumer.setPriority(priority), 'INVALID_PAYLOAD');
    return consumer.priority;
  }

  async requestKeyFrame(peer: Peer, consumerId: string): Promise<void> {
    this.#assertPeer(peer);
    const { consumer } = peer.consumer(consumerId);
    if (consumer.kind !== 'video') throw new MoimError('INVALID_PAYLOAD', 'key frames are for video consumers');
    await mediaCall(() => consumer.requestKeyFrame(), 'CONFLICT');
  }

  async getStats(peer: Peer, type: 'transport' | 'producer' | 'consumer', id: string): Promise<unknown[]> {
    this.#assertPeer(peer);
    const target: { getStats(): Promise<unknown[]> } =
      type === 'transport'
        ? peer.transport(id).transport
        : type === 'producer'
          ? peer.producer(id).producer
          : peer.consumer(id).consumer;
    return mediaCall(() => target.getStats(), 'CONFLICT');
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
    const closed: string[] = [];
    for (const e of entries) {
      if (e.producer.kind !== 'video') throw new MoimError('INVALID_PAYLOAD', 'not a video producer');
      e.producer.close();
      peer.signal({
        event: 'media:producerClosed',
        payload: { roomId: this.id, producerId: e.producer.id, reason: 'moderator' },
      });
      closed.push(e.producer.id);
    }
    return closed;
  }

  // -------------------------------------------------------------------------------------------
  // Rights withdrawn (the owner of the peer decides; the room only carries it out)

  /** Close every producer of `peer`; it is told `media:producerClosed` (`revoked`). Returns the ids closed. */
  stopPublishing(peer: Peer): string[] {
    this.#assertPeer(peer);
    const closed: string[] = [];
    for (const { producer } of [...peer.producers.values()]) {
      producer.close();
      peer.signal({
        event: 'media:producerClosed',
        payload: { roomId: this.id, producerId: producer.id, reason: 'revoked' },
      });
      closed.push(producer.id);
    }
    return closed;
  }

  /**
   * Close every consumer of `peer` (it is told `media:consumerClosed`) and forget its receive
   * capabilities, so no consumer is created for it until it sends `media:setCapabilities` again.
   * Returns the ids closed.
   */
  stopSubscribing(peer: Peer): string[] {
    this.#assertPeer(peer);
    peer.rtpCapabilities = undefined;
    const closed: string[] = [];
    for (const [consumerId, { consumer }] of [...peer.consumers]) {
      consumer.close();
      peer.signal({
        event: 'media:consumerClosed',
        payload: { roomId: this.id, consumerId, producerId: consumer.producerId },
      });
      closed.push(consumerId);
    }
    return closed;
  }

  /** Close the room: every peer is told `room:closed` with `reason`. Idempotent. */
  close(reason: RoomCloseReason = 'ROOM_CLOSED'): void {
    if (this.#closed) return;
    this.#closed = true;
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
    for (const r of this.#routers) r.router.close();
    this.safeEmit('close', reason);
    this.removeAllListeners();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  get #primary(): RouterEntry {
    return this.#routers[0]!;
  }

  #assertOpen(): void {
    if (this.#closed) throw new MoimError('ROOM_CLOSED', 'the room is closed');
  }

  #assertPeer(peer: Peer): void {
    this.#assertOpen();
    if (peer.closed || this.#peers.get(peer.id) !== peer) throw new MoimError('NOT_IN_ROOM', 'not in this room');
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    // the lock only orders calls: `run`'s failure is its caller's, not the next call's
    this.#lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #broadcast(signal: PeerSignal, exceptPeerId?: string): void {
    for (const peer of this.#peers.values()) if (peer.id !== exceptPeerId) peer.signal(signal);
  }

  #watchRouter(entry: RouterEntry): void {
    entry.router.on('workerclose', () => {
      this.#log.error({ worker: entry.slot.index }, 'worker of this room died');
      this.close('WORKER_DIED');
    });
  }

  #ownerOf(producerId: string): { peer: Peer; producer: Producer } | undefined {
    for (const peer of this.#peers.values()) {
      const p = peer.producers.get(producerId);
      if (p) return { peer, producer: p.producer };
    }
    return undefined;
  }

  #checkProducerLimits(
    peer: Peer,
    req: { kind: MediaKind; rtpParameters: RtpParameters; source: MediaSource; index: number },
  ): void {
    const pr = this.profile;
    if (peer.producers.size >= pr.maxProducersPerPeer)
      throw new MoimError('TOO_MANY_PRODUCERS', `a peer may send at most ${pr.maxProducersPerPeer} streams here`);
    const sameSource = [...peer.producers.values()].filter((p) => p.source === req.source);
    const maxSource = pr.maxProducersPerSource[req.source];
    if (sameSource.length >= maxSource)
      throw new MoimError('TOO_MANY_PRODUCERS', `a peer may send at most ${maxSource} ${req.source} stream(s) here`);
    if (req.index >= maxSource)
      throw new MoimError('TOO_MANY_PRODUCERS', `${req.source} index ${req.index} is beyond this tier's ${maxSource}`);
    if (sameSource.some((p) => p.index === req.index))
      throw new MoimError('CONFLICT', `${req.source} ${req.index} is already being sent`);
    if (req.kind === 'video') {
      let video = 0;
      for (const p of this.#peers.values())
        for (const e of p.producers.values()) if (e.producer.kind === 'video') video++;
      if (video >= pr.maxVideoProducersPerRoom)
        throw new MoimError('TOO_MANY_PRODUCERS', `this room already carries ${pr.maxVideoProducersPerRoom} videos`);
      const encodings = req.rtpParameters.encodings?.length ?? 1;
      if (encodings > pr.maxEncodings)
        throw new MoimError(
          'ENCODINGS_NOT_ALLOWED',
          `at most ${pr.maxEncodings} encoding(s) per video in a ${this.tier} room`,
        );
    }
    const allowed = (req.kind === 'video' ? pr.videoCodecs : pr.audioCodecs).map((m) => m.toLowerCase());
    for (const codec of req.rtpParameters.codecs) {
      if (isHelperCodec(codec.mimeType)) continue;
      const mime = codec.mimeType.toLowerCase();
      if (!mime.startsWith(`${req.kind}/`) || !allowed.includes(mime))
        throw new MoimError(
          'CODEC_NOT_ALLOWED',
          `${codec.mimeType} is not allowed for ${req.kind} in a ${this.tier} room`,
        );
    }
  }

  /** The router a new recv transport goes to: the first with room for consumers, else a new one on another worker. */
  async #routerForConsumers(): Promise<RouterEntry> {
    const limit = this.#opts.consumersPerRouter;
    const free = this.#routers.find((r) => r.consumers < limit && !r.router.closed);
    if (free) return free;
    this.#growing ??= this.#grow().finally(() => {
      this.#growing = undefined;
    });
    return this.#growing;
  }

  async #grow(): Promise<RouterEntry> {
    const used = new Set(this.#routers.map((r) => r.slot.index));
    const slot = await this.#opts.pool.pick(used);
    if (used.has(slot.index)) {
      // Every worker already serves this room: spread over the least-loaded existing router.
      return this.#routers.reduce((a, b) => (b.consumers < a.consumers ? b : a));
    }
    const router = await slot.worker.createRouter({
      mediaCodecs: routerMediaCodecs(this.profile),
      appData: { roomId: this.id, workerIndex: slot.index },
    });
    if (this.#closed) {
      router.close();
      throw new MoimError('ROOM_CLOSED', 'the room is closed');
    }
    const entry: RouterEntry = { router, slot, consumers: 0, piped: new Map() };
    this.#routers.push(entry);
    this.#watchRouter(entry);
    this.#log.info({ worker: slot.index, routers: this.#routers.length }, 'room spread to another worker');
    return entry;
  }

  /** Make `producerId` available on `entry`'s router (pipeToRouter from the primary, once). */
  async #ensurePiped(entry: RouterEntry, producerId: string): Promise<void> {
    if (entry === this.#primary) return;
    let p = entry.piped.get(producerId);
    if (!p) {
      p = this.#primary.router
        .pipeToRouter({ producerId, router: entry.router, listenInfo: { protocol: 'udp', ip: '127.0.0.1' } })
        .then(({ pipeProducer }) => {
          pipeProducer?.observer.once('close', () => entry.piped.delete(producerId));
        });
      entry.piped.set(producerId, p);
      p.catch(() => entry.piped.delete(producerId));
    }
    await p;
  }

  async #consumeAllFor(peer: Peer): Promise<number> {
    if (!peer.rtpCapabilities || !peer.recvTransport()) return 0;
    let created = 0;
    for (const other of this.#peers.values()) {
      if (other === peer) continue;
      for (const p of other.producers.values()) {
        if ([...peer.consumers.values()].some((c) => c.consumer.producerId === p.producer.id)) continue;
        if (await this.#consumeSafe(peer, other, p.producer)) created++;
      }
    }
    return created;
  }

  async #consumeSafe(peer: Peer, owner: Peer, producer: Producer): Promise<boolean> {
    try {
      return (await this.#consume(peer, owner, producer, { explicit: false })) !== undefined;
    } catch (err) {
      this.#log.warn({ err, peer: peer.id, producer: producer.id }, 'could not create consumer');
      return false;
    }
  }

  async #consume(
    peer: Peer,
    owner: Peer,
    producer: Producer,
    opts: { explicit: boolean },
  ): Promise<Consumer | undefined> {
    const fail = (code: ErrorCode, message: string): undefined => {
      if (opts.explicit) throw new MoimError(code, message);
      return undefined;
    };
    if (peer.closed || producer.closed) return fail('NOT_FOUND', 'the producer is gone');
    const key = `${peer.id} ${producer.id}`;
    if (this.#consuming.has(key) || [...peer.consumers.values()].some((c) => c.consumer.producerId === producer.id))
      return fail('CONFLICT', 'already consuming this producer');
    this.#consuming.add(key);
    try {
      return await this.#consumeOn(peer, owner, producer, fail);
    } finally {
      this.#consuming.delete(key);
    }
  }

  async #consumeOn(
    peer: Peer,
    owner: Peer,
    producer: Producer,
    fail: (code: ErrorCode, message: string) => undefined,
  ): Promise<Consumer | undefined> {
    const caps = peer.rtpCapabilities;
    if (!caps) return fail('CANNOT_CONSUME', 'send media:setCapabilities first');
    const recv = peer.recvTransport();
    if (!recv) return fail('CANNOT_CONSUME', 'create a recv transport first');
    const entry = this.#routers.find((r) => r.router === recv.router);
    if (!entry) return fail('NOT_FOUND', 'the transport is gone');
    await this.#ensurePiped(entry, producer.id);
    if (!entry.router.canConsume({ producerId: producer.id, rtpCapabilities: caps }))
      return fail('CANNOT_CONSUME', 'your device cannot receive this producer');
    const { source, index } = owner.producers.get(producer.id) ?? { source: 'camera' as MediaSource, index: 0 };
    const layered = producer.kind === 'video' && producer.type !== 'simple';
    const consumer = await mediaCall(
      () =>
        recv.transport.consume({
          producerId: producer.id,
          rtpCapabilities: caps,
          paused: true,
          enableRtx: true,
          ignoreDtx: true,
          ...(layered ? { preferredLayers: this.profile.defaultPreferredLayers } : {}),
          appData: { peerId: peer.id, producerPeerId: owner.id },
        }),
      'CANNOT_CONSUME',
    );
    if (peer.closed || peer.rtpCapabilities === undefined) {
      // the peer left, or stopped receiving (stopSubscribing), while the consumer was being made
      consumer.close();
      return peer.closed ? fail('NOT_IN_ROOM', 'the peer left') : fail('CANNOT_CONSUME', 'receiving was stopped');
    }
    entry.consumers++;
    const c: ConsumerEntry = { consumer, producerPeerId: owner.id, source, index };
    peer.consumers.set(consumer.id, c);
    this.#wireConsumer(peer, consumer, entry);
    peer.safeEmit('newConsumer', { roomId: this.id, ...peer.consumerInfo(consumer.id) });
    return consumer;
  }

  #wireConsumer(peer: Peer, consumer: Consumer, entry: RouterEntry): void {
    const roomId = this.id;
    const consumerId = consumer.id;
    const producerId = consumer.producerId;
    consumer.observer.once('close', () => {
      entry.consumers--;
      peer.consumers.delete(consumerId);
    });
    consumer.on('producerclose', () => {
      peer.consumers.delete(consumerId);
      peer.signal({ event: 'media:consumerClosed', payload: { roomId, consumerId, producerId } });
    });
    consumer.on('producerpause', () =>
      peer.signal({ event: 'media:producerPaused', payload: { roomId, producerId, consumerId } }),
    );
    consumer.on('producerresume', () =>
      peer.signal({ event: 'media:producerResumed', payload: { roomId, producerId, consumerId } }),
    );
    consumer.on('score', (s) =>
      peer.signal({
        event: 'media:consumerScore',
        payload: { roomId, consumerId, score: s.score, producerScore: s.producerScore },
      }),
    );
    consumer.on('layerschange', (layers) =>
      peer.signal({
        event: 'media:consumerLayersChanged',
        payload: {
          roomId,
          consumerId,
          spatialLayer: layers?.spatialLayer ?? null,
          temporalLayer: layers?.temporalLayer ?? null,
        },
      }),
    );
  }
}

/** Run a mediasoup call, turning its errors into a MoimError with `code` (mediasoup's message kept). */
export async function mediaCall<T>(fn: () => Promise<T>, code: ErrorCode, prefix?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MoimError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const name = err instanceof Error ? err.name : '';
    const finalCode: ErrorCode = name === 'InvalidStateError' ? 'CONFLICT' : code;
    throw new MoimError(finalCode, `${prefix ? `${prefix}: ` : ''}${message.slice(0, 300)}`, { cause: err });
  }
}
