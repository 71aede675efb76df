import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import { normalizeAddress, type TrustedProxies } from './clientAddress.ts';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** At most one "refused" log line per this many ms (a flood must not flood the log too). */
const REFUSAL_LOG_INTERVAL_MS = 5_000;

/**
 * Bounds open sockets per client address (MOIM_MAX_SOCKETS_PER_ADDRESS). Direct clients are counted
 * when their TCP connection opens; connections from a trusted proxy are not (they carry many
 * clients), but each WebSocket upgraded through one counts under its forwarded address.
 */
export class SocketLimiter {
  readonly #open = new Map<string, number>();
  readonly #keyOf = new WeakMap<Duplex, string>();
  readonly #max: number;
  readonly #proxies: TrustedProxies;
  readonly #log: Logger;
  readonly #refused: Counter<'stage'>;
  /** One `close` listener for every counted socket (no closure per socket): `this` is the socket. */
  readonly #release: (this: Duplex) => void;
  #lastRefusalLog = 0;
  #refusedSinceLog = 0;

  constructor(opts: {
    http: HttpServer;
    proxies: TrustedProxies;
    maxPerAddress: number;
    log: Logger;
    metrics: Metrics;
  }) {
    this.#max = opts.maxPerAddress;
    this.#proxies = opts.proxies;
    this.#log = opts.log;
    const limiter = this;
    this.#release = function release(this: Duplex): void {
      limiter.#forget(this);
    };
    this.#refused = new Counter({
      name: 'moim_sockets_refused_total',
      help: 'Connections closed at once because their address had MOIM_MAX_SOCKETS_PER_ADDRESS open',
      labelNames: ['stage'],
      registers: [opts.metrics.registry],
    });
    const open = this.#open;
    new Gauge({
      name: 'moim_socket_addresses',
      help: 'Client addresses with at least one counted open socket',
      registers: [opts.metrics.registry],
      collect() {
        this.set(open.size);
      },
    });
    opts.http.on('connection', this.#onConnection);
  }

  #onConnection = (socket: Socket): void => {
    const address = normalizeAddress(socket.remoteAddress);
    if (this.#proxies.trusts(address)) return;
    if (!this.#take(socket, address)) {
      this.#refuse('connection', address);
      socket.destroy();
    }
  };

  /** Count a WebSocket upgraded through a trusted proxy; false when its client is at the bound. */
  admitUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    if (this.#keyOf.has(socket)) return true; // a direct connection, counted when it opened
    const address = this.#proxies.clientOf(req);
    if (this.#take(socket, address)) return true;
    this.#refuse('upgrade', address);
    return false;
  }

  #take(socket: Duplex, address: string): boolean {
    const n = this.#open.get(address) ?? 0;
    if (n >= this.#max) return false;
    this.#open.set(address, n + 1);
    this.#keyOf.set(socket, address);
    socket.once('close', this.#release);
    return true;
  }

  #forget(socket: Duplex): void {
    const address = this.#keyOf.get(socket);
    if (address === undefined) return;
    this.#keyOf.delete(socket);
    const n = (this.#open.get(address) ?? 1) - 1;
    if (n <= 0) this.#open.delete(address);
    else this.#open.set(address, n);
  }

  #refuse(stage: 'connection' | 'upgrade', address: string): void {
    this.#refused.inc({ stage });
    this.#refusedSinceLog++;
    const now = Date.now();
    if (now - this.#lastRefusalLog < REFUSAL_LOG_INTERVAL_MS) return;
    this.#log.warn(
      { address, stage, refused: this.#refusedSinceLog, max: this.#max },
      'too many open sockets from one address; refusing',
    );
    this.#lastRefusalLog = now;
    this.#refusedSinceLog = 0;
  }
}

/**
 * The one `upgrade` listener of the HTTP server. Each path prefix has a handler (socket.io's own
 * listener is adopted as the handler of its prefix); an upgrade nobody claims is answered 404 and
 * its socket destroyed (it would otherwise stay open forever), and nothing a handler throws escapes
 * (an exception in an `upgrade` listener would end the process).
 */
export class UpgradeRouter {
  readonly #routes: Array<{ prefix: string; handler: UpgradeHandler }> = [];
  readonly #http: HttpServer;
  readonly #log: Logger;
  readonly #limiter: SocketLimiter;
  readonly #admit: ((req: IncomingMessage) => boolean) | undefined;
  readonly #unclaimed: Counter;
  /** Upgrade listeners that were on the server before the router (socket.io's), until `adopt` takes them. */
  readonly #adopted: UpgradeHandler[];

  constructor(opts: {
    http: HttpServer;
    log: Logger;
    limiter: SocketLimiter;
    metrics: Metrics;
    /** The origin allow-list (http/security.ts): a foreign page's upgrade is answered 403. */
    admit?: (req: IncomingMessage) => boolean;
  }) {
    this.#http = opts.http;
    this.#admit = opts.admit;
    this.#log = opts.log;
    this.#limiter = opts.limiter;
    this.#unclaimed = new Counter({
      name: 'moim_upgrades_unclaimed_total',
      help: 'WebSocket upgrade requests to paths no endpoint serves (answered 404)',
      registers: [opts.metrics.registry],
    });
    // listeners attached before this router existed (socket.io's engine) are adopted by `adopt`
    this.#adopted = opts.http.listeners('upgrade') as UpgradeHandler[];
    opts.http.removeAllListeners('upgrade');
    opts.http.on('upgrade', this.#onUpgrade);
  }

  /**
   * Give `prefix` to the upgrade listeners that were on the server before the router (socket.io,
   * created with `destroyUpgrade: false`, ignores other paths and answers its own).
   */
  adopt(prefix: string): this {
    const listeners = this.#adopted.splice(0);
    const http = this.#http;
    return this.add(prefix, (req, socket, head) => {
      for (const l of listeners) l.call(http, req, socket, head);
    });
  }

  add(prefix: string, handler: UpgradeHandler): this {
    this.#routes.push({ prefix, handler });
    return this;
  }

  #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? '';
    const route = this.#routes.find((r) => url.startsWith(r.prefix));
    if (!route) {
      this.#unclaimed.inc();
      refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (this.#admit && !this.#admit(req)) {
      refuseUpgrade(socket, 403, 'Forbidden');
      return;
    }
    if (!this.#limiter.admitUpgrade(req, socket)) {
      refuseUpgrade(socket, 429, 'Too Many Requests');
      return;
    }
    try {
      route.handler(req, socket, head);
    } catch (err) {
      this.#log.error({ err, path: url.split('?')[0] }, 'upgrade handler failed');
      refuseUpgrade(socket, 500, 'Internal Server Error');
    }
  };

  close(): void {
    this.#http.off('upgrade', this.#onUpgrade);
  }
}

/** Answer a refused upgrade with a plain HTTP status and close the socket. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable && !socket.destroyed) {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  // a client that never reads must not keep the socket half-open
  setTimeout(() => socket.destroy(), 1_000).unref();
}
