import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger.ts';
import type { DocService } from './DocService.ts';

export const YJS_PATH_PREFIX = '/yjs/';

/** Ping interval; a client that misses one pong is dropped (the stock provider reconnects). */
const PING_INTERVAL_MS = 30_000;

/**
 * The `/yjs/<docName>` WebSocket endpoint on the shared HTTP server (`ws` in noServer mode on the
 * `upgrade` event; socket.io was created with `destroyUpgrade: false`, so it leaves these alone).
 * Every upgrade is accepted and then checked by the DocService, which refuses with a close code.
 */
export class YjsEndpoint {
  readonly #wss: WebSocketServer;
  readonly #http: HttpServer;
  readonly #service: DocService;
  readonly #ping: NodeJS.Timeout;
  readonly #alive = new WeakSet<object>();

  constructor(opts: { http: HttpServer; service: DocService; log: Logger; maxMessageBytes: number }) {
    this.#http = opts.http;
    this.#service = opts.service;
    // messages a bit over the update limit are refused by the service with 4413 (a reason the
    // provider shows); far beyond it, ws drops the socket itself (1009) without buffering it
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxMessageBytes + 64 * 1024,
      perMessageDeflate: false,
      clientTracking: true,
    });
    this.#wss.on('error', (err) => opts.log.warn({ err }, 'yjs endpoint error'));
    opts.http.on('upgrade', this.#onUpgrade);
    this.#ping = setInterval(() => {
      for (const ws of this.#wss.clients) {
        if (!this.#alive.has(ws)) {
          ws.terminate();
          continue;
        }
        this.#alive.delete(ws);
        ws.ping();
      }
    }, PING_INTERVAL_MS);
    this.#ping.unref();
  }

  #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!req.url?.startsWith(YJS_PATH_PREFIX)) return;
    socket.on('error', () => socket.destroy());
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#alive.add(ws);
      ws.on('pong', () => this.#alive.add(ws));
      this.#service.accept(ws, req);
    });
  };

  close(): void {
    clearInterval(this.#ping);
    this.#http.off('upgrade', this.#onUpgrade);
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
