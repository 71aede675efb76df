import {
  type ConsumerInfo,
  type MediaServerEvents,
  type MediaSource,
  type PeerInfo,
  type ProducerInfo,
  type TransportInfo,
  TypedEmitter,
} from '@moim/protocol';
import type { Consumer, PlainTransport, Producer, Router, RtpCapabilities, WebRtcTransport } from 'mediasoup/types';
import { SfuError } from './errors.ts';

type OneWayEvent = Exclude<keyof MediaServerEvents, 'media:newConsumer'>;
/** A server→client event addressed to one peer (the service sends it on the peer's socket). */
export type PeerSignal = {
  [E in OneWayEvent]: { event: E; payload: Parameters<MediaServerEvents[E]>[0] };
}[OneWayEvent];

export interface PeerEvents {
  /** A one-way event for this peer's client. */
  signal: (signal: PeerSignal) => void;
  /** A new consumer, created paused: send it, and call `resumeConsumer` once the client acknowledges. */
  newConsumer: (info: ConsumerInfo & { roomId: string }) => void;
  close: () => void;
}

export interface TransportEntry {
  transport: WebRtcTransport | PlainTransport;
  direction: 'send' | 'recv';
  kind: 'webrtc' | 'plain';
  router: Router;
}

export interface ProducerEntry {
  producer: Producer;
  source: MediaSource;
  index: number;
  transportId: string;
  /** Sum of the encodings' declared `maxBitrate` (bits/s). */
  declaredBitrate: number;
}

export interface ConsumerEntry {
  consumer: Consumer;
  /** The peer whose producer this consumes. */
  producerPeerId: string;
  source: MediaSource;
  index: number;
}

/** The state of a peer that only its MediaRoom changes (see `peerState`). */
export interface PeerState {
  readonly transports: Map<string, TransportEntry>;
  readonly producers: Map<string, ProducerEntry>;
  readonly consumers: Map<string, ConsumerEntry>;
  rtpCapabilities: RtpCapabilities | undefined;
  handRaised: boolean;
  connected: boolean;
}

let stateOf: (peer: Peer) => PeerState;

/**
 * The mutable state of `peer`, for its MediaRoom. Not exported from the package: outside the SFU
 * a peer is read-only, and changes go through MediaRoom methods that also tell the other peers.
 */
export function peerState(peer: Peer): PeerState {
  return stateOf(peer);
}

/**
 * One participant of a MediaRoom: its transports, producers and consumers. Knows nothing about
 * sockets or users: `sub` and `displayName` are opaque labels handed back to clients. Closing a
 * peer closes its transports (and with them its producers and consumers). Its state is read-only
 * here (like mediasoup's Router, which keeps its maps private); its MediaRoom changes it.
 */
export class Peer extends TypedEmitter<PeerEvents> {
  readonly id: string;
  readonly sub: string;
  readonly displayName: string;
  readonly #state: PeerState = {
    transports: new Map(),
    producers: new Map(),
    consumers: new Map(),
    rtpCapabilities: undefined,
    handRaised: false,
    connected: true,
  };
  #closed = false;

  static {
    stateOf = (peer) => peer.#state;
  }

  constructor(init: { id: string; sub: string; displayName: string }) {
    super();
    this.id = init.id;
    this.sub = init.sub;
    this.displayName = init.displayName;
  }

  get transports(): ReadonlyMap<string, TransportEntry> {
    return this.#state.transports;
  }

  get producers(): ReadonlyMap<string, ProducerEntry> {
    return this.#state.producers;
  }

  get consumers(): ReadonlyMap<string, ConsumerEntry> {
    return this.#state.consumers;
  }

  /** Set by `media:setCapabilities`; undefined until then and after `stopSubscribing`. */
  get rtpCapabilities(): RtpCapabilities | undefined {
    return this.#state.rtpCapabilities;
  }

  get handRaised(): boolean {
    return this.#state.handRaised;
  }

  /** False while the peer's socket is gone (grace period); see `MediaRoom.setPeerConnected`. */
  get connected(): boolean {
    return this.#state.connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  signal(signal: PeerSignal): void {
    if (!this.#closed) this.safeEmit('signal', signal);
  }

  transport(id: string): TransportEntry {
    const t = this.transports.get(id);
    if (!t) throw new SfuError('NOT_FOUND', 'no such transport on this peer');
    return t;
  }

  producer(id: string): ProducerEntry {
    const p = this.producers.get(id);
    if (!p) throw new SfuError('NOT_FOUND', 'no such producer on this peer');
    return p;
  }

  consumer(id: string): ConsumerEntry {
    const c = this.consumers.get(id);
    if (!c) throw new SfuError('NOT_FOUND', 'no such consumer on this peer');
    return c;
  }

  /** The transport consumers are created on (the first WebRTC recv transport, else the first recv one). */
  recvTransport(): TransportEntry | undefined {
    let fallback: TransportEntry | undefined;
    for (const t of this.transports.values()) {
      if (t.direction !== 'recv' || t.transport.closed) continue;
      if (t.kind === 'webrtc') return t;
      fallback ??= t;
    }
    return fallback;
  }

  producerInfos(): ProducerInfo[] {
    return [...this.producers.entries()].map(([producerId, p]) => ({
      producerId,
      kind: p.producer.kind,
      source: p.source,
      index: p.index,
      paused: p.producer.paused,
    }));
  }

  info(): PeerInfo {
    return {
      peerId: this.id,
      sub: this.sub,
      displayName: this.displayName,
      handRaised: this.handRaised,
      connected: this.connected,
      producers: this.producerInfos(),
    };
  }

  transportInfos(): TransportInfo[] {
    return [...this.transports.entries()].map(([transportId, t]) => transportInfo(transportId, t));
  }

  consumerInfo(consumerId: string): ConsumerInfo {
    const c = this.consumer(consumerId);
    return {
      consumerId,
      producerId: c.consumer.producerId,
      peerId: c.producerPeerId,
      kind: c.consumer.kind,
      source: c.source,
      index: c.index,
      rtpParameters: c.consumer.rtpParameters,
      type: c.consumer.type,
      producerPaused: c.consumer.producerPaused,
      paused: c.consumer.paused,
    };
  }

  consumerInfos(): ConsumerInfo[] {
    return [...this.consumers.keys()].map((id) => this.consumerInfo(id));
  }

  /** Close every transport (cascading to producers and consumers). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#state.transports.values()) t.transport.close();
    this.#state.transports.clear();
    this.#state.producers.clear();
    this.#state.consumers.clear();
    this.safeEmit('close');
    this.removeAllListeners();
  }
}

export function transportInfo(transportId: string, t: TransportEntry): TransportInfo {
  if (t.kind === 'webrtc') {
    const w = t.transport as WebRtcTransport;
    return {
      transportId,
      direction: t.direction,
      kind: 'webrtc',
      iceParameters: w.iceParameters,
      iceCandidates: w.iceCandidates,
      dtlsParameters: w.dtlsParameters,
    };
  }
  const p = t.transport as PlainTransport;
  return {
    transportId,
    direction: t.direction,
    kind: 'plain',
    ip: p.tuple.localAddress,
    port: p.tuple.localPort,
    ...(p.srtpParameters ? { srtpParameters: p.srtpParameters } : {}),
  };
}
