import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import {
  type Ack,
  type ClientToServerEvents,
  type ErrorBody,
  type InterServerEvents,
  MoimError,
  type RequestData,
  type RequestName,
  type ResponseData,
  requestSchemas,
  type ServerToClientEvents,
  type SocketData,
  SUPPORTED_PROTOCOL_VERSIONS,
  TypedEmitter,
} from '@moim/protocol';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { describeZodError } from '../http/HttpRouter.ts';
import type { Metrics } from '../http/Metrics.ts';
import { TokenBucket } from '../lib/RateLimiter.ts';

import type { Logger } from '../logger.ts';

export type MoimServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type MoimSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What a request handler knows about its caller. `principal` is re-read on every request (tokens can be refreshed). */
export interface Connection {
  readonly id: string;
  readonly deviceId: string;
  readonly socket: MoimSocket;
  principal: Principal;
  readonly log: Logger;
}

export type RequestHandler<N extends RequestName> = (
  data: RequestData<N>,
  conn: Connection,
) => Promise<ResponseData<N>>;
export type HandlerTable = { [N in RequestName]?: RequestHandler<N> };

export interface GatewayEvents {
  connect: (conn: Connection) => void;
  /** The socket is gone (`reason` from socket.io: `transport close`, `ping timeout`, `server namespace disconnect`…). */
  disconnect: (conn: Connection, reason: string) => void;
  /** Any accepted request (presence counts it as activity). */
  activity: (conn: Connection, event: RequestName) => void;
}

export interface GatewayOptions {
  httpServer: HttpServer;
  tokens: TokenService;
  metrics: Metrics;
  log: Logger;
  maxHttpBufferSize: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  /** A silent connection is dropped after about this long (socket.io ping interval + timeout). */
  heartbeatTimeoutMs: number;
}

/** Room every socket of a person joins, for pushes addressed to a person. */
export const personRoom = (sub: string): string => `person:${sub}`;

/**
 * The socket.io edge: authenticates the handshake, validates every inbound payload with its
 * @moim/protocol schema, rate-limits per connection, and calls the registered handler. No
 * business logic lives here. Handler errors become `{ error: { code, message } }` acks; nothing
 * thrown reaches socket.io.
 */
export class Gateway extends TypedEmitter<GatewayEvents> {
  readonly io: MoimServer;
  readonly #handlers: HandlerTable = {};
  readonly #connections = new Map<string, Connection>();
  readonly #opts: GatewayOptions;
  readonly #log: Logger;

  constructor(opts: GatewayOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.log;
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'gateway listener failed');
    const pingInterval = Math.max(500, Math.floor(opts.heartbeatTimeoutMs * 0.6));
    this.io = new Server(opts.httpServer, {
      path: '/socket.io',
      transports: ['websocket', 'polling'],
      maxHttpBufferSize: opts.maxHttpBufferSize,
      pingInterval,
      pingTimeout: Math.max(500, opts.heartbeatTimeoutMs - pingInterval),
      // other WebSocket paths (/yjs) are handled by their own upgrade listener
      destroyUpgrade: false,
      serveClient: false,
      cors: { origin: false },
    });
    this.io.use((socket, next) => {
      try {
        this.#authenticate(socket);
        next();
      } catch (err) {
        const e = err instanceof MoimError ? err : new MoimError('INTERNAL', 'authentication failed');
        this.#opts.metrics.events.inc({ event: 'handshake', outcome: e.code });
        const refusal = new Error(e.message) as Error & { data: ErrorBody };
        refusal.data = e.toBody();
        next(refusal);
      }
    });
    this.io.on('connection', (socket) => this.#onConnection(socket));
  }

