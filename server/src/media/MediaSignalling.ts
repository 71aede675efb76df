/**
 * Media signalling of a joined peer: transports, producers, consumers, layers and stats. Each
 * request re-checks the caller's grants (`join`, plus `publish` or `subscribe` as the request
 * needs), finds the caller's peer in the live room and hands the call to the SFU's MediaRoom.
 * Room records, joins and moderation are MediaService's; this file only relays.
 */
import type { IceServerInfo, RequestData, RequestName, RoomGrant } from '@moim/protocol';
import type { MediaRoom, Peer } from '@moim/sfu';
import type { RtpCapabilities, RtpParameters } from 'mediasoup/types';
import type { Principal } from '../auth/Principal.ts';

type Data<N extends RequestName> = RequestData<N>;

/**
 * Check grants (every request) and find the caller's peer in the room (NOT_IN_ROOM if it has
 * none). `caller` of the answer: the caller with the grants the server gave the peer in the room.
 */
export type PeerResolver = (
  caller: Principal,
  connectionId: string,
  roomId: string,
  grants: RoomGrant[],
) => { room: MediaRoom; peer: Peer; caller: Principal };

function requireDirection(caller: Principal, roomId: string, direction: 'send' | 'recv'): void {
  caller.requireRoom(roomId, direction === 'send' ? 'publish' : 'subscribe');
}

export class MediaSignalling {
  readonly #ctx: PeerResolver;
  readonly #iceServers: (org: string, sub: string) => IceServerInfo[];

  /** `iceServers`: a person's ICE servers with freshly minted TURN credentials. */
  constructor(resolve: PeerResolver, iceServers: (org: string, sub: string) => IceServerInfo[] = () => []) {
    this.#ctx = resolve;
    this.#iceServers = iceServers;
  }

  async createTransport(caller: Principal, connectionId: string, d: Data<'media:createTransport'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, [
      d.direction === 'send' ? 'publish' : 'subscribe',
    ]);
    return room.createTransport(peer, {
      direction: d.direction,
      kind: d.kind,
      forceTcp: d.forceTcp,
      srtp: d.srtp,
      srtpCryptoSuite: d.srtpCryptoSuite,
    });
  }

  async connectTransport(caller: Principal, connectionId: string, d: Data<'media:connectTransport'>) {
    const { room, peer, caller: granted } = this.#ctx(caller, connectionId, d.roomId, []);
    requireDirection(granted, d.roomId, peer.transport(d.transportId).direction);
    await room.connectTransport(peer, d.transportId, d);
    return { connected: true };
  }

  async restartIce(caller: Principal, connectionId: string, d: Data<'media:restartIce'>) {
    const { room, peer, caller: granted } = this.#ctx(caller, connectionId, d.roomId, []);
    requireDirection(granted, d.roomId, peer.transport(d.transportId).direction);
    // fresh TURN credentials with the new ICE parameters: the ones handed out at join may have expired
    return {
      iceParameters: await room.restartIce(peer, d.transportId),
      iceServers: this.#iceServers(caller.token.org, caller.sub),
    };
  }

  async setCapabilities(caller: Principal, connectionId: string, d: Data<'media:setCapabilities'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['subscribe']);
    return { consumers: await room.setCapabilities(peer, d.rtpCapabilities as RtpCapabilities) };
  }

  async produce(caller: Principal, connectionId: string, d: Data<'media:produce'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['publish']);
    const producerId = await room.produce(peer, {
      transportId: d.transportId,
      kind: d.kind,
      rtpParameters: d.rtpParameters as RtpParameters,
      source: d.source,
      index: d.index,
      paused: d.paused,
    });
    return { producerId };
  }

  async closeProducer(caller: Principal, connectionId: string, d: Data<'media:closeProducer'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['publish']);
    room.closeProducer(peer, d.producerId);
    return { closed: true };
  }

  async setProducerPaused(caller: Principal, connectionId: string, d: Data<'media:pauseProducer'>, paused: boolean) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['publish']);
    await room.setProducerPaused(peer, d.producerId, paused);
    return { paused };
  }

  async consume(caller: Principal, connectionId: string, d: Data<'media:consume'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['subscribe']);
    return room.consume(peer, d.producerId);
  }

  async closeConsumer(caller: Principal, connectionId: string, d: Data<'media:closeConsumer'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['subscribe']);
    room.closeConsumer(peer, d.consumerId);
    return { closed: true };
  }

  async setConsumerPaused(caller: Principal, connectionId: string, d: Data<'media:pauseConsumer'>, paused: boolean) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['subscribe']);
    await room.setConsumerPaused(peer, d.consumerId, paused);
    return { paused };
  }

  async setPreferredLayers(caller: Principal, connectionId: string, d: Data<'media:setPreferredLayers'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['subscribe']);
    return room.setPreferredLayers(peer, d.consumerId, d);
  }

  async setPriority(caller: Principal, connectionId: string, d: Data<'media:setPriority'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['subscribe']);
    return { priority: await room.setPriority(peer, d.consumerId, d.priority) };
  }

  async requestKeyFrame(caller: Principal, connectionId: string, d: Data<'media:requestKeyFrame'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, ['subscribe']);
    await room.requestKeyFrame(peer, d.consumerId);
    return { requested: true };
  }

  async getStats(caller: Principal, connectionId: string, d: Data<'media:getStats'>) {
    const { room, peer } = this.#ctx(caller, connectionId, d.roomId, []);
    return { stats: await room.getStats(peer, d.type, d.id) };
  }
}
