/**
 * Cascade (rooms spanning nodes): the SFU side. A participant served by another node is a *remote
 * peer* of the local MediaRoom — a Peer without transports whose producers are the pipe producers
 * its node sent here over a PipeTransport. Local peers consume them like any other producer, and
 * the room counts only its local peers when it decides it is empty. The cross-node set-up (who
 * pipes what where, over which messaging) is the server's (server/src/cluster/Cascade.ts).
 */
import type { MediaSource } from '@moim/protocol';
import type { Producer } from 'mediasoup/types';
import { type Peer, peerState } from './Peer.ts';

/** Remote peers → the node serving them. */
const remote = new WeakMap<Peer, string>();

/** Mark `peer` as a participant served by `node` (it has no transports here). */
export function markRemote(peer: Peer, node: string): void {
  remote.set(peer, node);
}

/** The node serving a remote peer, undefined for a local one. */
export function remoteNodeOf(peer: Peer): string | undefined {
  return remote.get(peer);
}

export function isRemotePeer(peer: Peer): boolean {
  return remote.has(peer);
}

/** Enter a piped-in producer in a remote peer's books (gone again when the producer closes). */
export function adoptProducerEntry(peer: Peer, producer: Producer, info: { source: MediaSource; index: number }): void {
  const producers = peerState(peer).producers;
  producers.set(producer.id, {
    producer,
    source: info.source,
    index: info.index,
    transportId: '',
    declaredBitrate: 0,
  });
  producer.observer.once('close', () => producers.delete(producer.id));
}
