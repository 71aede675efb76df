import { randomUUID } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import {
  type Ack,
  type ClientToServerEvents,
  type ErrorBody,
  type ErrorCode,
  type InterServerEvents,
  MoimError,
  ownValue,
  type RequestData,
  type RequestName,
  type ResponseData,
  requestSchemas,
  type ServerToClientEvents,
  type SocketData,
  SUPPORTED_PROTOCOL_VERSIONS,
  TypedEmitter,
} from '@moim/protocol';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import type { z } from 'zod';
import { Principal, personKey } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { payloadShapeProblem } from '../lib/payloadShape.ts';
import { TokenBucket } from '../lib/RateLimiter.ts';
import { type MoimServer, personRoom } from '../lib/rooms.ts';
import type { SharedPersonLimits } from '../lib/SharedPersonLimits.ts';
import { toWireError } from '../lib/wireErrors.ts';
import { describeZodError } from '../lib/zodError.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { ContentMark } from '../policy/ContentPolicy.ts';
import { heartbeatJitterMs, spreadHeartbeats } from './heartbeatSpread.ts';
import { PersonLimits } from './PersonLimits.ts';

export type { MoimServer } from '../lib/rooms.ts';
export { personRoom } from '../lib/rooms.ts';
export type MoimSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * What a request handler knows about its caller. `principal` is re-read on every request: a token
 * refresh replaces it (only through `Gateway.reauthenticate`, which emits `reauth`).
 */
export interface Connection {
  readonly id: string;
  readonly deviceId: string;
  readonly socket: MoimSocket;
  readonly principal: Principal;
  readonly log: Logger;
}

export type RequestHandler<N extends RequestName> = (
  data: RequestData<N>,
  conn: Connection,
) => Promise<ResponseData<N>>;
export type HandlerTable = { [N in RequestName]?: RequestHandler<N> };

/** An event that returns stored content: the gateway asks `contentGate` before its handler; `target` names the item. */
export interface EventContentMark<N extends RequestName = RequestName> extends ContentMark {
  target(data: RequestData<N>): string;
}
export type ContentMarks = { [N in RequestName]?: EventContentMark<N> };
/** Decides a content event's request (throws POLICY_FORBIDS); set by the app (policy/ContentPolicy.ts). */
export type EventContentGate = (conn: Connection, mark: EventContentMark, data: unknown) => Promise<void>;

export interface GatewayEvents {
  connect: (conn: Connection) => void;
  /** The socket is gone (`reason` from socket.io: `transport close`, `ping timeout`, `server namespace disconnect`…). */
  disconnect: (conn: Connection, reason: string) => void;
  /** Any accepted request (presence counts it as activity). */
  activity: (conn: Connection, event: RequestName) => void;
  /**
   * The connection's principal changed (`system:auth` with a fresh token for the same `sub`; its
   * org, grants, role, teams and site may differ). Emitted after `conn.principal === next` and
   * before the request is acknowledged. Each service drops, synchronously, every subscription of
   * `conn` that `next` no longer allows (an org change drops everything of `previous.token.org`);
   * a listener that needs I/O starts it itself and logs its own failures.
   */
  reauth: (conn: Connection, previous: Principal, next: Principal) => void;
}

export interface GatewayOptions {
  httpServer: HttpServer;
  tokens: TokenService;
  metrics: Metrics;
  log: Logger;
  maxHttpBufferSize: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  /**
   * Requests per second shared by all connections of one person (on top of the per-connection
   * bucket). 0: twice the per-connection rate. @default 0
   */
  personRateLimitPerSec: number;
  /** Burst of the per-person bucket. 0: twice the per-connection burst. @default 0 */
  personRateLimitBurst: number;
  /** Simultaneous connections of one person; more are refused at the handshake (TOO_MANY_CONNECTIONS). */
  maxConnectionsPerPerson: number;
  /**
   * Cluster mode: share the connection count and the request budget of each person with the other
   * nodes (cluster/RedisPersonLimits.ts), given this node's per-person limits. Unset: this node's alone.
   */
  sharePersonLimits?: ((local: PersonLimits) => SharedPersonLimits) | undefined;
  /** A silent connection is dropped after about this long (socket.io ping interval + timeout). */
  heartbeatTimeoutMs: number;
  /**
   * The cluster's socket.io adapter (Redis streams): broadcasts reach every node. With it the
   * transport is WebSocket only, so no sticky sessions are needed. Unset: one node, in memory.
   */
  adapter?: ServerOptions['adapter'] | undefined;
  /** A handshake refused for its token (a failed sign-in): audited, bounded (audit/RefusalAudit.ts). */
  onHandshakeRefused?: ((req: IncomingMessage, code: ErrorCode) => void) | undefined;
  /** The origin allow-list (http/security.ts), asked at each engine.io handshake, long-polling included. */
  allowOrigin?: ((req: IncomingMessage) => boolean) | undefined;
}

