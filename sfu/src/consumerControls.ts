/**
 * What a peer may change on one of its consumers once it exists: pause, preferred layers,
 * priority, a key frame request, and stats of any of its media objects. Each turns mediasoup's
 * errors into SfuErrors; MediaRoom checks first that the peer is still in the room.
 */
import type { Consumer } from 'mediasoup/types';
import { mediaCall, SfuError } from './errors.ts';
import type { Peer } from './Peer.ts';

export interface LayersRequest {
  spatialLayer: number;
  temporalLayer?: number | undefined;
}

export interface Layers {
  spatialLayer: number;
  temporalLayer: number | null;
}

export async function setPaused(consumer: Consumer, paused: boolean): Promise<void> {
  if (paused) await mediaCall(() => consumer.pause(), 'CONFLICT');
  else await mediaCall(() => consumer.resume(), 'CONFLICT');
}

export async function setPreferredLayers(consumer: Consumer, layers: LayersRequest): Promise<Layers> {
  if (consumer.type !== 'simulcast' && consumer.type !== 'svc')
    throw new SfuError('INVALID_PAYLOAD', 'only simulcast and SVC consumers have layers');
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

export async function setPriority(consumer: Consumer, priority: number): Promise<number> {
  await mediaCall(() => consumer.setPriority(priority), 'INVALID_PAYLOAD');
  return consumer.priority;
}

export async function requestKeyFrame(consumer: Consumer): Promise<void> {
  if (consumer.kind !== 'video') throw new SfuError('INVALID_PAYLOAD', 'key frames are for video consumers');
  await mediaCall(() => consumer.requestKeyFrame(), 'CONFLICT');
}

export function getStats(peer: Peer, type: 'transport' | 'producer' | 'consumer', id: string): Promise<unknown[]> {
  const target: { getStats(): Promise<unknown[]> } =
    type === 'transport'
      ? peer.transport(id).transport
      : type === 'producer'
        ? peer.producer(id).producer
        : peer.consumer(id).consumer;
  return mediaCall(() => target.getStats(), 'CONFLICT');
}
