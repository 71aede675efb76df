/**
 * Consumer creation for one MediaRoom: which producers a peer receives, on which router (piping
 * the producer there when needed), with the tier's default layers, and the events each consumer
 * forwards to its peer (producer closed, paused, resumed, score, layers). No duplicates: a
 * `peer producer` pair is consumed once even when several paths (new producer, new recv
 * transport, capabilities, explicit subscribe) race.
 */
import type { ConsumerInfo, MediaSource, TierProfile } from '@moim/protocol';
import type { Consumer, Producer } from 'mediasoup/types';
import { mediaCall, SfuError, type SfuErrorCode } from './errors.ts';
import type { SfuLogger } from './logging.ts';
import { type ConsumerEntry, type Peer, peerState } from './Peer.ts';
import type { RouterEntry, RouterSet } from './RouterSet.ts';

export class Consumers {
  readonly #roomId: string;
  readonly #profile: TierProfile;
  readonly #routers: RouterSet;
  readonly #log: SfuLogger;
  /** `peerId producerId` pairs whose consumer is being created (no duplicates from concurrent paths). */
  readonly #consuming = new Set<string>();

  constructor(opts: { roomId: string; profile: TierProfile; routers: RouterSet; log: SfuLogger }) {
    this.#roomId = opts.roomId;
    this.#profile = opts.profile;
    this.#routers = opts.routers;
    this.#log = opts.log;
  }

  /** Create a consumer of `producerId` for `peer` (explicit subscribe); refusals throw. */
  async subscribe(peer: Peer, producerId: string, peers: Iterable<Peer>): Promise<ConsumerInfo> {
    let owner: { peer: Peer; producer: Producer } | undefined;
    for (const other of peers) {
      const p = other.producers.get(producerId);
      if (p) {
        owner = { peer: other, producer: p.producer };
        break;
      }
    }
    if (!owner) throw new SfuError('NOT_FOUND', 'no such producer in this room');
    if (owner.peer === peer) throw new SfuError('CANNOT_CONSUME', 'cannot consume your own producer');
    const consumer = await this.consume(peer, owner.peer, owner.producer, { explicit: true });
    return peer.consumerInfo(consumer!.id);
  }

  /** Consume, for `peer`, every producer of `peers` it does not consume yet. Returns how many were created. */
  async consumeAllFor(peer: Peer, peers: Iterable<Peer>): Promise<number> {
    if (!peer.rtpCapabilities || !peer.recvTransport()) return 0;
    let created = 0;
    for (const other of peers) {
      if (other === peer) continue;
      for (const p of other.producers.values()) {
        if ([...peer.consumers.values()].some((c) => c.consumer.producerId === p.producer.id)) continue;
        if (await this.consumeSafe(peer, other, p.producer)) created++;
      }
    }
    return created;
  }

  /** Consume when possible; a failure is logged, not thrown. */
  async consumeSafe(peer: Peer, owner: Peer, producer: Producer): Promise<boolean> {
    try {
      return (await this.consume(peer, owner, producer, { explicit: false })) !== undefined;
    } catch (err) {
      this.#log.warn({ err, peer: peer.id, producer: producer.id }, 'could not create consumer');
      return false;
    }
  }

  /** `explicit`: a refusal throws; otherwise it returns undefined. */
  async consume(
    peer: Peer,
    owner: Peer,
    producer: Producer,
    opts: { explicit: boolean },
  ): Promise<Consumer | undefined> {
    const fail = (code: SfuErrorCode, message: string): undefined => {
      if (opts.explicit) throw new SfuError(code, message);
      return undefined;
    };
    if (peer.closed || producer.closed) return fail('NOT_FOUND', 'the producer is gone');
    const key = `${peer.id} ${producer.id}`;
    if (this.#consuming.has(key) || [...peer.consumers.values()].some((c) => c.consumer.producerId === producer.id))
      return fail('CONFLICT', 'already consuming this producer');
    this.#consuming.add(key);
    try {
      return await this.#consumeOn(peer, owner, producer, fail);
    } finally {
      this.#consuming.delete(key);
    }
  }

  async #consumeOn(
    peer: Peer,
    owner: Peer,
    producer: Producer,
    fail: (code: SfuErrorCode, message: string) => undefined,
  ): Promise<Consumer | undefined> {
    const caps = peer.rtpCapabilities;
    if (!caps) return fail('CANNOT_CONSUME', 'send media:setCapabilities first');
    const recv = peer.recvTransport();
    if (!recv) return fail('CANNOT_CONSUME', 'create a recv transport first');
    const entry = this.#routers.entryOf(recv.router);
    if (!entry) return fail('NOT_FOUND', 'the transport is gone');
    await this.#routers.ensurePiped(entry, producer.id);
    if (!entry.router.canConsume({ producerId: producer.id, rtpCapabilities: caps }))
      return fail('CANNOT_CONSUME', 'your device cannot receive this producer');
    const { source, index } = owner.producers.get(producer.id) ?? { source: 'camera' as MediaSource, index: 0 };
    const layered = producer.kind === 'video' && producer.type !== 'simple';
    const consumer = await mediaCall(
      () =>
        recv.transport.consume({
          producerId: producer.id,
          rtpCapabilities: caps,
          paused: true,
          enableRtx: true,
          ignoreDtx: true,
          ...(layered ? { preferredLayers: this.#profile.defaultPreferredLayers } : {}),
          appData: { peerId: peer.id, producerPeerId: owner.id },
        }),
      'CANNOT_CONSUME',
    );
    if (peer.closed || peer.rtpCapabilities === undefined) {
      // the peer left, or stopped receiving (stopSubscribing), while the consumer was being made
      consumer.close();
      return peer.closed ? fail('NOT_IN_ROOM', 'the peer left') : fail('CANNOT_CONSUME', 'receiving was stopped');
    }
    entry.consumers++;
    const c: ConsumerEntry = { consumer, producerPeerId: owner.id, source, index };
    peerState(peer).consumers.set(consumer.id, c);
    this.#wire(peer, consumer, entry);
    peer.safeEmit('newConsumer', { roomId: this.#roomId, ...peer.consumerInfo(consumer.id) });
    return consumer;
  }

  #wire(peer: Peer, consumer: Consumer, entry: RouterEntry): void {
    const roomId = this.#roomId;
    const consumerId = consumer.id;
    const producerId = consumer.producerId;
    const consumers = peerState(peer).consumers;
    consumer.observer.once('close', () => {
      entry.consumers--;
      consumers.delete(consumerId);
    });
    consumer.on('producerclose', () => {
      consumers.delete(consumerId);
      peer.signal({ event: 'media:consumerClosed', payload: { roomId, consumerId, producerId } });
    });
    consumer.on('producerpause', () =>
      peer.signal({ event: 'media:producerPaused', payload: { roomId, producerId, consumerId } }),
    );
    consumer.on('producerresume', () =>
      peer.signal({ event: 'media:producerResumed', payload: { roomId, producerId, consumerId } }),
    );
    consumer.on('score', (s) =>
      peer.signal({
        event: 'media:consumerScore',
        payload: { roomId, consumerId, score: s.score, producerScore: s.producerScore },
      }),
    );
    consumer.on('layerschange', (layers) =>
      peer.signal({
        event: 'media:consumerLayersChanged',
        payload: {
          roomId,
          consumerId,
          spatialLayer: layers?.spatialLayer ?? null,
          temporalLayer: layers?.temporalLayer ?? null,
        },
      }),
    );
  }
}
