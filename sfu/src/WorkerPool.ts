import { TypedEmitter } from '@moim/protocol';
import * as mediasoup from 'mediasoup';
import type {
  Router,
  TransportListenInfo,
  WebRtcServer,
  Worker,
  WorkerLogLevel,
  WorkerLogTag,
  WorkerResourceUsage,
} from 'mediasoup/types';
import { isBindFailure, PortInUseError } from './errors.ts';
import { routeMediasoupLogs, type SfuLogger } from './logging.ts';

/** One listen address of the media ports; `announcedAddress` is what clients are told (NAT, public IP). */
export interface ListenAddress {
  ip: string;
  announcedAddress?: string;
}

export interface WorkerPoolOptions {
  /** Workers to run (one per core). */
  workers: number;
  /** Addresses every worker's WebRtcServer listens on (one UDP and one TCP socket each). */
  listen: readonly ListenAddress[];
  /** Port of worker 0's WebRtcServer; worker i uses `port + i`. 0: any free port (tests). */
  port: number;
  log: SfuLogger;
  /** mediasoup worker log level. @default 'warn' */
  logLevel?: WorkerLogLevel;
  logTags?: WorkerLogTag[];
  /** Path of the worker binary. @default mediasoup's own (node_modules/mediasoup/worker/out/Release) */
  workerBin?: string;
  /** Delay before retrying a replacement worker that failed to start. @default 1000 */
  respawnDelayMs?: number;
}

/** A live worker with its WebRtcServer and load figures. */
export interface PoolWorker {
  readonly index: number;
  readonly worker: Worker;
  readonly webRtcServer: WebRtcServer;
  /** Consumers currently open on this worker's routers (including pipe consumers). */
  consumers: number;
  routers: number;
}

export interface WorkerPoolEvents {
  /** A worker died; `index` is its slot. Its routers are already closed. */
  workerDied: (info: { index: number; pid: number; error: Error }) => void;
  /** A replacement worker is up in slot `index`. */
  workerReplaced: (info: { index: number; pid: number }) => void;
}

/**
 * One mediasoup worker per core, each with a WebRtcServer (one UDP and one TCP port per listen
 * address, so a firewall needs only a few ports). A worker that dies is logged and replaced in
 * the same slot; the rooms on it see their routers close (`workerclose`) and close themselves.
 */
