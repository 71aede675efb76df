/**
 * Who speaks in a MediaRoom: the ActiveSpeakerObserver and AudioLevelObserver on the primary
 * router, and the `media:activeSpeaker` / `media:audioLevels` signals they turn into for every
 * peer. Producers carry their peer's id in `appData.peerId`.
 */
import type { ActiveSpeakerObserver, AudioLevelObserver, Producer, Router } from 'mediasoup/types';
import type { SfuLogger } from './logging.ts';
import type { PeerSignal } from './Peer.ts';

export interface SpeakerObservers {
  activeSpeaker: ActiveSpeakerObserver;
  audioLevel: AudioLevelObserver;
}

export async function createSpeakerObservers(router: Router, audioLevelIntervalMs: number): Promise<SpeakerObservers> {
  const activeSpeaker = await router.createActiveSpeakerObserver({ interval: 300 });
  const audioLevel = await router.createAudioLevelObserver({
    maxEntries: 5,
    threshold: -70,
    interval: audioLevelIntervalMs,
  });
  return { activeSpeaker, audioLevel };
}

/** Broadcast the dominant speaker and the audio levels of room `roomId`. */
export function reportSpeakers(
  observers: SpeakerObservers,
  roomId: string,
  broadcast: (signal: PeerSignal) => void,
): void {
  observers.activeSpeaker.on('dominantspeaker', ({ producer }) => {
    const peerId = (producer.appData as { peerId?: string }).peerId;
    if (peerId) broadcast({ event: 'media:activeSpeaker', payload: { roomId, peerId, producerId: producer.id } });
  });
  observers.audioLevel.on('volumes', (volumes) => {
    const levels = volumes.flatMap(({ producer, volume }) => {
      const peerId = (producer.appData as { peerId?: string }).peerId;
      return peerId ? [{ peerId, producerId: producer.id, volume }] : [];
    });
    broadcast({ event: 'media:audioLevels', payload: { roomId, levels } });
  });
  observers.audioLevel.on('silence', () => broadcast({ event: 'media:audioLevels', payload: { roomId, levels: [] } }));
}

/** Add an audio producer to both observers; the producer works without them (no speaker or level reports for it). */
export async function observeAudio(observers: SpeakerObservers, producer: Producer, log: SfuLogger): Promise<void> {
  const unobserved = (observer: string) => (err: unknown) =>
    log.warn({ err, producer: producer.id, observer }, 'could not observe audio producer');
  await observers.activeSpeaker.addProducer({ producerId: producer.id }).catch(unobserved('activeSpeaker'));
  await observers.audioLevel.addProducer({ producerId: producer.id }).catch(unobserved('audioLevel'));
}
