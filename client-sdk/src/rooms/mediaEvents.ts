/**
 * The server's `media:*` events for one room, applied to its tracks: new and closed consumers,
 * paused and resumed producers (remote ones, and local ones a moderator paused or closed), active
 * speaker, audio levels, simulcast layers and scores. `Room` owns the maps these update.
 */
import type { ConsumerInfo } from '@moim/protocol';
import type { TypedEmitter } from '@moim/protocol/client';
import type { types } from 'mediasoup-client';
import type { MoimClient } from '../MoimClient.ts';
import type { RemoteTrack } from './RemoteTrack.ts';
import type { LocalTrack, RoomEvents } from './types.ts';

export interface MediaEventsHost {
  readonly client: MoimClient;
  readonly emitter: TypedEmitter<RoomEvents>;
  /** The event is for this room and the room is open. */
  mine(e: { roomId: string }): boolean;
  readonly local: Map<string, { info: LocalTrack; producer: types.Producer }>;
  readonly remote: Map<string, RemoteTrack>;
  dropRemote(consumerId: string): void;
  onNewConsumer(e: ConsumerInfo & { roomId: string }, ack: (ok: unknown) => void): Promise<void>;
}

/** Listen to the room's media events; returns the functions that stop listening. */
export function listenMediaEvents(h: MediaEventsHost): Array<() => void> {
  const { client: c, emitter, mine } = h;
  /** The remote track an event is about, when the event is this room's and the track known. */
  const remoteOf = (e: { roomId: string; consumerId: string }) => (mine(e) ? h.remote.get(e.consumerId) : undefined);
  return [
    c.onServer('media:newConsumer', (e, ack) => {
      if (!mine(e)) return;
      void h.onNewConsumer(e, ack);
    }),
    c.onServer('media:consumerClosed', (e) => {
      if (mine(e)) h.dropRemote(e.consumerId);
    }),
    c.onServer('media:producerPaused', (e) => {
      if (!mine(e)) return;
      if (e.consumerId) {
        const t = h.remote.get(e.consumerId);
        if (!t) return;
        t.producerPaused = true;
        emitter.safeEmit('trackPaused', t);
        return;
      }
      for (const l of h.local.values()) {
        if (l.info.producerId !== e.producerId) continue;
        l.producer.pause();
        l.info.paused = true;
        emitter.safeEmit('localTrackPaused', { ...l.info, byModerator: e.byModerator === true });
      }
    }),
    c.onServer('media:producerResumed', (e) => {
      if (!mine(e) || !e.consumerId) return;
      const t = h.remote.get(e.consumerId);
      if (!t) return;
      t.producerPaused = false;
      if (!t.paused) emitter.safeEmit('trackResumed', t);
    }),
    c.onServer('media:producerClosed', (e) => {
      if (!mine(e)) return;
      for (const [key, l] of h.local) {
        if (l.info.producerId !== e.producerId) continue;
        h.local.delete(key);
        l.producer.close();
        l.info.track.stop();
        emitter.safeEmit('localTrackEnded', l.info);
      }
    }),
    c.onServer('media:activeSpeaker', (e) => {
      if (mine(e)) emitter.safeEmit('activeSpeaker', { peerId: e.peerId, producerId: e.producerId });
    }),
    c.onServer('media:audioLevels', (e) => {
      if (mine(e)) emitter.safeEmit('audioLevels', e.levels);
    }),
    c.onServer('media:consumerLayersChanged', (e) => {
      const t = remoteOf(e);
      if (!t) return;
      t.spatialLayer = e.spatialLayer;
      t.temporalLayer = e.temporalLayer;
      emitter.safeEmit('layersChanged', t);
    }),
    c.onServer('media:consumerScore', (e) => {
      const t = remoteOf(e);
      if (!t) return;
      t.score = e.score;
      t.producerScore = e.producerScore;
    }),
  ];
}