export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  readonly #opts: WorkerPoolOptions;
  readonly #log: SfuLogger;
  readonly #slots: Array<PoolWorker | undefined>;
  readonly #waiters = new Set<() => void>();
  #closed = false;
  #deaths = 0;

  private constructor(opts: WorkerPoolOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.log.child({ subsystem: 'sfu-pool' });
    this.#slots = new Array(opts.workers).fill(undefined);
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'pool listener failed');
  }

  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    if (opts.workers < 1) throw new Error('WorkerPool needs at least one worker');
    if (opts.listen.length === 0) throw new Error('WorkerPool needs at least one listen address');
    routeMediasoupLogs(opts.log, opts.logLevel === 'debug');
    const pool = new WorkerPool(opts);
    try {
      await Promise.all(pool.#slots.map((_, i) => pool.#start(i)));
    } catch (err) {
      pool.close();
      throw err;
    }
    pool.#log.info({ workers: opts.workers, version: mediasoup.version }, 'mediasoup workers started');
    return pool;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Workers that died since the pool started. */
  get deaths(): number {
    return this.#deaths;
  }

  /** The live workers. */
  workers(): PoolWorker[] {
    return this.#slots.filter((w): w is PoolWorker => w !== undefined);
  }

  /** Listen infos for plain/pipe transports on the first configured address. */
  plainListenInfo(): TransportListenInfo {
    const first = this.#opts.listen[0]!;
    return {
      protocol: 'udp',
      ip: first.ip,
      ...(first.announcedAddress ? { announcedAddress: first.announcedAddress } : {}),
    };
  }

  /**
   * The least-loaded live worker (fewest consumers, then fewest routers), skipping `exclude`
   * when another is available. Waits for a replacement when every worker is down.
   */
  async pick(exclude: ReadonlySet<number> = new Set()): Promise<PoolWorker> {
    for (;;) {
      if (this.#closed) throw new Error('worker pool is closed');
      const live = this.workers().filter((w) => !w.worker.closed);
      if (live.length > 0) {
        const preferred = live.filter((w) => !exclude.has(w.index));
        const candidates = preferred.length > 0 ? preferred : live;
        return candidates.reduce((a, b) =>
          b.consumers < a.consumers || (b.consumers === a.consumers && b.routers < a.routers) ? b : a,
        );
      }
      await new Promise<void>((resolve) => this.#waiters.add(resolve));
    }
  }

  /** The pool slot a router was created on. */
  slotOf(router: Router): PoolWorker | undefined {
    return this.workers().find((w) => w.index === (router.appData as { workerIndex?: number }).workerIndex);
  }

  /** Per-worker resource usage (CPU times in ms, max RSS in KiB, as reported by libuv). */
  async resourceUsage(): Promise<Array<{ index: number; pid: number; usage: WorkerResourceUsage }>> {
    const live = this.workers().filter((w) => !w.worker.closed);
    const results = await Promise.allSettled(
      live.map(async (w) => ({ index: w.index, pid: w.worker.pid, usage: await w.worker.getResourceUsage() })),
    );
    return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.workers()) w.worker.close();
    this.#slots.fill(undefined);
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    this.removeAllListeners();
  }

  async #start(index: number): Promise<PoolWorker> {
    const worker = await mediasoup.createWorker({
      logLevel: this.#opts.logLevel ?? 'warn',
      logTags: this.#opts.logTags ?? ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp', 'simulcast'],
      ...(this.#opts.workerBin ? { workerBin: this.#opts.workerBin } : {}),
      appData: { workerIndex: index },
    });
    if (this.#closed) {
      worker.close();
      throw new Error('worker pool is closed');
    }
    let webRtcServer: WebRtcServer;
    try {
      const port = this.#opts.port === 0 ? undefined : this.#opts.port + index;
      const listenInfos: TransportListenInfo[] = this.#opts.listen.flatMap((a) =>
        (['udp', 'tcp'] as const).map((protocol) => ({
          protocol,
          ip: a.ip,
          ...(a.announcedAddress ? { announcedAddress: a.announcedAddress } : {}),
          ...(port === undefined ? {} : { port }),
        })),
      );
      webRtcServer = await worker.createWebRtcServer({ listenInfos });
    } catch (err) {
      worker.close();
      const port = this.#opts.port === 0 ? undefined : this.#opts.port + index;
      if (port !== undefined && isBindFailure(err))
        throw new PortInUseError(port, this.#opts.listen.map((a) => a.ip).join(', '), { cause: err });
      throw err;
    }
    const slot: PoolWorker = { index, worker, webRtcServer, consumers: 0, routers: 0 };
    worker.observer.on('newrouter', (router) => {
      router.appData = { ...router.appData, workerIndex: index };
      slot.routers++;
      router.observer.once('close', () => slot.routers--);
      router.observer.on('newtransport', (transport) => {
        transport.observer.on('newconsumer', (consumer) => {
          slot.consumers++;
          consumer.observer.once('close', () => slot.consumers--);
        });
      });
    });
    worker.on('died', (error) => this.#onDied(slot, error));
    this.#slots[index] = slot;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    this.#log.debug({ worker: index, pid: worker.pid }, 'mediasoup worker started');
    return slot;
  }

  #onDied(slot: PoolWorker, error: Error): void {
    if (this.#closed) return;
    this.#deaths++;
    this.#log.error({ worker: slot.index, pid: slot.worker.pid, err: error }, 'mediasoup worker died; replacing it');
    if (this.#slots[slot.index] === slot) this.#slots[slot.index] = undefined;
    this.safeEmit('workerDied', { index: slot.index, pid: slot.worker.pid, error });
    void this.#respawn(slot.index);
  }

  async #respawn(index: number): Promise<void> {
    while (!this.#closed) {
      try {
        const slot = await this.#start(index);
        this.#log.info({ worker: index, pid: slot.worker.pid }, 'mediasoup worker replaced');
        this.safeEmit('workerReplaced', { index, pid: slot.worker.pid });
        return;
      } catch (err) {
        if (this.#closed) return;
        this.#log.error({ worker: index, err }, 'replacement worker failed to start; retrying');
        await new Promise((r) => setTimeout(r, this.#opts.respawnDelayMs ?? 1000));
      }
    }
  }
}
