/**
 * The routers of one MediaRoom: the primary router (producers live there) and, once the room
 * outgrows `consumersPerRouter`, routers on other workers fed from the primary through
 * pipeToRouter. Owns which router a recv transport goes to and which producers are piped where.
 */
import type { TierProfile } from '@moim/protocol';
import type { Router } from 'mediasoup/types';
import { routerMediaCodecs } from './codecs.ts';
import { SfuError } from './errors.ts';
import type { SfuLogger } from './logging.ts';
import type { PoolWorker, WorkerPool } from './WorkerPool.ts';

export interface RouterEntry {
  router: Router;
  slot: PoolWorker;
  /** Consumers currently on this router (excluding pipe consumers). */
  consumers: number;
  /** Producers piped into this router (producer id → pipe promise). */
  piped: Map<string, Promise<void>>;
}

export interface RouterSetOptions {
  roomId: string;
  profile: TierProfile;
  pool: WorkerPool;
  log: SfuLogger;
  consumersPerRouter: number;
  /** Whether the room closed (a router created meanwhile is closed again). */
  isClosed: () => boolean;
  /** A worker of one of the routers died. */
  onWorkerDied: (workerIndex: number) => void;
  /**
   * A worker of one of the routers was closed on purpose: shutting down (mediasoup closes its
   * workers itself on SIGINT/SIGTERM, before the server closes its rooms) or the pool closed.
   */
  onWorkerClosed: (workerIndex: number) => void;
}

/** Create a router of room `roomId` on `slot`. */
export function createRoomRouter(slot: PoolWorker, roomId: string, profile: TierProfile): Promise<Router> {
  return slot.worker.createRouter({
    mediaCodecs: routerMediaCodecs(profile),
    appData: { roomId, workerIndex: slot.index },
  });
}

export class RouterSet {
  readonly #opts: RouterSetOptions;
  readonly #routers: RouterEntry[];
  #growing: Promise<RouterEntry> | undefined;

  constructor(opts: RouterSetOptions, primary: { router: Router; slot: PoolWorker }) {
    this.#opts = opts;
    const entry: RouterEntry = { ...primary, consumers: 0, piped: new Map() };
    this.#routers = [entry];
    this.#watch(entry);
  }

  get primary(): RouterEntry {
    return this.#routers[0]!;
  }

  get count(): number {
    return this.#routers.length;
  }

  get workerIndexes(): number[] {
    return this.#routers.map((r) => r.slot.index);
  }

  entryOf(router: Router): RouterEntry | undefined {
    return this.#routers.find((r) => r.router === router);
  }

  closeAll(): void {
    for (const r of this.#routers) r.router.close();
  }

  /** The router a new recv transport goes to: the first with room for consumers, else a new one on another worker. */
  async forConsumers(): Promise<RouterEntry> {
    const limit = this.#opts.consumersPerRouter;
    const free = this.#routers.find((r) => r.consumers < limit && !r.router.closed);
    if (free) return free;
    this.#growing ??= this.#grow().finally(() => {
      this.#growing = undefined;
    });
    return this.#growing;
  }

  /** Make `producerId` available on `entry`'s router (pipeToRouter from the primary, once). */
  async ensurePiped(entry: RouterEntry, producerId: string): Promise<void> {
    if (entry === this.primary) return;
    let p = entry.piped.get(producerId);
    if (!p) {
      p = this.primary.router
        .pipeToRouter({ producerId, router: entry.router, listenInfo: { protocol: 'udp', ip: '127.0.0.1' } })
        .then(({ pipeProducer }) => {
          pipeProducer?.observer.once('close', () => entry.piped.delete(producerId));
        });
      entry.piped.set(producerId, p);
      p.catch(() => entry.piped.delete(producerId));
    }
    await p;
  }

  async #grow(): Promise<RouterEntry> {
    const used = new Set(this.#routers.map((r) => r.slot.index));
    const slot = await this.#opts.pool.pick(used);
    if (used.has(slot.index)) {
      // Every worker already serves this room: spread over the least-loaded existing router.
      return this.#routers.reduce((a, b) => (b.consumers < a.consumers ? b : a));
    }
    const router = await createRoomRouter(slot, this.#opts.roomId, this.#opts.profile);
    if (this.#opts.isClosed()) {
      router.close();
      throw new SfuError('ROOM_CLOSED', 'the room is closed');
    }
    const entry: RouterEntry = { router, slot, consumers: 0, piped: new Map() };
    this.#routers.push(entry);
    this.#watch(entry);
    this.#opts.log.info({ worker: slot.index, routers: this.#routers.length }, 'room spread to another worker');
    return entry;
  }

  #watch(entry: RouterEntry): void {
    entry.router.on('workerclose', () =>
      entry.slot.worker.died ? this.#opts.onWorkerDied(entry.slot.index) : this.#opts.onWorkerClosed(entry.slot.index),
    );
  }
}