/**
 * Join or leave socket.io rooms without waiting: the in-memory adapter does it at once (so the
 * caller can rely on it before answering); an adapter that returns a promise has its failure
 * logged with the connection's context, never dropped.
 */
export function joinNow(conn: Pick<Connection, 'socket' | 'log'>, rooms: string | string[]): void {
  settleRoomOp(conn, conn.socket.join(rooms), 'join', rooms);
}

/** See `joinNow`. */
export function leaveNow(conn: Pick<Connection, 'socket' | 'log'>, room: string): void {
  settleRoomOp(conn, conn.socket.leave(room), 'leave', room);
}

function settleRoomOp(
  conn: Pick<Connection, 'log'>,
  op: Promise<void> | void,
  action: string,
  rooms: string | string[],
): void {
  if (op) op.catch((err: unknown) => conn.log.error({ err, rooms }, `could not ${action} a room`));
}

/**
 * The socket.io edge: authenticates the handshake, caps connections per person, validates every
 * inbound payload with its @moim/protocol schema, rate-limits per connection and per person
 * (across their connections), and calls the registered handler. No
 * business logic lives here. Handler errors become `{ error: { code, message } }` acks; nothing
 * thrown reaches socket.io.
 */
export class Gateway extends TypedEmitter<GatewayEvents> {
  readonly io: MoimServer;
  readonly #handlers = new Map<RequestName, RequestHandler<RequestName>>();
  readonly #content = new Map<RequestName, EventContentMark>();
  /** Asked before every event registered with a content mark; without one such events refuse (fail closed). */
  contentGate: EventContentGate | undefined;
  readonly #connections = new Map<string, MutableConnection>();
  readonly #people: PersonLimits;
  readonly #shared: SharedPersonLimits | undefined;
  readonly #opts: GatewayOptions;
  readonly #log: Logger;

