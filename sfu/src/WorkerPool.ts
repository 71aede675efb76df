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
import { routeMediasoupLogs, type SfuLogger, type WarningDigest } from './logging.ts';

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
  /**
   * When `port + i` is taken, listen on any free ports instead of failing with PortInUseError
   * (development with no port configured: a second moim on the same machine). The ports chosen
   * are logged and listed by `rtcPorts()`; ICE candidates carry them. @default false
   */
  portFallback?: boolean;
  log: SfuLogger;
  /** mediasoup worker log level. @default 'warn' */
  logLevel?: WorkerLogLevel;
  logTags?: WorkerLogTag[];
  /** Path of the worker binary. @default mediasoup's own (node_modules/mediasoup/worker/out/Release) */
  workerBin?: string;
  /** Delay before retrying a replacement worker that failed to start. @default 1000 */
  respawnDelayMs?: number;
}

/** The ports a worker's WebRtcServer really listens on (what its ICE candidates announce). */
export interface RtcPorts {
  index: number;
  udp: number[];
  tcp: number[];
}

/** A live worker with its WebRtcServer and load figures. */
export interface PoolWorker {
  readonly index: number;
  readonly worker: Worker;
  readonly webRtcServer: WebRtcServer;
  /** The ports its WebRtcServer listens on. */
  readonly ports: RtcPorts;
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
  #warnings: WarningDigest | undefined;

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
    const digest = routeMediasoupLogs(opts.log, opts.logLevel === 'debug');
    const pool = new WorkerPool(opts);
    pool.#warnings = digest;
    try {
      await Promise.all(pool.#slots.map((_, i) => pool.#start(i)));
    } catch (err) {
      pool.close();
      throw err;
    }
    pool.#log.info(
      { workers: opts.workers, version: mediasoup.version, rtcPorts: pool.rtcPorts() },
      'mediasoup workers started',
    );
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

  /**
   * The workers' warnings of normal operation counted since the pool started, by cause
   * (BENIGN_WORKER_WARNINGS; mediasoup routes every worker's log through one process-wide
   * listener, so with several pools in a process only the last one created counts).
   */
  workerWarnings(): Record<string, number> {
    return this.#warnings?.totals() ?? Object.create(null);
  }

  /** The ports each live worker's WebRtcServer listens on. */
  rtcPorts(): RtcPorts[] {
    return this.workers().map((w) => w.ports);
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
    let fellBack = false;
    let webRtcServer: WebRtcServer;
    const wanted = this.#opts.port === 0 ? undefined : this.#opts.port + index;
    try {
      webRtcServer = await this.#createWebRtcServer(worker, wanted);
    } catch (err) {
      if (wanted === undefined || !isBindFailure(err)) {
        worker.close();
        throw err;
      }
      if (!this.#opts.portFallback) {
        worker.close();
        throw new PortInUseError(wanted, this.#opts.listen.map((a) => a.ip).join(', '), { cause: err });
      }
      try {
        webRtcServer = await this.#createWebRtcServer(worker, undefined);
      } catch (err2) {
        worker.close();
        throw err2;
      }
      fellBack = true;
    }
    const ports = await listeningPorts(index, webRtcServer).catch((err: unknown) => {
      worker.close();
      throw err;
    });
    if (fellBack)
      this.#log.info(
        { worker: index, wanted, udp: ports.udp, tcp: ports.tcp },
        `WebRTC port ${wanted} is taken (another moim on this machine?): worker ${index} listens on free ports instead (UDP ${ports.udp.join(', ')}, TCP ${ports.tcp.join(', ')}); set MOIM_RTC_PORT to fix the port`,
      );
    const slot: PoolWorker = { index, worker, webRtcServer, ports, consumers: 0, routers: 0 };
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

  /** One UDP and one TCP socket per listen address, on `port` (any free port when undefined). */
  #createWebRtcServer(worker: Worker, port: number | undefined): Promise<WebRtcServer> {
    const listenInfos: TransportListenInfo[] = this.#opts.listen.flatMap((a) =>
      (['udp', 'tcp'] as const).map((protocol) => ({
        protocol,
        ip: a.ip,
        ...(a.announcedAddress ? { announcedAddress: a.announcedAddress } : {}),
        ...(port === undefined ? {} : { port }),
      })),
    );
    return worker.createWebRtcServer({ listenInfos });
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

/** The ports a WebRtcServer listens on, from its dump. */
async function listeningPorts(index: number, server: WebRtcServer): Promise<RtcPorts> {
  const dump = await server.dump();
  return {
    index,
    udp: [...new Set(dump.udpSockets.map((s) => s.port))],
    tcp: [...new Set(dump.tcpServers.map((s) => s.port))],
  };
}
