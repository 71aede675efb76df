/**
 * What a joiner is told and how: the channel to one peer's client (`MediaChannel`), the join
 * answer, the room record as the wire shows it, and the hold that keeps a room's events from a
 * joiner until its join answer has gone out.
 */
import type { ConsumerInfo, JoinResponse, PeerInfo, RoomRecordInfo } from '@moim/protocol';
import type { IceServer, MediaRoom, Peer, PeerSignal } from '@moim/sfu';
import type { Principal } from '../auth/Principal.ts';
import type { RoomRecord } from '../storage/index.ts';

/** How the service reaches one peer's client (the gateway builds it from the socket). */
export interface MediaChannel {
  readonly connectionId: string;
  /**
   * The connection's principal now (a token refresh replaces it while a join awaits): a join that
   * finishes after a refresh is checked again with it.
   */
  principal(): Principal;
  emit(signal: PeerSignal): void;
  /** Send `media:newConsumer` and resolve once the client acknowledges it. */
  newConsumer(payload: ConsumerInfo & { roomId: string }, timeoutMs: number): Promise<void>;
}

/** The answer to `room:join`: the room, the router's capabilities, ICE servers, the tier profile, the others; on a resume, the peer's media. */
export function joinResponse(
  record: RoomRecord,
  room: MediaRoom,
  peer: Peer,
  opts: { resumed: boolean; iceServers: IceServer[] },
): JoinResponse {
  const p = room.profile;
  const peers: PeerInfo[] = room
    .peers()
    .filter((x) => x !== peer)
    .map((x) => x.info());
  return {
    room: recordInfo(record),
    peerId: peer.id,
    resumed: opts.resumed,
    routerRtpCapabilities: room.rtpCapabilities,
    iceServers: opts.iceServers,
    profile: {
      maxVideo: p.maxVideo,
      cameraEncodings: p.cameraEncodings,
      screenEncodings: p.screenEncodings,
      stereoAudio: p.stereoAudio,
      maxProducersPerSource: p.maxProducersPerSource,
      defaultPreferredLayers: p.defaultPreferredLayers,
    },
    peers,
    ...(opts.resumed
      ? {
          transports: peer.transportInfos(),
          producers: peer.producerInfos(),
          consumers: peer.consumerInfos(),
        }
      : {}),
  };
}

export function recordInfo(r: RoomRecord): RoomRecordInfo {
  return { roomId: r.id, tier: r.tier, name: r.name, ownerSub: r.ownerSub, docName: r.docName, createdAt: r.createdAt };
}

/**
 * A joining peer's channel that holds the room's events until its join answer has gone out, so a
 * client never hears of a room (a simultaneous joiner's `room:peerJoined`, a consumer) before it
 * has joined it. The gateway acknowledges from the continuation of `join()`, in microtasks that
 * run before any `setImmediate`; the held events follow in their order right after.
 */
export function holdUntilAnswered(channel: MediaChannel): { channel: MediaChannel; release: () => void } {
  let held: PeerSignal[] | undefined = [];
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    channel: {
      connectionId: channel.connectionId,
      principal: () => channel.principal(),
      emit: (signal) => {
        if (held) held.push(signal);
        else channel.emit(signal);
      },
      newConsumer: async (payload, timeoutMs) => {
        await opened;
        return channel.newConsumer(payload, timeoutMs);
      },
    },
    release: () =>
      setImmediate(() => {
        const signals = held ?? [];
        held = undefined;
        for (const signal of signals) channel.emit(signal);
        open();
      }),
  };
}
