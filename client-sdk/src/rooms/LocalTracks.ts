/**
 * The tracks a room publishes: producing them on the send transport with the tier's encodings
 * and codec options, pausing, switching devices, unpublishing, unpublishing a track that ended,
 * the stall check, and publishing again what a rejoin took down. `Room` runs each step in its
 * queue (publishing and rejoining never interleave) and owns the send transport.
 */
import type { MediaSource, TierClientProfile } from '@moim/protocol';
import { MoimError, type TypedEmitter } from '@moim/protocol/client';
import type { types } from 'mediasoup-client';
import type { Logger } from '../logger.ts';
import type { MoimClient } from '../MoimClient.ts';
import { captureDevice, watchStall } from './capture.ts';
import { toSendEncodings } from './layers.ts';
import type { LocalTrack, RoomEvents } from './types.ts';

export const PRODUCER_KEY = (source: MediaSource, index: number) => `${source}:${index}`;

/** What the local tracks need from their room. */
export interface LocalTracksHost {
  readonly client: MoimClient;
  readonly roomId: string;
  readonly log: Logger;
  readonly emitter: TypedEmitter<RoomEvents>;
  readonly stallCheckMs: number;
  profile(): TierClientProfile;
  closed(): boolean;
  sendTransport(): Promise<types.Transport>;
  /** The room's queued unpublish (for a track that ended). */
  unpublish(source: MediaSource, index: number): Promise<void>;
}

export class LocalTracks {
  readonly #h: LocalTracksHost;
  /** The published tracks by `source:index`. */
  readonly byKey = new Map<string, { info: LocalTrack; producer: types.Producer }>();
  /** Local tracks to publish again after a rejoin (kept across failed attempts; the room owns them). */
  readonly republish: LocalTrack[] = [];

  constructor(host: LocalTracksHost) {
    this.#h = host;
  }

  get(source: MediaSource, index: number) {
    return this.byKey.get(PRODUCER_KEY(source, index));
  }

  async produce(track: MediaStreamTrack, source: MediaSource, index: number, paused: boolean): Promise<LocalTrack> {
    const h = this.#h;
    if (h.closed()) throw new MoimError('NOT_IN_ROOM', 'the room is closed');
    const key = PRODUCER_KEY(source, index);
    const existing = this.byKey.get(key);
    if (existing && !existing.producer.closed) {
      if (existing.info.track === track) return existing.info;
      throw new MoimError('CONFLICT', `${source} ${index} is already published; unpublish it or switch devices`);
    }
    const transport = await h.sendTransport();
    const profile = h.profile();
    const video = track.kind === 'video';
    const encodings = video
      ? toSendEncodings(source === 'screen' ? profile.screenEncodings : profile.cameraEncodings)
      : undefined;
    const codecOptions: types.ProducerCodecOptions = video
      ? { videoGoogleStartBitrate: 1000 }
      : { opusStereo: profile.stereoAudio, opusFec: true, opusDtx: !profile.stereoAudio };
    const producer = await transport.produce({
      track,
      ...(encodings ? { encodings } : {}),
      codecOptions,
      // the room owns the tracks: a rebuilt transport publishes the same track again
      stopTracks: false,
      appData: { source, index, paused },
    });
    if (paused) producer.pause();
    const info: LocalTrack = {
      source,
      index,
      track,
      producerId: producer.id,
      paused,
      encodings: (encodings ?? []).map((e) => ({ ...e })),
    };
    this.byKey.set(key, { info, producer });
    this.#watchEnded(info);
    if (video && h.stallCheckMs > 0)
      watchStall(producer, h.stallCheckMs, h.closed, h.log, () => h.emitter.safeEmit('localTrackStalled', info));
    h.emitter.safeEmit('localTrack', info);
    return info;
  }

  /** Stop publishing a source (the track is stopped). */
  async unpublish(source: MediaSource, index: number): Promise<void> {
    const l = this.byKey.get(PRODUCER_KEY(source, index));
    if (!l) return;
    this.byKey.delete(PRODUCER_KEY(source, index));
    l.producer.close();
    l.info.track.stop();
    this.#h.emitter.safeEmit('localTrackEnded', l.info);
    await this.#h.client.request('media:closeProducer', { roomId: this.#h.roomId, producerId: l.info.producerId });
  }

  async setPaused(source: MediaSource, paused: boolean, index: number): Promise<void> {
    const l = this.byKey.get(PRODUCER_KEY(source, index));
    if (!l || l.info.paused === paused) return;
    if (paused) l.producer.pause();
    else l.producer.resume();
    l.info.paused = paused;
    await this.#h.client.request(paused ? 'media:pauseProducer' : 'media:resumeProducer', {
      roomId: this.#h.roomId,
      producerId: l.info.producerId,
    });
    if (paused) this.#h.emitter.safeEmit('localTrackPaused', { ...l.info, byModerator: false });
    else this.#h.emitter.safeEmit('localTrackResumed', l.info);
  }

  async switchDevice(source: 'camera' | 'mic', deviceId: string, index: number): Promise<void> {
    const l = this.byKey.get(PRODUCER_KEY(source, index));
    if (!l) throw new MoimError('NOT_FOUND', `nothing published for ${source} ${index}`);
    const track = await captureDevice(this.#h.profile(), source, deviceId);
    const old = l.info.track;
    await l.producer.replaceTrack({ track });
    l.info.track = track;
    this.#watchEnded(l.info);
    old.stop();
    this.#h.emitter.safeEmit('localTrack', l.info);
  }

  /** Publish the tracks a rejoin took down (one stays listed until it is published, for the next attempt). */
  async publishAgain(): Promise<void> {
    while (this.republish.length > 0) {
      const l = this.republish[0]!;
      if (l.track.readyState === 'ended') this.#h.emitter.safeEmit('localTrackEnded', l);
      else await this.produce(l.track, l.source, l.index, l.paused);
      this.republish.shift();
    }
  }

  /** After a resume: the tracks the server no longer produces are published again (`publishAgain`). */
  keepOnly(serverProducerIds: Set<string>): void {
    for (const [key, l] of [...this.byKey]) {
      if (serverProducerIds.has(l.info.producerId)) continue;
      this.byKey.delete(key);
      l.producer.close();
      this.republish.push({ ...l.info });
    }
  }

  /** Before a rebuild: every track is published again on the new transport. */
  takeAllDown(): void {
    this.republish.push(...[...this.byKey.values()].map((l) => ({ ...l.info })));
    this.byKey.clear();
  }

  /** The room closed: close the producers and stop every track. */
  closeAll(): void {
    for (const l of this.byKey.values()) {
      l.producer.close();
      l.info.track.stop();
    }
    this.byKey.clear();
    for (const l of this.republish.splice(0)) l.track.stop();
  }

  #watchEnded(info: LocalTrack): void {
    const track = info.track;
    track.addEventListener(
      'ended',
      () => {
        const l = this.byKey.get(PRODUCER_KEY(info.source, info.index));
        if (!l || l.info.track !== track || this.#h.closed()) return;
        void this.#h.unpublish(info.source, info.index).catch((error: unknown) =>
          // the producer is closed here already; the server's stays until the peer leaves
          this.#h.log.warn('unpublishing an ended track failed', { source: info.source, index: info.index, error }),
        );
      },
      { once: true },
    );
  }
}
