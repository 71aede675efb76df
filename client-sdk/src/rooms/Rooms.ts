import type { PeerInfo, RequestInput, RoomRecordInfo } from '@moim/protocol';
import { TypedEmitter } from '@moim/protocol/client';
import type { Device } from 'mediasoup-client';
import type { MoimClient } from '../MoimClient.ts';
import { Room } from './Room.ts';
import type { NetworkPolicy } from './types.ts';

export type { NetworkPolicy } from './types.ts';

export interface RoomsOptions {
  /** Create the mediasoup-client Device. Default: `Device.factory()` (detects the browser). */
  createDevice?: () => Promise<Device>;
  /** How often each room emits `quality` (only while someone listens). 0 turns it off. @default 3000 */
  qualityIntervalMs?: number;
  /** Check this long after publishing a video track that frames reach its sender. 0 turns it off. @default 8000 */
  stallCheckMs?: number;
  /**
   * Attempts at rejoining a room after a reconnect or a dead media worker; when all fail the room
   * closes (`closed` with reason `rejoin failed`). @default 3
   */
  rejoinAttempts?: number;
  /** Wait before the second rejoin attempt, doubled for each further one. @default 1000 */
  rejoinDelayMs?: number;
  /**
   * Strict network (closed networks): media only through the TURN relay the server hands out
   * (`iceTransportPolicy: 'relay'`), never a direct path. Changeable later with
   * `rooms.setNetwork()`. @default false
   */
  strictNetwork?: boolean;
  /** Ask the SFU for TCP candidates only (networks that drop UDP but allow TCP to it). @default false */
  forceTcp?: boolean;
}

export interface RoomsEvents {
  joined: (room: Room) => void;
  left: (room: Room) => void;
}

/** Video rooms: create (where the grant allows), look up, join. Joined rooms are rejoined after a reconnect. */
export class Rooms extends TypedEmitter<RoomsEvents> {
  readonly #client: MoimClient;
  readonly #opts: RoomsOptions;
  readonly #joined = new Map<string, Room>();
  readonly #joining = new Map<string, Promise<Room>>();
  #network: NetworkPolicy;

  constructor(client: MoimClient, opts: RoomsOptions = {}) {
    super();
    this.#client = client;
    this.#opts = opts;
    this.#network = { strictNetwork: opts.strictNetwork ?? false, forceTcp: opts.forceTcp ?? false };
    client.addRestorer('rooms', async () => {
      for (const room of [...this.#joined.values()]) await room.restore();
    });
  }

  /** Create a room of a tier (needs the grant); the server picks its id and stores its tier. */
  create(input: RequestInput<'room:create'>): Promise<RoomRecordInfo> {
    return this.#client.request('room:create', input);
  }

  /** A room's stored record and who is in it. */
  info(roomId: string): Promise<RoomRecordInfo & { peers: PeerInfo[] }> {
    return this.#client.request('room:info', { roomId });
  }

  /** The network policy transports are created with. */
  get network(): NetworkPolicy {
    return { ...this.#network };
  }

  /**
   * Change the network policy (e.g. the user's "strict network" setting). It applies to transports
   * created from now on: rooms joined later, and rooms rebuilt after a reconnect.
   */
  setNetwork(policy: Partial<NetworkPolicy>): void {
    this.#network = { ...this.#network, ...policy };
  }

  /** Join a room with the tier the server stored for it. Joining a room already joined returns it. */
  join(roomId: string, opts: { displayName?: string } = {}): Promise<Room> {
    const existing = this.#joined.get(roomId);
    if (existing && !existing.closed) return Promise.resolve(existing);
    const pending = this.#joining.get(roomId);
    if (pending) return pending;
    const p = Room.join(
      {
        client: this.#client,
        createDevice: this.#opts.createDevice ?? defaultDevice,
        qualityIntervalMs: this.#opts.qualityIntervalMs ?? 3000,
        stallCheckMs: this.#opts.stallCheckMs ?? 8000,
        rejoinAttempts: this.#opts.rejoinAttempts ?? 3,
        rejoinDelayMs: this.#opts.rejoinDelayMs ?? 1000,
        network: () => this.network,
        onClosed: (room) => {
          if (this.#joined.get(room.roomId) !== room) return;
          this.#joined.delete(room.roomId);
          this.safeEmit('left', room);
        },
      },
      roomId,
      opts.displayName,
    ).then(
      (room) => {
        this.#joining.delete(roomId);
        this.#joined.set(roomId, room);
        this.safeEmit('joined', room);
        return room;
      },
      (err: unknown) => {
        this.#joining.delete(roomId);
        throw err;
      },
    );
    this.#joining.set(roomId, p);
    return p;
  }

  get(roomId: string): Room | undefined {
    return this.#joined.get(roomId);
  }

  get joined(): Room[] {
    return [...this.#joined.values()];
  }

  /** Leave every room. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#joined.values()].map((r) => r.leave()));
  }

  /** Close every room locally (the client is gone). */
  dispose(): void {
    for (const r of [...this.#joined.values()]) r.dispose();
  }
}

/** mediasoup-client is loaded on first join (apps that never join a room do not download it). */
async function defaultDevice(): Promise<Device> {
  const { Device } = await import('mediasoup-client');
  return Device.factory();
}
