/**
 * The SFU rooms live on this node, by room id: opened at a room's first join (once, however many
 * join at the same moment), closed when their last peer left, forgotten when they close. Room records are MediaService's; this
 * only holds the running MediaRooms. A `Map`, so ids such as `__proto__` find nothing.
 */
import { MoimError, type RoomCloseReason } from '@moim/protocol';
import { isRemotePeer, MediaRoom, type MediaRoomOptions, type Peer } from '@moim/sfu';
import type { Logger } from '../logger.ts';
import type { RoomRecord } from '../storage/index.ts';

export interface LiveRoomsOptions {
  log: Logger;
  /** Options of every room opened (its id and tier come from the record). */
  room: Omit<MediaRoomOptions, 'id' | 'tier' | 'log'>;
  /** A peer left one of the rooms (any reason; `closing`: the room closed, with this reason). */
  onPeerLeft: (peer: Peer, closing: RoomCloseReason | undefined) => void;
  /** A room closed (its last peer left, a moderator, the node closing). */
  onRoomClosed?: (roomId: string, reason: RoomCloseReason) => void;
}

export class LiveRooms {
  readonly #opts: LiveRoomsOptions;
  readonly #live = new Map<string, MediaRoom>();
  readonly #opening = new Map<string, Promise<MediaRoom>>();

  constructor(opts: LiveRoomsOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#live.size;
  }

  get(roomId: string): MediaRoom | undefined {
    return this.#live.get(roomId);
  }

  all(): MediaRoom[] {
    return [...this.#live.values()];
  }

  /** The live room of `record`, opened on the least-loaded worker if none is; UNAVAILABLE if none can host it. */
  async open(record: RoomRecord): Promise<MediaRoom> {
    const live = this.#live.get(record.id);
    if (live && !live.closed) return live;
    let opening = this.#opening.get(record.id);
    if (!opening) {
      opening = MediaRoom.create({ ...this.#opts.room, id: record.id, tier: record.tier, log: this.#opts.log }).then(
        (room) => {
          this.#live.set(record.id, room);
          room.on('peerLeft', (peer) => {
            this.#opts.onPeerLeft(peer, room.closeReason);
            // an empty room gives its routers back (a cluster also releases its home); the next join opens it again;
            // participants of other nodes (cascade) do not keep it open here
            if (!room.closed && room.peers().every(isRemotePeer)) room.close('ROOM_CLOSED');
          });
          room.on('close', (reason: RoomCloseReason) => {
            if (this.#live.get(record.id) === room) this.#live.delete(record.id);
            this.#opts.log.info({ room: record.id, reason }, 'live room closed');
            this.#opts.onRoomClosed?.(record.id, reason);
          });
          return room;
        },
      );
      this.#opening.set(record.id, opening);
      // a failure reaches every awaiting joiner (and is logged below); this only forgets the attempt
      const forget = () => this.#opening.delete(record.id);
      opening.then(forget, forget);
    }
    try {
      return await opening;
    } catch (err) {
      this.#opts.log.error({ err, room: record.id }, 'could not open media room');
      throw new MoimError('UNAVAILABLE', 'no media worker could host this room', { cause: err });
    }
  }
}
