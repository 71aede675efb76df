/**
 * Taking media away from a peer: closing its producers (a moderator stopping its video, or its
 * publish right withdrawn) and its consumers (its subscribe right withdrawn). The peer is told
 * each closure; the other peers learn it from their consumers (`producerclose`).
 */
import { SfuError } from './errors.ts';
import { type Peer, type ProducerEntry, peerState } from './Peer.ts';

/** Close `entries` of `peer`, telling it `media:producerClosed` with `reason`. `videoOnly`: refuse a non-video one. */
export function closeProducers(
  peer: Peer,
  entries: readonly ProducerEntry[],
  roomId: string,
  reason: 'moderator' | 'revoked',
  videoOnly: boolean,
): string[] {
  const closed: string[] = [];
  for (const { producer } of entries) {
    if (videoOnly && producer.kind !== 'video') throw new SfuError('INVALID_PAYLOAD', 'not a video producer');
    producer.close();
    peer.signal({ event: 'media:producerClosed', payload: { roomId, producerId: producer.id, reason } });
    closed.push(producer.id);
  }
  return closed;
}

/** Close every consumer of `peer` (telling it `media:consumerClosed`) and forget its receive capabilities. */
export function closeConsumers(peer: Peer, roomId: string): string[] {
  peerState(peer).rtpCapabilities = undefined;
  const closed: string[] = [];
  for (const [consumerId, { consumer }] of [...peer.consumers]) {
    consumer.close();
    peer.signal({ event: 'media:consumerClosed', payload: { roomId, consumerId, producerId: consumer.producerId } });
    closed.push(consumerId);
  }
  return closed;
}