  /** Register handlers; a request name may have one handler. */
  register(table: HandlerTable): void {
    for (const [name, handler] of Object.entries(table)) {
      if (this.#handlers[name as RequestName]) throw new Error(`handler for ${name} registered twice`);
      (this.#handlers as Record<string, unknown>)[name] = handler;
    }
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  connections(): IterableIterator<Connection> {
    return this.#connections.values();
  }

  #authenticate(socket: MoimSocket): void {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const protocol = auth.protocol;
    if (typeof protocol !== 'number' || !SUPPORTED_PROTOCOL_VERSIONS.includes(protocol)) {
      throw new MoimError(
        'PROTOCOL_MISMATCH',
        `protocol ${String(protocol)} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
      );
    }
    const token = this.#opts.tokens.verify(auth.token);
    const deviceId =
      typeof auth.deviceId === 'string' && /^[\w-]{1,64}$/.test(auth.deviceId) ? auth.deviceId : randomUUID();
    socket.data = { sub: token.sub, connectionId: randomUUID(), deviceId, protocol };
    (socket as unknown as { [PRINCIPAL]: Principal })[PRINCIPAL] = new Principal(token);
  }

  #onConnection(socket: MoimSocket): void {
    const principal = (socket as unknown as { [PRINCIPAL]: Principal })[PRINCIPAL];
    const conn: Connection = {
      id: socket.data.connectionId,
      deviceId: socket.data.deviceId,
      socket,
      principal,
      log: this.#log.child({ conn: socket.data.connectionId, sub: principal.sub }),
    };
    this.#connections.set(conn.id, conn);
    this.#opts.metrics.connections.inc();
    void socket.join(personRoom(principal.sub));
    const bucket = new TokenBucket(this.#opts.rateLimitPerSec, this.#opts.rateLimitBurst);
    socket.onAny((event: string, ...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (r: Ack<unknown>) => void) : undefined;
      void this.#dispatch(conn, bucket, event, args[0], ack);
    });
    socket.on('disconnect', (reason) => {
      this.#connections.delete(conn.id);
      this.#opts.metrics.connections.dec();
      this.safeEmit('disconnect', conn, reason);
    });
    this.safeEmit('connect', conn);
  }

  async #dispatch(
    conn: Connection,
    bucket: TokenBucket,
    event: string,
    payload: unknown,
    ack: ((r: Ack<unknown>) => void) | undefined,
  ): Promise<void> {
    const started = performance.now();
    const reply = (response: Ack<unknown>, outcome: string) => {
      this.#opts.metrics.events.inc({ event: Object.hasOwn(requestSchemas, event) ? event : 'unknown', outcome });
      if (!ack) return;
      try {
        ack(response);
      } catch (err) {
        conn.log.warn({ err, event }, 'ack failed');
      }
    };
    const fail = (e: MoimError) => reply({ error: e.toBody() }, e.code);
    if (!bucket.take()) return fail(new MoimError('RATE_LIMITED', 'too many requests on this connection; slow down'));
    if (!Object.hasOwn(requestSchemas, event))
      return fail(new MoimError('UNKNOWN_EVENT', `unknown event ${JSON.stringify(event.slice(0, 64))}`));
    const name = event as RequestName;
    const handler = this.#handlers[name] as RequestHandler<RequestName> | undefined;
    if (!handler) return fail(new MoimError('UNKNOWN_EVENT', `${name} is not served by this server`));
    if (!conn.principal.valid && name !== 'system:auth')
      return fail(new MoimError('TOKEN_EXPIRED', 'token has expired; refresh it with system:auth'));
    const parsed = (requestSchemas[name] as z.ZodType).safeParse(payload);
    if (!parsed.success) return fail(new MoimError('INVALID_PAYLOAD', describeZodError(parsed.error)));
    try {
      const data = await handler(parsed.data as never, conn);
      reply({ data }, 'ok');
      this.safeEmit('activity', conn, name);
    } catch (err) {
      if (err instanceof MoimError) return fail(err);
      conn.log.error({ err, event: name }, 'handler failed');
      fail(new MoimError('INTERNAL', 'internal error'));
    } finally {
      this.#opts.metrics.eventSeconds.observe({ event: name }, (performance.now() - started) / 1000);
    }
  }

  /** Disconnect every socket and stop accepting new ones. */
  async close(): Promise<void> {
    for (const conn of this.#connections.values()) conn.socket.disconnect(true);
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
  }
}

const PRINCIPAL = Symbol('principal');