  constructor(opts: GatewayOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.log;
    this.#people = new PersonLimits({
      maxConnections: opts.maxConnectionsPerPerson,
      // unset (0): twice one connection's bucket
      ratePerSec: opts.personRateLimitPerSec || 2 * opts.rateLimitPerSec,
      burst: opts.personRateLimitBurst || 2 * opts.rateLimitBurst,
    });
    this.#shared = opts.sharePersonLimits?.(this.#people);
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'gateway listener failed');
    const pingInterval = Math.max(500, Math.floor(opts.heartbeatTimeoutMs * 0.6));
    const pingTimeout = Math.max(500, opts.heartbeatTimeoutMs - pingInterval);
    this.io = new Server(opts.httpServer, {
      path: '/socket.io',
      // long-polling needs every request of a session on the same node: never in a cluster
      transports: opts.adapter ? ['websocket'] : ['websocket', 'polling'],
      ...(opts.adapter ? { adapter: opts.adapter } : {}),
      maxHttpBufferSize: opts.maxHttpBufferSize,
      pingInterval,
      pingTimeout,
      // other WebSocket paths (/yjs) are handled by their own upgrade listener
      destroyUpgrade: false,
      serveClient: false,
      cors: { origin: false },
      ...(opts.allowOrigin
        ? {
            allowRequest: (req: IncomingMessage, fn: (err: string | null | undefined, success: boolean) => void) =>
              opts.allowOrigin?.(req) ? fn(null, true) : fn('ORIGIN_NOT_ALLOWED', false),
          }
        : {}),
    });
    // heartbeats handled in one loop turn would stay in lockstep forever (heartbeatSpread.ts)
    spreadHeartbeats(this.io, heartbeatJitterMs(pingInterval, pingTimeout));
    const refuse = (next: (err?: Error) => void, err: unknown) => {
      const e = err instanceof MoimError ? err : new MoimError('INTERNAL', 'authentication failed');
      this.#opts.metrics.events.inc({ event: 'handshake', outcome: e.code });
      const refusal = new Error(e.message) as Error & { data: ErrorBody };
      refusal.data = e.toBody();
      next(refusal);
    };
    this.io.use((socket, next) => {
      try {
        this.#authenticate(socket);
      } catch (err) {
        if (err instanceof MoimError) this.#opts.onHandshakeRefused?.(socket.request, err.code);
        return refuse(next, err);
      }
      const shared = this.#shared;
      if (!shared) return next();
      // the person's connections on every node: one script in Redis decides a race between nodes
      const key = principalOf(socket).key;
      shared.claim('socket', key, this.#opts.maxConnectionsPerPerson).then(
        (counted) => {
          if (!counted)
            return refuse(
              next,
              new MoimError(
                'TOO_MANY_CONNECTIONS',
                `at most ${this.#opts.maxConnectionsPerPerson} connections per person across the service; close a tab or device first`,
              ),
            );
          if (socket.conn.readyState !== 'open') {
            // the client left while Redis answered: socket.io will not connect it, so nothing releases it later
            shared.release('socket', key);
            return next(new Error('the connection closed during the handshake'));
          }
          (socket as unknown as { [CLAIMED]: string })[CLAIMED] = key;
          next();
        },
        (err: unknown) => refuse(next, err),
      );
    });
    this.io.on('connection', (socket) => this.#onConnection(socket));
  }

  /** Register handlers; a request name may have one handler. `content` marks those returning stored content. */
  register(table: HandlerTable, content: ContentMarks = {}): void {
    for (const [name, handler] of Object.entries(table)) {
      if (!Object.hasOwn(requestSchemas, name)) throw new Error(`${name} is not a request of @moim/protocol`);
      if (this.#handlers.has(name as RequestName)) throw new Error(`handler for ${name} registered twice`);
      this.#handlers.set(name as RequestName, handler as RequestHandler<RequestName>);
    }
    for (const [name, mark] of Object.entries(content)) {
      if (!Object.hasOwn(table, name)) throw new Error(`content mark for ${name}, which this table does not serve`);
      this.#content.set(name as RequestName, mark as EventContentMark);
    }
  }

  /** Every registered event (tests derive their lists from it). */
  events(): RequestName[] {
    return [...this.#handlers.keys()];
  }

  /** Every registered event that returns stored content, with its mark (tests derive their lists from it). */
  contentEvents(): Array<{ name: RequestName; kind: ContentMark['kind']; action: ContentMark['action'] }> {
    return [...this.#content].map(([name, m]) => ({ name, kind: m.kind, action: m.action }));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  connections(): IterableIterator<Connection> {
    return this.#connections.values();
  }

  /** Open connections of one person (org + sub). */
  connectionsOf(org: string, sub: string): number {
    return this.#people.connectionsOf(personKey(org, sub));
  }

  /** People with at least one open connection (the per-person map's size). */
  get connectedPeople(): number {
    return this.#people.size;
  }

  /**
   * Replace the connection's principal with a refreshed one (same `sub`; org, grants, teams may
   * differ) and emit `reauth` so that every service drops what `next` no longer allows. The
   * person's connection count, shared rate bucket and person room follow an org change.
   */
  reauthenticate(conn: Connection, next: Principal): void {
    const mutable = this.#connections.get(conn.id);
    if (!mutable || mutable !== conn) throw new MoimError('UNAVAILABLE', 'this connection is closing');
    const previous = mutable.principal;
    if (next.sub !== previous.sub) throw new MoimError('FORBIDDEN', 'a refreshed token must be for the same person');
    const before = previous.key;
    const after = next.key;
    if (before !== after) {
      if (!this.#people.canConnect(after))
        throw new MoimError(
          'TOO_MANY_CONNECTIONS',
          `at most ${this.#people.maxConnections} connections per person in that organisation`,
        );
      this.#people.remove(before, conn.id);
      this.#people.add(after, conn.id);
      this.#moveClaim(mutable.socket, after);
      leaveNow(mutable, personRoom(previous.token.org, previous.sub));
      joinNow(mutable, personRoom(next.token.org, next.sub));
    }
    mutable.principal = next;
    conn.log.info({ org: next.token.org, orgChanged: before !== after }, 'token refreshed');
    this.safeEmit('reauth', conn, previous, next);
  }

  #releaseClaim(socket: MoimSocket): void {
    const holder = socket as unknown as { [CLAIMED]?: string };
    const key = holder[CLAIMED];
    if (key === undefined || !this.#shared) return;
    holder[CLAIMED] = undefined;
    this.#shared.release('socket', key);
  }

  /**
   * A token refresh moved the connection to another org: count it there in the cluster. The node's
   * own cap was checked; the cluster's is not waited for (a refresh answers at once), so a person
   * changing org on several nodes at the same moment may pass it by those connections.
   */
  #moveClaim(socket: MoimSocket, key: string): void {
    const shared = this.#shared;
    if (!shared) return;
    this.#releaseClaim(socket);
    const holder = socket as unknown as { [CLAIMED]?: string };
    shared.claim('socket', key, Number.MAX_SAFE_INTEGER).then(
      (counted) => {
        if (!counted) return;
        if (socket.connected) holder[CLAIMED] = key;
        else shared.release('socket', key);
      },
      (err: unknown) => this.#log.error({ err }, 'counting a refreshed connection in the cluster failed'),
    );
  }

  #authenticate(socket: MoimSocket): void {
    const handshake = socket.handshake.auth as unknown;
    const auth: Record<string, unknown> =
      typeof handshake === 'object' && handshake !== null ? (handshake as Record<string, unknown>) : {};
    const protocol = ownValue(auth, 'protocol');
    if (typeof protocol !== 'number' || !SUPPORTED_PROTOCOL_VERSIONS.includes(protocol)) {
      throw new MoimError(
        'PROTOCOL_MISMATCH',
        `protocol ${String(protocol)} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
      );
    }
    const token = this.#opts.tokens.verify(ownValue(auth, 'token'));
    if (!this.#people.canConnect(personKey(token.org, token.sub)))
      throw new MoimError(
        'TOO_MANY_CONNECTIONS',
        `at most ${this.#people.maxConnections} connections per person; close a tab or device first`,
      );
    const requested = ownValue(auth, 'deviceId');
    const deviceId = typeof requested === 'string' && /^[\w-]{1,64}$/.test(requested) ? requested : randomUUID();
    socket.data = { sub: token.sub, connectionId: randomUUID(), deviceId, protocol };
    (socket as unknown as { [PRINCIPAL]: Principal })[PRINCIPAL] = new Principal(token);
  }

  #onConnection(socket: MoimSocket): void {
    const principal = principalOf(socket);
    const key = principal.key;
    if (!this.#people.canConnect(key)) {
      this.#releaseClaim(socket);
      // two handshakes of the same person passed the check in the same tick
      this.#opts.metrics.events.inc({ event: 'handshake', outcome: 'TOO_MANY_CONNECTIONS' });
      socket.emit('system:notice', {
        code: 'TOO_MANY_CONNECTIONS',
        message: `at most ${this.#people.maxConnections} connections per person`,
        at: Date.now(),
      });
      socket.disconnect(true);
      return;
    }
    const conn: MutableConnection = {
      id: socket.data.connectionId,
      deviceId: socket.data.deviceId,
      socket,
      principal,
      log: this.#log.child({ conn: socket.data.connectionId, sub: principal.sub, org: principal.token.org }),
    };
    this.#connections.set(conn.id, conn);
    this.#people.add(key, conn.id);
    this.#opts.metrics.connections.inc();
    joinNow(conn, personRoom(principal.token.org, principal.sub));
    const bucket = new TokenBucket(this.#opts.rateLimitPerSec, this.#opts.rateLimitBurst);
    socket.onAny((event: string, ...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (r: Ack<unknown>) => void) : undefined;
      void this.#dispatch(conn, bucket, event, args[0], ack);
    });
    socket.on('disconnect', (reason) => {
      this.#connections.delete(conn.id);
      this.#people.remove(conn.principal.key, conn.id);
      this.#releaseClaim(socket);
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
    if (!this.#people.take(conn.principal.key))
      return fail(new MoimError('RATE_LIMITED', 'too many requests from this person across connections; slow down'));
    if (!Object.hasOwn(requestSchemas, event))
      return fail(new MoimError('UNKNOWN_EVENT', `unknown event ${JSON.stringify(event.slice(0, 64))}`));
    const name = event as RequestName;
    const handler = this.#handlers.get(name);
    if (!handler) return fail(new MoimError('UNKNOWN_EVENT', `${name} is not served by this server`));
    if (!conn.principal.valid && name !== 'system:auth')
      return fail(new MoimError('TOKEN_EXPIRED', 'token has expired; refresh it with system:auth'));
    // a huge object or a `__proto__` key is refused before its schema walks it
    const shape = payloadShapeProblem(payload, PAYLOAD_LIMITS);
    if (shape) return fail(new MoimError('INVALID_PAYLOAD', shape));
    const parsed = (requestSchemas[name] as z.ZodType).safeParse(payload);
    if (!parsed.success) return fail(new MoimError('INVALID_PAYLOAD', describeZodError(parsed.error)));
    try {
      const mark = this.#content.get(name);
      if (mark) {
        if (!this.contentGate) throw new MoimError('UNAVAILABLE', 'the content policy is not ready');
        await this.contentGate(conn, mark, parsed.data);
      }
      const data = await handler(parsed.data as never, conn);
      reply({ data }, 'ok');
      this.safeEmit('activity', conn, name);
    } catch (err) {
      const wire = toWireError(err);
      if (wire) return fail(wire);
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

/**
 * Bounds of an event's payload before its schema: the largest request of @moim/protocol (a
 * device's RTP capabilities) holds a few hundred values, nested a few levels.
 */
const PAYLOAD_LIMITS = { maxValues: 10_000, maxDepth: 32 };

const PRINCIPAL = Symbol('principal');
/** The person key a socket's connection is counted under in the cluster (`SharedPersonLimits`). */
const CLAIMED = Symbol('claimed');

function principalOf(socket: MoimSocket): Principal {
  return (socket as unknown as { [PRINCIPAL]: Principal })[PRINCIPAL];
}

/** The gateway's own view of a connection: only it replaces the principal (`reauthenticate`). */
type MutableConnection = { -readonly [K in keyof Connection]: Connection[K] };
