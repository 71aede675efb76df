/**
 * The `/yjs/<docName>` WebSocket endpoint: upgrades handed over by the UpgradeRouter, the pings
 * that drop dead sockets, and handing each accepted socket to the DocService.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { UpgradeRouter } from '../http/Upgrades.ts';
import type { Logger } from '../logger.ts';
import type { DocService } from './DocService.ts';

export const YJS_PATH_PREFIX = '/yjs/';

function destroySelf(this: Duplex): void {
  this.destroy();
}

/** Ping interval; a client that misses one pong is dropped (the stock provider reconnects). */
const PING_INTERVAL_MS = 30_000;
/** Sockets pinged per event-loop turn. */
const PING_SLICE = 256;

/**
 * The `/yjs/<docName>` WebSocket endpoint on the shared HTTP server (`ws` in noServer mode, given
 * its prefix by the UpgradeRouter). Every upgrade is accepted and then checked by the DocService,
 * which refuses with a close code.
 */
export class YjsEndpoint {
  readonly #wss: WebSocketServer;
  readonly #service: DocService;
  readonly #ping: NodeJS.Timeout;
  /** Sockets that answered the last ping. */
  readonly #alive = new WeakSet<WebSocket>();
  #closed = false;
  /** The pong listener, shared by every socket (no closure per connection). */
  readonly #markAlive: (this: WebSocket) => void;

  constructor(opts: { upgrades: UpgradeRouter; service: DocService; log: Logger; maxMessageBytes: number }) {
    this.#service = opts.service;
    const alive = this.#alive;
    this.#markAlive = function (this: WebSocket) {
      alive.add(this);
    };
    // messages a bit over the update limit are refused by the service with 4413 (a reason the
    // provider shows); far beyond it, ws drops the socket itself (1009) without buffering it
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxMessageBytes + 64 * 1024,
      perMessageDeflate: false,
      // the DocService tracks its connections (no second Set and close listener per socket)
      clientTracking: false,
    });
    this.#wss.on('error', (err) => opts.log.warn({ err }, 'yjs endpoint error'));
    opts.upgrades.add(YJS_PATH_PREFIX, this.#onUpgrade);
    this.#ping = setInterval(() => {
      // in slices of PING_SLICE sockets, one per loop turn: pinging ten thousand sockets at once
      // would hold every edit waiting behind it
      const sockets = [...this.#service.sockets()];
      const slice = (from: number) => {
        if (this.#closed) return;
        const end = Math.min(sockets.length, from + PING_SLICE);
        for (let i = from; i < end; i++) {
          const ws = sockets[i] as WebSocket;
          if (ws.readyState !== ws.OPEN) continue;
          if (!alive.has(ws)) {
            ws.terminate();
            continue;
          }
          alive.delete(ws);
          ws.ping();
        }
        if (end < sockets.length) setImmediate(slice, end);
      };
      slice(0);
    }, PING_INTERVAL_MS);
    this.#ping.unref();
  }

  #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? YJS_PATH_PREFIX;
    socket.on('error', destroySelf);
    // the callback keeps only the URL string: no closure retains the request (memory per connection)
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      // from now on the WebSocket handles the socket's errors itself
      socket.off('error', destroySelf);
      this.#accepted(ws, url);
    });
  };

  #accepted(ws: WebSocket, url: string): void {
    this.#alive.add(ws);
    ws.on('pong', this.#markAlive);
    this.#service.accept(ws, url);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#ping);
    for (const ws of [...this.#service.sockets()]) ws.terminate();
    this.#wss.close();
  }
}
