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
import { randomUUID } from 'node:crypto';
import { MoimError, type RequestName } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { VerifiedToken } from '../auth/TokenService.ts';
import type { Connection, HandlerTable } from '../gateway/Gateway.ts';
import type { MoimServer } from '../lib/rooms.ts';
import { toWireError } from '../lib/wireErrors.ts';
import type { Logger } from '../logger.ts';
import type { MediaChannel, MediaService } from '../media/MediaService.ts';
import type { ClusterMetrics } from './clusterMetrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import type { RoomHomes } from './RoomHomes.ts';
import type { RedisConnections } from './redis.ts';

type Message =
  | {
      k: 'req';
      id: string;
      from: string;
      event: RequestName;
      data: { roomId: string };
      conn: { id: string; socketId: string; token: VerifiedToken };
      /** Sent to a node of the caller's site (cascade), which serves it whether or not it is the home. */
      site?: boolean;
    }
  | { k: 'res'; id: string; data?: unknown; error?: { code: string; message: string }; moved?: boolean }
  | { k: 'closed'; connectionId: string }
  | { k: 'reauth'; connectionId: string; token: VerifiedToken }
  | { k: 'member'; roomId: string; sub: string; connectionId: string; joined: boolean }
  | { k: 'end'; org: string; roomId: string; reason: string }
  | { k: 'withdraw'; org: string; roomId: string; sub: string; message: string }
  | { k: 'consumer'; id: string; from: string; socketId: string; payload: unknown; timeoutMs: number };

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
  readonly #channel: string;
  readonly #pending = new Map<string, { resolve: (m: Message & { k: 'res' }) => void; timer: NodeJS.Timeout }>();
  /** Relayed connections served here, by connection id. */
  readonly #remote = new Map<string, RemoteConnection>();
  /** This node's connections in rooms homed elsewhere: connection id → its person, room id → home node. */
  readonly #away = new Map<string, { socketId: string; key: string; rooms: Map<string, string> }>();
  readonly #remoteTable: HandlerTable;

  constructor(opts: MediaRelayOptions) {
    this.#o = opts;
    this.#channel = this.#rpc(opts.registry.nodeId);
    this.#remoteTable = opts.handlers((conn) => {
      const remote = this.#remote.get(conn.id);
      if (!remote) throw new MoimError('UNAVAILABLE', 'the relayed connection is gone');
      return remote.channel;
    });
    opts.redis.sub.on('message', this.#onMessage);
    opts.registry.on('nodeDead', (node) => this.#nodeDead(node));
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
    await this.#o.redis.sub.subscribe(this.#channel);
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
    for (const away of this.#away.values()) if (away.key === key && away.rooms.has(roomId)) return true;
    return false;
  }

  async close(): Promise<void> {
    this.#o.redis.sub.off('message', this.#onMessage);
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    await this.#o.redis.sub
      .unsubscribe(this.#channel)
      .catch((err: unknown) => this.#o.log.warn({ err }, 'media relay: unsubscribe failed'));
  }

  #rpc(node: string): string {
    return `${this.#o.redis.prefix}rpc:${node}`;
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
      return;
    }
    if (event !== 'room:join') return;
    if (!away) {
      away = { socketId: conn.socket.id, key: conn.principal.key, rooms: new Map() };
      this.#away.set(conn.id, away);
    }
    away.rooms.set(roomId, home);
  }

  #request(
    node: string,
    event: RequestName,
    data: { roomId: string },
    conn: Connection,
    site: boolean,
  ): Promise<Message & { k: 'res' }> {
    const conns = { id: conn.id, socketId: conn.socket.id, token: conn.principal.token };
    return this.#call(
      node,
      (id) => ({ k: 'req', id, from: this.#o.registry.nodeId, event, data, conn: conns, ...(site ? { site } : {}) }),
      this.#o.timeoutMs ?? 5000,
    );
  }

  /** Send a message that expects an answer (`res` with the same id) from `node`, within `timeoutMs`. */
  #call(node: string, build: (id: string) => Message, timeoutMs: number): Promise<Message & { k: 'res' }> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new MoimError('UNAVAILABLE', `the room's node did not answer within ${timeoutMs} ms; try again`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, timer });
      this.#o.redis.cmd
        .publish(this.#rpc(node), JSON.stringify(build(id)))
        .then((receivers) => {
          // nobody listens on that node's channel: it is gone (its lease has not lapsed yet)
          if (receivers === 0 && this.#pending.delete(id)) {
            clearTimeout(timer);
            reject(new MoimError('UNAVAILABLE', "the room's node is not reachable; try again"));
          }
        })
        .catch((err: unknown) => {
          if (!this.#pending.delete(id)) return;
          clearTimeout(timer);
          reject(new MoimError('UNAVAILABLE', 'the cluster is unreachable for a moment; try again', { cause: err }));
        });
    });
  }

  #send(node: string, message: Message): void {
    this.#o.redis.cmd
      .publish(this.#rpc(node), JSON.stringify(message))
      .catch((err: unknown) => this.#o.log.warn({ err, node, kind: message.k }, 'media relay: message not sent'));
  }

  #onMessage = (channel: string, raw: string): void => {
    if (channel !== this.#channel) return;
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch (err) {
      this.#o.log.error({ err }, 'media relay: unreadable message');
      return;
    }
    switch (message.k) {
      case 'res': {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        pending.resolve(message);
        return;
      }
      case 'req':
        void this.#serve(message);
        return;
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
        this.#o.onRemoteMember(message.roomId, message.sub, message.connectionId, message.joined);
        return;
      case 'consumer':
        void this.#deliverConsumer(message);
        return;
      case 'end':
        this.#o.media
          .endRoom(message.org, message.roomId, message.reason)
          .catch((err: unknown) => this.#o.log.error({ err, room: message.roomId }, 'media relay: a room did not end'));
        return;
      case 'withdraw':
        this.#o.media.removePerson(message.org, message.roomId, message.sub, message.message);
        return;
    }
  };

  /** The home wants a consumer acknowledged by one of this node's sockets. */
  async #deliverConsumer(m: Message & { k: 'consumer' }): Promise<void> {
    const socket = this.#o.io.of('/').sockets.get(m.socketId);
    let res: Omit<Message & { k: 'res' }, 'k' | 'id'>;
    if (!socket?.connected) res = { error: { code: 'NOT_FOUND', message: 'the socket is gone' } };
    else
      try {
        await (
          socket.timeout(m.timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<unknown> }
        ).emitWithAck('media:newConsumer', m.payload);
        res = { data: true };
      } catch (err) {
        res = { error: { code: 'UNAVAILABLE', message: (err as Error).message } };
      }
    this.#send(m.from, { k: 'res', id: m.id, ...res });
  }

  /** Serve a request relayed from another node, if this node is still the room's home. */
  async #serve(req: Message & { k: 'req' }): Promise<void> {
    const answer = (res: Omit<Message & { k: 'res' }, 'k' | 'id'>) =>
      this.#send(req.from, { k: 'res', id: req.id, ...res });
    try {
      // a node of the caller's site serves its rooms whichever node is their home (cascade)
      if (!req.site && (await this.#o.homes.homeOf(req.data.roomId)) !== this.#o.registry.nodeId)
        return answer({ moved: true });
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
      if (!handler) return answer({ error: { code: 'UNKNOWN_EVENT', message: `${req.event} is not relayed` } });
      const conn = {
        id: remote.id,
        deviceId: '',
        socket: undefined,
        principal,
        log: this.#o.log,
      } as unknown as Connection;
      answer({ data: await handler(req.data, conn) });
    } catch (err) {
      const wire = toWireError(err);
      if (!wire) this.#o.log.error({ err, event: req.event }, 'media relay: relayed request failed');
      const e = wire ?? new MoimError('INTERNAL', 'internal error');
      answer({ error: { code: e.code, message: e.message } });
    }
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
        const res = await this.#call(
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
        (this.#o.io.to(away.socketId).emit as (e: string, p: unknown) => boolean)('room:closed', {
          roomId,
          reason: 'WORKER_DIED',
        });
      }
    }
  }
}
