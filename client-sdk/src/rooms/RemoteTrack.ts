import type { ConsumerInfo, MediaSource } from '@moim/protocol';
import type { types } from 'mediasoup-client';

/** One remote producer this client consumes (a camera, microphone or screen of another peer). */
export class RemoteTrack {
  readonly consumerId: string;
  readonly producerId: string;
  readonly peerId: string;
  readonly kind: 'audio' | 'video';
  readonly source: MediaSource;
  readonly index: number;
  /** mediasoup consumer type: `simple`, `simulcast`, `svc` or `pipe` (only simulcast and svc have layers). */
  readonly type: string;
  readonly consumer: types.Consumer;
  /** The sender paused it (muted, camera off). */
  producerPaused: boolean;
  /** This client paused it (not visible). */
  locallyPaused = false;
  /** Last layers the server reported (simulcast), and the layer this client asked for. */
  spatialLayer: number | null = null;
  temporalLayer: number | null = null;
  preferredSpatialLayer: number | null = null;
  /** Consumer score from the server (0–10). */
  score: number | null = null;
  producerScore: number | null = null;

  constructor(info: ConsumerInfo, consumer: types.Consumer) {
    this.consumerId = info.consumerId;
    this.producerId = info.producerId;
    this.peerId = info.peerId;
    this.kind = info.kind;
    this.source = info.source;
    this.index = info.index;
    this.type = info.type;
    this.consumer = consumer;
    this.producerPaused = info.producerPaused;
  }

  get track(): MediaStreamTrack {
    return this.consumer.track;
  }

  /** Not receiving media (paused by its sender or by this client). */
  get paused(): boolean {
    return this.producerPaused || this.locallyPaused;
  }

  /** Whether the sender publishes several layers to choose from. */
  get layered(): boolean {
    return this.type === 'simulcast' || this.type === 'svc';
  }

  get closed(): boolean {
    return this.consumer.closed;
  }

  getStats(): Promise<RTCStatsReport> {
    return this.consumer.getStats();
  }
}
