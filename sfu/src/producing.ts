/**
 * Creating one producer for a peer of a MediaRoom: the request's transport and source, the
 * tier's limits (tierRules.ts), the bitrate declared on the transport, then mediasoup's
 * `produce` and the peer's books. MediaRoom serialises the calls and tells the other peers.
 */
import type { MediaSource, Tier, TierProfile } from '@moim/protocol';
import type { MediaKind, Producer, RtpParameters } from 'mediasoup/types';
import { mediaCall, SfuError } from './errors.ts';
import { type Peer, peerState } from './Peer.ts';
import { assertAllowed, checkProduce, checkTransportBitrate, declaredBitrate, SOURCE_KIND } from './tierRules.ts';

export interface ProducerRequest {
  transportId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  source: MediaSource;
  index: number;
  paused: boolean;
}

export async function createProducer(
  peer: Peer,
  req: ProducerRequest,
  room: { profile: TierProfile; tier: Tier; roomVideoProducers: number },
): Promise<Producer> {
  const t = peer.transport(req.transportId);
  if (t.direction !== 'send') throw new SfuError('INVALID_PAYLOAD', 'produce needs a send transport');
  if (SOURCE_KIND[req.source] !== req.kind)
    throw new SfuError('INVALID_PAYLOAD', `source ${req.source} is ${SOURCE_KIND[req.source]}, not ${req.kind}`);
  const ctx = { peerProducers: [...peer.producers.values()], roomVideoProducers: room.roomVideoProducers };
  assertAllowed(checkProduce(room.profile, room.tier, ctx, req));
  const declared = declaredBitrate(req.rtpParameters);
  let onTransport = declared;
  for (const p of peer.producers.values()) if (p.transportId === req.transportId) onTransport += p.declaredBitrate;
  assertAllowed(checkTransportBitrate(room.profile, onTransport));
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
    throw new SfuError('NOT_IN_ROOM', 'the peer left');
  }
  const producers = peerState(peer).producers;
  producers.set(producer.id, {
    producer,
    source: req.source,
    index: req.index,
    transportId: req.transportId,
    declaredBitrate: declared,
  });
  producer.observer.once('close', () => producers.delete(producer.id));
  return producer;
}
