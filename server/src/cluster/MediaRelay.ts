/**
 * Video rooms in a cluster: every room has one home node (RoomHomes), and its signalling reaches
 * the home whichever node the client's socket is on. A request for a room homed elsewhere is
 * relayed over Redis pub/sub (`rpc:<node>`) with the caller's verified token, and answered on
 * the asking node's channel, or refused with UNAVAILABLE after `timeoutMs`. On the home node the
 * relayed connection gets a media channel that emits to the client's socket through the socket.io
 * adapter, so the SFU's events and `media:newConsumer` acknowledgements cross nodes the same way.
 * WebRTC goes straight to the home node's announced addresses.
 *
 * The asking node tells the home when the socket closes or its token is refreshed; the home tells
 * the asking node when the connection entered or left a room (presence shows "in a meeting").
 * When a home node dies, the nodes whose clients were in its rooms tell them (`room:closed`,
 * WORKER_DIED): the SDK joins again and the room is re-homed on a live node. A fenced node closes
 * its live rooms the same way; a room's home is released when its live room closes.
 */
import { MoimError, type RequestName } from '@moim/protocol';
import { z } from 'zod';
import { Principal } from '../auth/Principal.ts';
import type { Connection, HandlerTable } from '../gateway/Gateway.ts';
import type { MoimServer } from '../lib/rooms.ts';
import { toWireError } from '../lib/wireErrors.ts';
import type { Logger } from '../logger.ts';
import type { MediaChannel, MediaService } from '../media/MediaService.ts';
import type { ClusterMetrics } from './clusterMetrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import { RedisRpc, relayedRequest, relayedToken, rpcAnswerSchema } from './RedisRpc.ts';
import type { RoomHomes } from './RoomHomes.ts';
import type { RedisConnections } from './redis.ts';

const messageSchema = z.discriminatedUnion('k', [
  z.object({
    ...relayedRequest,
    data: z.looseObject({ roomId: z.string() }),
    conn: z.object({ id: z.string(), socketId: z.string(), token: relayedToken }),
    /** Sent to a node of the caller's site (cascade), which serves it whether or not it is the home. */
    site: z.boolean().optional(),
  }),
  /** `moved`: this node is no longer the room's home (ask again). */
  rpcAnswerSchema.extend({ moved: z.boolean().optional() }),
  z.object({ k: z.literal('closed'), connectionId: z.string() }),
  z.object({ k: z.literal('reauth'), connectionId: z.string(), token: relayedToken }),
  z.object({
    k: z.literal('member'),
    roomId: z.string(),
    sub: z.string(),
    connectionId: z.string(),
    joined: z.boolean(),
  }),
  z.object({ k: z.literal('end'), org: z.string(), roomId: z.string(), reason: z.string() }),
  z.object({ k: z.literal('withdraw'), org: z.string(), roomId: z.string(), sub: z.string(), message: z.string() }),
  z.object({
    k: z.literal('consumer'),
    id: z.string(),
    from: z.string(),
    socketId: z.string(),
    payload: z.unknown(),
    timeoutMs: z.number().int().positive(),
  }),
]);
type Message = z.infer<typeof messageSchema>;
type Answer = Message & { k: 'res' };

/** A connection of another node that joined a room homed here. */
interface RemoteConnection {
  id: string;
  node: string;
  socketId: string;
  principal: Principal;
  channel: MediaChannel;
}

export interface MediaRelayOptions {
  redis: RedisConnections;
  registry: NodeRegistry;
  homes: RoomHomes;
  io: MoimServer;
  media: MediaService;
  /** The media handlers of this node, given the channel of a (local or relayed) connection. */
  handlers: (channelOf: (conn: Connection) => MediaChannel) => HandlerTable;
  /** A local connection joined or left a room homed on another node. */
  onRemoteMember: (roomId: string, sub: string, connectionId: string, joined: boolean) => void;
  log: Logger;
  /** How long a relayed request may take. @default 5000 */
  timeoutMs?: number | undefined;
  /** Requests that may take longer than `timeoutMs` (stopping a recording waits for its files), and their bound. */
  slowRequests?: ReadonlyMap<RequestName, number> | undefined;
  metrics?: ClusterMetrics | undefined;
  /**
   * A node of a site (MOIM_NODE_SITE) serves its own clients' rooms itself, cascaded with the
   * rooms' other nodes (Cascade.ts), instead of relaying them to the home.
   */
  servesLocally?: boolean | undefined;
  /** A live node of a site (cascade: a client is served by a node of its own site where one is alive). */
  siteNode?: ((site: string) => Promise<string | undefined>) | undefined;
}

