/**
 * The tracks a room receives: consuming each remote producer the server announces on the
 * receive transport, pausing or resuming them (here and on the server), choosing their simulcast
 * layer, and dropping them when their consumer or peer goes. `Room` owns the receive transport.
 */
import type { ConsumerInfo } from '@moim/protocol';
import type { TypedEmitter } from '@moim/protocol/client';
import type { types } from 'mediasoup-client';
import type { Logger } from '../logger.ts';
import { type MoimClient, toMoimError } from '../MoimClient.ts';
import { RemoteTrack } from './RemoteTrack.ts';
import type { RemotePeer, RoomEvents } from './types.ts';

/** What the remote tracks need from their room. */
export interface RemoteTracksHost {
  readonly client: MoimClient;
  readonly roomId: string;
  readonly log: Logger;
  readonly emitter: TypedEmitter<RoomEvents>;
  readonly peers: Map<string, RemotePeer>;
  closed(): boolean;
  recv(): types.Transport | undefined;
  detachVideo(consumerId: string): void;
}

export class RemoteTracks {
  readonly #h: RemoteTracksHost;
  /** The consumed tracks by consumer id. */
  readonly byId = new Map<string, RemoteTrack>();

  constructor(host: RemoteTracksHost) {
    this.#h = host;
  }

  /** Ask for a simulcast layer (0 = lowest). */
  async setPreferredLayer(track: RemoteTrack, spatialLayer: number): Promise<void> {
    if (track.preferredSpatialLayer === spatialLayer || track.closed || !track.layered) return;
    track.preferredSpatialLayer = spatialLayer;
    await this.#h.client.request('media:setPreferredLayers', {
      roomId: this.#h.roomId,
      consumerId: track.consumerId,
      spatialLayer,
    });
  }

  /** Pause or resume receiving one remote track (both here and on the server). */
  async setReceiving(track: RemoteTrack, receiving: boolean): Promise<void> {
    const { client, roomId } = this.#h;
    if (track.locallyPaused === !receiving || track.closed) return;
    track.locallyPaused = !receiving;
    if (receiving) track.consumer.resume();
    else track.consumer.pause();
    await client.request(receiving ? 'media:resumeConsumer' : 'media:pauseConsumer', {
      roomId,
      consumerId: track.consumerId,
    });
    if (receiving && track.kind === 'video')
      await client
        .request('media:requestKeyFrame', { roomId, consumerId: track.consumerId })
        // best effort: without it the picture starts at the sender's next key frame (the SFU asks for one too)
        .catch((error: unknown) =>
          this.#h.log.debug('key frame request failed', { consumerId: track.consumerId, error }),
        );
    this.#h.emitter.safeEmit(track.paused ? 'trackPaused' : 'trackResumed', track);
  }

  /** Consume a producer the server announced (`media:newConsumer`, or one a resume found). */
  async consume(e: ConsumerInfo & { roomId: string }, ack: (ok: unknown) => void): Promise<void> {
    const h = this.#h;
    const recv = h.recv();
    if (!recv || recv.closed || h.closed()) {
      ack({ ok: false });
      return;
    }
    try {
      const consumer = await recv.consume({
        id: e.consumerId,
        producerId: e.producerId,
        kind: e.kind,
        rtpParameters: e.rtpParameters as types.RtpParameters,
        streamId: `${e.peerId}-${e.source}-${e.index}`,
        appData: { peerId: e.peerId, source: e.source, index: e.index },
      });
      const track = new RemoteTrack(e, consumer);
      this.byId.set(e.consumerId, track);
      const peer = h.peers.get(e.peerId);
      if (peer && !peer.producers.some((p) => p.producerId === e.producerId))
        peer.producers.push({
          producerId: e.producerId,
          kind: e.kind,
          source: e.source,
          index: e.index,
          paused: e.producerPaused,
        });
      consumer.on('transportclose', () => this.drop(e.consumerId));
      ack({ ok: true });
      h.emitter.safeEmit('track', track);
    } catch (err) {
      ack({ ok: false });
      h.client.safeEmit('error', toMoimError(err, 'CANNOT_CONSUME'));
      await h.client
        .request('media:closeConsumer', { roomId: h.roomId, consumerId: e.consumerId })
        // the server's consumer stays paused (it was never resumed) until the peer leaves
        .catch((error: unknown) =>
          h.log.warn('closing a consumer that failed here failed', { consumerId: e.consumerId, error }),
        );
    }
  }

  /**
   * After a resume: drop the tracks whose consumer the server closed, consume (and resume on the
   * server) the ones whose `media:newConsumer` this client missed.
   */
  async reconcile(consumers: ConsumerInfo[]): Promise<void> {
    const { client, roomId, log } = this.#h;
    const serverConsumers = new Map(consumers.map((c) => [c.consumerId, c]));
    for (const id of [...this.byId.keys()]) if (!serverConsumers.has(id)) this.drop(id);
    for (const c of serverConsumers.values()) {
      if (this.byId.has(c.consumerId)) continue;
      await this.consume({ ...c, roomId }, () => {});
      await client
        .request('media:resumeConsumer', { roomId, consumerId: c.consumerId })
        // the track is there but stays paused on the server until the app resumes it (setReceiving)
        .catch((error: unknown) =>
          log.warn('resuming a consumer after a resume failed', { consumerId: c.consumerId, error }),
        );
    }
  }

  dropAll(): void {
    for (const id of [...this.byId.keys()]) this.drop(id);
  }

  drop(consumerId: string): void {
    const t = this.byId.get(consumerId);
    if (!t) return;
    this.byId.delete(consumerId);
    this.#h.detachVideo(consumerId);
    if (!t.consumer.closed) t.consumer.close();
    this.#h.emitter.safeEmit('trackEnded', t);
  }
}