export class MediaRelay {
  readonly #o: MediaRelayOptions;
  readonly #rpc: RedisRpc<Message>;
  /** Relayed connections served here, by connection id. */
  readonly #remote = new Map<string, RemoteConnection>();
  /** This node's connections in rooms homed elsewhere: connection id → its person, room id → home node. */
  readonly #away = new Map<
    string,
    { socketId: string; key: string; rooms: Map<string, string> /** rooms its home says it left */; left: Set<string> }
  >();
  readonly #remoteTable: HandlerTable;

  constructor(opts: MediaRelayOptions) {
    this.#o = opts;
    this.#rpc = new RedisRpc<Message>({
      redis: opts.redis,
      nodeId: opts.registry.nodeId,
      name: 'rpc',
      schema: messageSchema,
      onMessage: (m) => this.#onMessage(m),
      peer: () => "the room's node",
      timeoutMs: opts.timeoutMs,
      log: opts.log,
      label: 'media relay',
    });
    this.#remoteTable = opts.handlers((conn) => {
      const remote = this.#remote.get(conn.id);
      if (!remote) throw new MoimError('UNAVAILABLE', 'the relayed connection is gone');
      return remote.channel;
    });
    opts.registry.on('nodeDead', (node) => {
      this.#rpc.nodeDead(node);
      this.#nodeDead(node);
    });
    opts.registry.on('fenced', () => {
      const closed = opts.media.closeLiveRooms();
      opts.log.warn({ rooms: closed }, 'media: fenced; live rooms closed (their clients join again)');
    });
    opts.media.on('roomClosed', (roomId) => {
      opts.homes
        .release(roomId)
        .catch((err: unknown) => opts.log.warn({ err, room: roomId }, 'media: could not release a room home'));
    });
    const member = (joined: boolean) => (roomId: string, sub: string, connectionId: string) => {
      const remote = this.#remote.get(connectionId);
      if (remote) this.#send(remote.node, { k: 'member', roomId, sub, connectionId, joined });
    };
    opts.media.on('memberJoined', member(true));
    opts.media.on('memberLeft', member(false));
  }

  async start(): Promise<void> {
    await this.#rpc.start();
  }

  /** The media handlers of the gateway: a room homed here is served here, any other is relayed. */
  gatewayHandlers(local: HandlerTable): HandlerTable {
    const table: Record<string, (data: { roomId: string }, conn: Connection) => Promise<unknown>> = {};
    for (const [event, handler] of Object.entries(local) as [
      RequestName,
      (d: unknown, c: Connection) => Promise<unknown>,
    ][]) {
      table[event] =
        event === 'room:create' ? handler : (data, conn) => this.#route(event, data, conn, handler as never);
    }
    return table as HandlerTable;
  }

  /** A local socket closed: the homes of its rooms keep its peers for their grace period. */
  connectionClosed(connectionId: string): void {
    const away = this.#away.get(connectionId);
    this.#away.delete(connectionId);
    if (!away) return;
    for (const node of new Set(away.rooms.values())) this.#send(node, { k: 'closed', connectionId });
  }

  /** A local connection's token was refreshed: the homes of its rooms re-check it. */
  reauth(connectionId: string, next: Principal): void {
    const away = this.#away.get(connectionId);
    if (!away) return;
    for (const node of new Set(away.rooms.values())) this.#send(node, { k: 'reauth', connectionId, token: next.token });
  }

  /**
   * A service ended a room of its own (MediaService.endRoom, a call ended) on this node: when
   * the live room is homed on another node, that node closes it too (its peers are told).
   */
  async endRoom(org: string, roomId: string, reason: string): Promise<void> {
    const home = await this.#o.homes.liveHome(roomId);
    if (home !== null && home !== this.#o.registry.nodeId) this.#send(home, { k: 'end', org, roomId, reason });
  }

  /**
   * A service withdrew a person from a room of its own (MediaService.removePerson, a call's
   * hangup) on this node: when the live room is homed on another node, that node removes them too.
   */
  async removePerson(org: string, roomId: string, sub: string, message: string): Promise<void> {
    const home = await this.#o.homes.liveHome(roomId);
    if (home !== null && home !== this.#o.registry.nodeId)
      this.#send(home, { k: 'withdraw', org, roomId, sub, message });
  }

  /** Whether a connection of this node of the person (`personKey`) joined the room homed on another node. */
  hasPersonAway(key: string, roomId: string): boolean {
    for (const away of this.#away.values())
      if (away.key === key && away.rooms.has(roomId) && !away.left.has(roomId)) return true;
    return false;
  }

  async close(): Promise<void> {
    await this.#rpc.close();
  }

  async #route(
    event: RequestName,
    data: { roomId: string },
    conn: Connection,
    local: (d: unknown, c: Connection) => Promise<unknown>,
  ): Promise<unknown> {
    if (this.#o.servesLocally) return local(data, conn);
    const siteNode = await this.#o.siteNode?.(conn.principal.token.site);
    for (let attempt = 0; ; attempt++) {
      const home = siteNode ?? (await this.#o.homes.homeOf(data.roomId));
      if (home === this.#o.registry.nodeId) return local(data, conn);
      const started = performance.now();
      const res = await this.#request(home, event, data, conn, siteNode !== undefined).catch((err: unknown) => {
        this.#o.metrics?.relayRequests.inc({ outcome: toWireError(err)?.code ?? 'INTERNAL' });
        throw err;
      });
      this.#o.metrics?.relaySeconds.observe((performance.now() - started) / 1000);
      this.#o.metrics?.relayRequests.inc({ outcome: res.moved ? 'moved' : (res.error?.code ?? 'ok') });
      if (res.moved && attempt === 0) continue; // re-homed meanwhile: ask again
      if (res.error) throw new MoimError(res.error.code as never, res.error.message);
      if (res.moved) throw new MoimError('UNAVAILABLE', 'the room is moving to another node; try again');
      this.#note(event, data.roomId, conn, home);
      return res.data;
    }
  }

  /** Remember which rooms of a local connection are homed where (for closes, refreshes, deaths). */
  #note(event: RequestName, roomId: string, conn: Connection, home: string): void {
    let away = this.#away.get(conn.id);
    if (event === 'room:leave') {
      away?.rooms.delete(roomId);
      away?.left.delete(roomId);
      return;
    }
    if (event !== 'room:join') return;
    if (!away) {
      away = { socketId: conn.socket.id, key: conn.principal.key, rooms: new Map(), left: new Set() };
      this.#away.set(conn.id, away);
    }
    away.rooms.set(roomId, home);
    away.left.delete(roomId);
  }

  #request(
    node: string,
    event: RequestName,
    data: { roomId: string },
    conn: Connection,
    site: boolean,
  ): Promise<Answer> {
    const conns = { id: conn.id, socketId: conn.socket.id, token: conn.principal.token };
    return this.#rpc.request<Answer>(
      node,
      (id) => ({
        k: 'req',
        id,
        from: this.#o.registry.nodeId,
        event,
        data,
        conn: conns,
        ...(site ? { site } : {}),
      }),
      this.#o.slowRequests?.get(event),
    );
  }

  #send(node: string, message: Message): void {
    this.#rpc.send(node, message);
  }

  #onMessage(message: Message): unknown {
    switch (message.k) {
      case 'res': // answers go to their requests (RedisRpc)
        return;
      case 'req':
        return this.#serve(message);
      case 'closed': {
        if (!this.#remote.delete(message.connectionId)) return;
        this.#o.media.connectionClosed(message.connectionId);
        return;
      }
      case 'reauth': {
        const remote = this.#remote.get(message.connectionId);
        if (!remote) return;
        remote.principal = new Principal(message.token);
        this.#o.media.reauthorize(message.connectionId, remote.principal);
        return;
      }
      case 'member':
        // left for any reason (removed, the room closed): not in it any more, though the room stays
        // listed (a draining or dead home still tells this node's client WORKER_DIED)
        if (!message.joined) this.#away.get(message.connectionId)?.left.add(message.roomId);
        this.#o.onRemoteMember(message.roomId, message.sub, message.connectionId, message.joined);
        return;
      case 'consumer':
        return this.#deliverConsumer(message);
      case 'end':
        return this.#o.media
          .endRoom(message.org, message.roomId, message.reason)
          .catch((err: unknown) => this.#o.log.error({ err, room: message.roomId }, 'media relay: a room did not end'));
      case 'withdraw':
        this.#o.media.removePerson(message.org, message.roomId, message.sub, message.message);
        return;
    }
  }

  /** The home wants a consumer acknowledged by one of this node's sockets. */
  #deliverConsumer(m: Message & { k: 'consumer' }): Promise<void> {
    return this.#rpc.answer(m.from, m.id, async () => {
      const socket = this.#o.io.of('/').sockets.get(m.socketId);
      if (!socket?.connected) throw new MoimError('NOT_FOUND', 'the socket is gone');
      try {
        await (
          socket.timeout(m.timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<unknown> }
        ).emitWithAck('media:newConsumer', m.payload);
      } catch (err) {
        throw new MoimError('UNAVAILABLE', (err as Error).message, { cause: err });
      }
      return { data: true };
    });
  }

  /** Serve a request relayed from another node, if this node is still the room's home. */
  #serve(req: Message & { k: 'req' }): Promise<void> {
    return this.#rpc.answer(
      req.from,
      req.id,
      async () => {
        // a node of the caller's site serves its rooms whichever node is their home (cascade)
        if (!req.site && (await this.#o.homes.homeOf(req.data.roomId)) !== this.#o.registry.nodeId)
          return { moved: true };
        const principal = new Principal(req.conn.token);
        let remote = this.#remote.get(req.conn.id);
        if (!remote) {
          remote = {
            id: req.conn.id,
            node: req.from,
            socketId: req.conn.socketId,
            principal,
            channel: this.#remoteChannel(req.conn.id, req.conn.socketId),
          };
          this.#remote.set(remote.id, remote);
        } else remote.principal = principal;
        const handler = this.#remoteTable[req.event] as ((d: unknown, c: Connection) => Promise<unknown>) | undefined;
        if (!handler) throw new MoimError('UNKNOWN_EVENT', `${req.event} is not relayed`);
        const conn = {
          id: remote.id,
          deviceId: '',
          socket: undefined,
          principal,
          log: this.#o.log,
        } as unknown as Connection;
        return { data: await handler(req.data, conn) };
      },
      { event: req.event },
    );
  }

  /** A relayed connection's channel: events reach its socket on its own node through the adapter. */
  #remoteChannel(connectionId: string, socketId: string): MediaChannel {
    const io = this.#o.io;
    return {
      connectionId: connectionId,
      principal: () => this.#remote.get(connectionId)?.principal ?? (undefined as never),
      emit: (signal) => {
        (io.to(socketId).emit as (e: string, p: unknown) => boolean)(signal.event, signal.payload);
      },
      // acknowledged through the socket's own node (a broadcast with acknowledgement would depend
      // on the adapter's view of how many nodes there are)
      newConsumer: async (payload, timeoutMs) => {
        const node = this.#remote.get(connectionId)?.node;
        if (!node) throw new Error('the relayed connection is gone');
        const res = await this.#rpc.request<Answer>(
          node,
          (id) => ({ k: 'consumer', id, from: this.#o.registry.nodeId, socketId, payload, timeoutMs }),
          timeoutMs + 1000,
        );
        if (res.error) throw new Error(`media:newConsumer not acknowledged: ${res.error.message}`);
      },
    };
  }

  /** A node died: its relayed connections lose their sockets; this node's clients in its rooms join again. */
  #nodeDead(node: string): void {
    for (const remote of [...this.#remote.values()]) {
      if (remote.node !== node) continue;
      this.#remote.delete(remote.id);
      this.#o.media.connectionClosed(remote.id);
    }
    for (const away of this.#away.values()) {
      for (const [roomId, home] of [...away.rooms]) {
        if (home !== node) continue;
        away.rooms.delete(roomId);
        away.left.delete(roomId);
        (this.#o.io.to(away.socketId).emit as (e: string, p: unknown) => boolean)('room:closed', {
          roomId,
          reason: 'WORKER_DIED',
        });
      }
    }
  }
}
