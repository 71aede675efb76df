/**
 * Cascaded video rooms: a room whose participants are served by several nodes has a router (a
 * live MediaRoom) on each, and every producer crosses to each other participating node once, over
 * a mediasoup PipeTransport pair set up by hand (pipeToRouter is in-process only) through the
 * cluster's own messaging: Redis pub/sub on `cascade:<node>`, the set `cascade-room:<id>` naming
 * the nodes serving a room. Consumers always consume locally.
 *
 * Per room and ordered pair of nodes A→B there is one pipe: A's PipeTransport consumes A's local
 * producers, B's produces them again (same ids) for a *remote peer* standing for A's participant
 * (sfu/src/cascade.ts), whom B's local peers consume like anyone else. A pipe consumer forwards
 * every encoding, so layers are chosen by each node's own consumers; the pipe consumer stays paused
 * while B has no consumer of that producer (B says so: `demand`). Pause, resume and close of a
 * producer follow through messages; a node that leaves the room (`bye`) or dies (`nodeDead`) has
 * its pipes closed and its remote peers removed; a room closes on a node when its last local
 * participant leaves, and so the room ends when its last participant anywhere leaves.
 *
 * Room state stays apart from routers: the record is the store's, the home node (RoomHomes) is
 * the cluster's anchor for nodes without a site, and any node may hold a router of the room.
 */
import { MoimError, mediaSourceSchema, type PeerInfo } from '@moim/protocol';
import { isRemotePeer, type ListenAddress, type MediaRoom, markRemote, type Peer, type PeerSignal } from '@moim/sfu';
import type { Consumer, PipeTransport, Producer, RtpParameters, SrtpParameters } from 'mediasoup/types';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { MediaService } from '../media/MediaService.ts';
import type { Metrics } from '../observability/Metrics.ts';
import { registerCascadeMetrics } from './cascadeMetrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import { RedisRpc } from './RedisRpc.ts';
import type { RedisConnections } from './redis.ts';

const peerCard = z.object({
  id: z.string(),
  sub: z.string(),
  displayName: z.string(),
  handRaised: z.boolean(),
  /** False while its socket is gone (grace period); brought over by the next roster. */
  connected: z.boolean(),
});
type PeerCard = z.infer<typeof peerCard>;

/** What a node has announced to another for one room: its participants and the producers piped there. */
const roster = z.object({
  peers: z.array(peerCard),
  producers: z.array(z.object({ id: z.string(), paused: z.boolean() })),
});
type Roster = z.infer<typeof roster>;

/** mediasoup's own parameters, produced by the other node's mediasoup: checked as objects only. */
const opaque = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), `${what} is not an object`);
const srtp = opaque<SrtpParameters>('srtp');
const base = { roomId: z.string(), from: z.string() };

const messageSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('hello'), ...base, reply: z.boolean(), roster: roster.optional() }),
  z.object({ k: z.literal('repipe'), ...base, producerId: z.string() }),
  z.object({ k: z.literal('info'), id: z.string(), ...base }),
  z.object({ k: z.literal('infoRes'), id: z.string(), peers: z.array(opaque<PeerInfo>('peer')).optional() }),
  z.object({ k: z.literal('bye'), ...base, closed: z.boolean().optional() }),
  z.object({ k: z.literal('peer'), ...base, peer: peerCard, joined: z.boolean() }),
  z.object({
    k: z.literal('open'),
    id: z.string(),
    ...base,
    ip: z.string(),
    port: z.number().int(),
    srtp: srtp.optional(),
  }),
  z.object({
    k: z.literal('opened'),
    id: z.string(),
    ip: z.string().optional(),
    port: z.number().int().optional(),
    srtp: srtp.optional(),
    error: z.string().optional(),
  }),
  z.object({
    k: z.literal('pipe'),
    ...base,
    peer: peerCard,
    producerId: z.string(),
    kind: z.enum(['audio', 'video']),
    rtpParameters: opaque<RtpParameters>('rtpParameters'),
    source: mediaSourceSchema,
    index: z.number().int(),
    paused: z.boolean(),
  }),
  z.object({ k: z.literal('unpipe'), ...base, producerId: z.string() }),
  z.object({ k: z.literal('paused'), ...base, producerId: z.string(), paused: z.boolean() }),
  z.object({ k: z.literal('demand'), ...base, producerId: z.string(), wanted: z.boolean() }),
  z.object({ k: z.literal('moderate'), ...base, peerId: z.string(), signal: opaque<PeerSignal>('signal') }),
]);
type Message = z.infer<typeof messageSchema>;

/** A producer piped in, with the local consumers of it that their receivers have not paused. */
interface InProducer {
  producer: Producer;
  peerId: string;
  watching: Set<Consumer>;
}

/** The pipes of one room between this node and one other node. */
export interface CascadeLink {
  readonly node: string;
  /** This node's side of the pipe carrying its producers there. */
  out: Promise<PipeTransport> | undefined;
  /** The same, once set up. */
  outTransport: PipeTransport | undefined;
  /** Pipe consumers of this node's producers, by producer id. */
  readonly outConsumers: Map<string, Consumer>;
  /** Producers whose pipe consumer is being made. */
  readonly piping: Set<string>;
  /** This node's side of the pipe carrying that node's producers here. */
  in: PipeTransport | undefined;
  /** Piped-in producers, by id, with the remote peer owning each. */
  readonly inProducers: Map<string, InProducer>;
  /** That node's participants, as remote peers of the local room. */
  readonly ghosts: Map<string, Peer>;
  /** Messages from that node are handled one after the other (a close never overtakes its pipe). */
  queue: Promise<void>;
}

interface CascadeRoom {
  roomId: string;
  room: MediaRoom;
  links: Map<string, CascadeLink>;
  /** Local participants were still in it when it closed (a moderator closed it: it closes everywhere). */
  closedWithPeers: boolean;
}

export interface CascadeOptions {
  redis: RedisConnections;
  registry: NodeRegistry;
  media: MediaService;
  /** Where this node's pipe transports listen (the first media listen address). */
  listen: ListenAddress;
  srtp: boolean;
  /** How long the far side may take to set up its side of a pipe. @default 5000 */
  timeoutMs?: number | undefined;
  /** How often each link's roster is sent (repairs what lost messages left). @default 10000 */
  syncMs?: number | undefined;
  log: Logger;
  metrics?: Metrics | undefined;
}

export class Cascade {
  readonly #o: CascadeOptions;
  /** `cascade:<node>`: requests (`open`, `info`) answered by `opened` and `infoRes`, and notices. */
  readonly #rpc: RedisRpc<Message>;
  readonly #rooms = new Map<string, CascadeRoom>();
  /** Ids of remote peers being added (the room's `peerJoined` fires before they can be marked). */
  readonly #arriving = new Set<string>();
  readonly #syncTimer: NodeJS.Timeout;
  #closed = false;

  constructor(opts: CascadeOptions) {
    this.#o = opts;
    this.#rpc = new RedisRpc<Message>({
      redis: opts.redis,
      nodeId: opts.registry.nodeId,
      name: 'cascade',
      schema: messageSchema,
      answers: ['opened', 'infoRes'],
      onMessage: (m) => this.#onMessage(m),
      timeoutMs: opts.timeoutMs,
      log: opts.log,
    });
    opts.media.on('memberJoined', (roomId) => this.#attach(roomId));
    // Redis lost everything (restarted): enter the rooms' node sets again
    opts.registry.on('redisRestored', () => {
      for (const r of this.#rooms.values()) void this.#announce(r);
    });
    opts.registry.on('nodeDead', (node) => {
      for (const r of this.#rooms.values()) this.#dropLink(r, node, 'the node died');
    });
    if (opts.metrics) registerCascadeMetrics(opts.metrics, { links: () => this.links(), log: opts.log });
    // anti-entropy: each link's roster now and then (a lost message is repaired within a period)
    this.#syncTimer = setInterval(() => {
      for (const r of this.#rooms.values())
        for (const link of r.links.values()) this.#send(link.node, this.#hello(r, link, false));
    }, opts.syncMs ?? 10_000);
    this.#syncTimer.unref();
  }

  get nodeId(): string {
    return this.#o.registry.nodeId;
  }

  async start(): Promise<void> {
    await this.#rpc.start();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#syncTimer);
    await this.#rpc.close();
    for (const r of [...this.#rooms.values()]) await this.#detach(r);
  }

  /** Every link of every cascaded room here (metrics, tests). */
  links(): CascadeLink[] {
    return [...this.#rooms.values()].flatMap((r) => [...r.links.values()]);
  }

  // -------------------------------------------------------------------------------------------
  // Rooms joining and leaving the cascade

  #attach(roomId: string): void {
    if (this.#closed || this.#rooms.has(roomId)) return;
    const room = this.#o.media.liveRoom(roomId);
    if (!room || room.closed) return;
    const r: CascadeRoom = { roomId, room, links: new Map(), closedWithPeers: false };
    this.#rooms.set(roomId, r);
    for (const peer of room.peers()) if (!isRemotePeer(peer)) this.#watchPeer(r, peer);
    room.on('peerJoined', (peer) => {
      if (isRemotePeer(peer) || this.#arriving.has(peer.id)) return;
      this.#watchPeer(r, peer);
      for (const link of r.links.values()) this.#send(link.node, this.#peerMessage(r, peer, true));
    });
    room.on('peerLeft', (peer, reason) => {
      if (isRemotePeer(peer)) return;
      if (reason === 'closed') r.closedWithPeers = true;
      if (room.closed) return;
      for (const link of r.links.values()) this.#send(link.node, this.#peerMessage(r, peer, false));
    });
    room.on('producer', (peer, producer) => {
      if (isRemotePeer(peer)) return;
      for (const link of r.links.values()) void this.#pipeOut(r, link, peer, producer);
    });
    room.on('close', (reason) => {
      if (this.#rooms.get(roomId) === r) void this.#detach(r, reason === 'ROOM_CLOSED' && r.closedWithPeers);
    });
    void this.#announce(r);
  }

  /** Enter the room's node set and greet the other nodes serving it. */
  async #announce(r: CascadeRoom): Promise<void> {
    const key = this.#roomKey(r.roomId);
    try {
      await this.#o.redis.cmd.sadd(key, this.nodeId);
      const nodes = await this.#o.redis.cmd.smembers(key);
      for (const node of nodes) {
        if (node === this.nodeId) continue;
        // a standing link (Redis came back) carries what was announced on it, for the other node to sync
        const link = r.links.get(node);
        const hello: Message = link
          ? this.#hello(r, link, true)
          : { k: 'hello', roomId: r.roomId, from: this.nodeId, reply: true };
        const heard = await this.#publish(node, hello);
        // nobody listens there: a node gone without leaving (its death is swept anyway)
        if (heard === 0) await this.#o.redis.cmd.srem(key, node);
      }
    } catch (err) {
      this.#o.log.error({ err, room: r.roomId }, 'cascade: could not announce the room to the other nodes');
    }
  }

  /** The room closed here (`closed`: by a moderator, so it closes on the other nodes too). */
  async #detach(r: CascadeRoom, closed = false): Promise<void> {
    this.#rooms.delete(r.roomId);
    for (const node of [...r.links.keys()]) {
      this.#send(node, { k: 'bye', roomId: r.roomId, from: this.nodeId, ...(closed ? { closed } : {}) });
      this.#dropLink(r, node, 'the room closed here');
    }
    await this.#o.redis.cmd
      .srem(this.#roomKey(r.roomId), this.nodeId)
      .catch((err: unknown) => this.#o.log.warn({ err, room: r.roomId }, 'cascade: could not leave the room set'));
  }

  /** The link to `node`, made (and this node's participants and producers introduced there) once. */
  #link(r: CascadeRoom, node: string): CascadeLink {
    let link = r.links.get(node);
    if (link) return link;
    link = {
      node,
      out: undefined,
      outTransport: undefined,
      outConsumers: new Map(),
      piping: new Set(),
      in: undefined,
      inProducers: new Map(),
      ghosts: new Map(),
      queue: Promise.resolve(),
    };
    r.links.set(node, link);
    this.#o.log.info({ room: r.roomId, node }, 'cascade: room linked with another node');
    this.#introduce(r, link);
    return link;
  }

  /** Announce this node's participants to `link.node` and pipe their producers there (each once). */
  #introduce(r: CascadeRoom, link: CascadeLink): void {
    for (const peer of r.room.peers()) {
      if (isRemotePeer(peer)) continue;
      this.#send(link.node, this.#peerMessage(r, peer, true));
      for (const { producer } of peer.producers.values()) void this.#pipeOut(r, link, peer, producer);
    }
  }

  /** A greeting carrying what this node announced to `link.node` (the other node syncs on it). */
  #hello(r: CascadeRoom, link: CascadeLink, reply: boolean): Message {
    const roster: Roster = {
      peers: r.room.peers().flatMap((p) => (isRemotePeer(p) ? [] : [card(p)])),
      producers: [...link.outConsumers].map(([id, c]) => ({ id, paused: c.producerPaused })),
    };
    return { k: 'hello', roomId: r.roomId, from: this.nodeId, reply, roster };
  }

  /**
   * Bring the local view of `link.node`'s participants in line with its roster: messages lost
   * while Redis was away (pub/sub keeps nothing) leave no remote peer, pipe nor pause behind.
   */
  async #sync(r: CascadeRoom, link: CascadeLink, roster: Roster): Promise<void> {
    if (r.links.get(link.node) !== link || r.room.closed) return;
    const peers = new Set(roster.peers.map((p) => p.id));
    for (const [id, ghost] of [...link.ghosts]) if (!peers.has(id)) r.room.removePeer(ghost.id, 'left');
    for (const c of roster.peers) this.#ghost(r, link, c);
    const producers = new Map(roster.producers.map((p) => [p.id, p.paused]));
    for (const [id, e] of [...link.inProducers]) if (!producers.has(id)) e.producer.close();
    for (const [id, paused] of producers) {
      const p = link.inProducers.get(id)?.producer;
      if (!p || p.closed) this.#send(link.node, { k: 'repipe', roomId: r.roomId, from: this.nodeId, producerId: id });
      else if (p.paused !== paused) await (paused ? p.pause() : p.resume());
    }
  }

  /** Close the pipes with `node` and remove its participants from the local room. */
  #dropLink(r: CascadeRoom, node: string, why: string): void {
    const link = r.links.get(node);
    if (!link) return;
    r.links.delete(node);
    // one being set up closes itself when it finds the link gone
    link.outTransport?.close();
    link.in?.close();
    for (const ghost of link.ghosts.values()) if (!r.room.closed) r.room.removePeer(ghost.id, 'left');
    this.#o.log.info({ room: r.roomId, node, why }, 'cascade: link closed');
  }

  // -------------------------------------------------------------------------------------------
  // This node's producers going out

  async #pipeOut(r: CascadeRoom, link: CascadeLink, peer: Peer, producer: Producer, attempt = 1): Promise<void> {
    // once per producer and link, whichever paths (a new producer, a new link, a retry) meet here
    if (link.outConsumers.has(producer.id) || link.piping.has(producer.id)) return;
    link.piping.add(producer.id);
    try {
      link.out ??= this.#openOut(r, link);
      const transport = await link.out;
      if (producer.closed || transport.closed) return;
      const consumer = await transport.consume({ producerId: producer.id });
      // nobody there consumes it yet: `demand` resumes it
      if (!consumer.closed) await consumer.pause();
      // the producer or the link closed meanwhile (closing the consumer): nothing to announce
      if (consumer.closed || producer.closed || transport.closed) {
        consumer.close();
        return;
      }
      link.outConsumers.set(producer.id, consumer);
      const base = { roomId: r.roomId, from: this.nodeId, producerId: producer.id };
      consumer.observer.once('close', () => link.outConsumers.delete(producer.id));
      consumer.on('producerclose', () => this.#send(link.node, { k: 'unpipe', ...base }));
      consumer.on('producerpause', () => this.#send(link.node, { k: 'paused', ...base, paused: true }));
      consumer.on('producerresume', () => this.#send(link.node, { k: 'paused', ...base, paused: false }));
      const entry = peer.producers.get(producer.id);
      this.#send(link.node, {
        k: 'pipe',
        ...base,
        peer: card(peer),
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
        source: entry?.source ?? 'camera',
        index: entry?.index ?? 0,
        paused: producer.paused,
      });
    } catch (err) {
      const again = attempt < PIPE_ATTEMPTS && r.links.get(link.node) === link && !producer.closed && !r.room.closed;
      this.#o.log.error(
        { err, room: r.roomId, node: link.node, producer: producer.id, attempt, again },
        'cascade: could not pipe a producer to another node',
      );
      if (again) setTimeout(() => void this.#pipeOut(r, link, peer, producer, attempt + 1), 1000).unref();
    } finally {
      link.piping.delete(producer.id);
    }
  }

  /** Set up this node's outgoing pipe to `link.node`: our PipeTransport, then theirs, connected both ways. */
  async #openOut(r: CascadeRoom, link: CascadeLink): Promise<PipeTransport> {
    const transport = await r.room.primaryRouter.createPipeTransport({
      listenInfo: this.#listenInfo(),
      enableRtx: true,
      enableSrtp: this.#o.srtp,
      appData: { cascade: 'out', node: link.node, roomId: r.roomId },
    });
    try {
      const res = await this.#call<'opened'>(link.node, (id) => ({
        k: 'open',
        id,
        roomId: r.roomId,
        from: this.nodeId,
        ip: this.#announced(),
        port: transport.tuple.localPort,
        ...(transport.srtpParameters ? { srtp: transport.srtpParameters } : {}),
      }));
      if (res.error || res.ip === undefined || res.port === undefined)
        throw new Error(`the other node refused the pipe: ${res.error ?? 'no address'}`);
      await transport.connect({ ip: res.ip, port: res.port, ...(res.srtp ? { srtpParameters: res.srtp } : {}) });
      if (r.links.get(link.node) !== link) throw new Error('the link closed meanwhile');
      link.outTransport = transport;
      return transport;
    } catch (err) {
      transport.close();
      if (link.out) link.out = undefined; // the next producer tries again
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Messages

  #onMessage(m: Message): void {
    // answers (`opened`, `infoRes`) go to their requests (RedisRpc)
    if (m.k === 'opened' || m.k === 'infoRes') return;
    const r = this.#rooms.get(m.roomId);
    if (m.k === 'info') {
      this.#send(m.from, { k: 'infoRes', id: m.id, ...(r && !r.room.closed ? { peers: peerInfos(r.room) } : {}) });
      return;
    }
    if (m.k === 'open' && !r) {
      this.#send(m.from, { k: 'opened', id: m.id, error: 'the room is not served here' });
      return;
    }
    if (!r) return;
    if (m.k === 'hello') {
      const known = r.links.get(m.from);
      const link = this.#link(r, m.from);
      // a greeting on a standing link (a sync, or the other node re-announcing after Redis came
      // back): announce again what may have been lost (the other node ignores what it has)
      if (known) this.#introduce(r, link);
      if (m.reply) this.#send(m.from, this.#hello(r, link, false));
      const roster = m.roster;
      if (roster)
        link.queue = link.queue.then(() =>
          this.#sync(r, link, roster).catch((err: unknown) =>
            this.#o.log.error({ err, room: r.roomId, node: link.node }, 'cascade: sync failed'),
          ),
        );
      return;
    }
    if (m.k === 'bye') {
      this.#dropLink(r, m.from, 'the room closed there');
      if (m.closed) r.room.close('ROOM_CLOSED');
      return;
    }
    const link = this.#link(r, m.from);
    const run = () =>
      this.#handle(r, link, m).catch((err: unknown) =>
        this.#o.log.error({ err, room: r.roomId, node: m.from, kind: m.k }, 'cascade: message failed'),
      );
    link.queue = link.queue.then(run);
  }

  async #handle(r: CascadeRoom, link: CascadeLink, m: Message): Promise<void> {
    if (r.links.get(link.node) !== link || r.room.closed) return;
    switch (m.k) {
      case 'open': {
        link.in?.close();
        link.in = undefined;
        try {
          const t = await r.room.primaryRouter.createPipeTransport({
            listenInfo: this.#listenInfo(),
            enableRtx: true,
            enableSrtp: m.srtp !== undefined,
            appData: { cascade: 'in', node: link.node, roomId: r.roomId },
          });
          link.in = t;
          await t.connect({ ip: m.ip, port: m.port, ...(m.srtp ? { srtpParameters: m.srtp } : {}) });
          this.#send(m.from, {
            k: 'opened',
            id: m.id,
            ip: this.#announced(),
            port: t.tuple.localPort,
            ...(t.srtpParameters ? { srtp: t.srtpParameters } : {}),
          });
        } catch (err) {
          this.#send(m.from, { k: 'opened', id: m.id, error: (err as Error).message });
          throw err;
        }
        return;
      }
      case 'peer': {
        if (m.joined) this.#ghost(r, link, m.peer);
        else {
          const ghost = link.ghosts.get(m.peer.id);
          link.ghosts.delete(m.peer.id);
          if (ghost) r.room.removePeer(ghost.id, 'left');
        }
        return;
      }
      case 'pipe': {
        if (!link.in || link.in.closed) throw new Error('a producer was piped before its transport');
        const ghost = this.#ghost(r, link, m.peer);
        link.inProducers.get(m.producerId)?.producer.close();
        const producer = await link.in.produce({
          id: m.producerId,
          kind: m.kind,
          rtpParameters: m.rtpParameters,
          paused: m.paused,
          appData: { cascade: true, node: link.node, peerId: ghost.id },
        });
        const entry: InProducer = { producer, peerId: ghost.id, watching: new Set() };
        link.inProducers.set(m.producerId, entry);
        producer.observer.once('close', () => {
          if (link.inProducers.get(m.producerId) === entry) link.inProducers.delete(m.producerId);
        });
        if (ghost.closed) {
          producer.close();
          return;
        }
        await r.room.adoptProducer(ghost, producer, { source: m.source, index: m.index });
        return;
      }
      case 'unpipe':
        link.inProducers.get(m.producerId)?.producer.close();
        return;
      case 'paused': {
        const p = link.inProducers.get(m.producerId)?.producer;
        if (!p || p.closed) return;
        if (m.paused) await p.pause();
        else await p.resume();
        return;
      }
      case 'moderate':
        await this.#moderate(r, m);
        return;
      case 'repipe': {
        // the other node lost this pipe: set it up again
        link.outConsumers.get(m.producerId)?.close();
        const owner = r.room.peers().find((p) => !isRemotePeer(p) && p.producers.has(m.producerId));
        const producer = owner?.producers.get(m.producerId)?.producer;
        if (owner && producer && !producer.closed) void this.#pipeOut(r, link, owner, producer);
        return;
      }
      case 'demand': {
        const c = link.outConsumers.get(m.producerId);
        if (!c || c.closed) return;
        if (m.wanted) await c.resume();
        else await c.pause();
        return;
      }
      default:
        return;
    }
  }

  /** The remote peer standing for `card` (a participant of `link.node`) in the local room. */
  #ghost(r: CascadeRoom, link: CascadeLink, c: PeerCard): Peer {
    const known = link.ghosts.get(c.id);
    if (known && !known.closed) {
      if (known.handRaised !== c.handRaised) r.room.setHandRaised(known, c.handRaised);
      if (known.connected !== c.connected) r.room.setPeerConnected(known, c.connected);
      return known;
    }
    if (r.room.getPeer(c.id)) throw new MoimError('CONFLICT', `peer ${c.id} is already in the room`);
    this.#arriving.add(c.id);
    let ghost: Peer;
    try {
      ghost = r.room.addPeer({ id: c.id, sub: c.sub, displayName: c.displayName });
    } finally {
      this.#arriving.delete(c.id);
    }
    markRemote(ghost, link.node);
    link.ghosts.set(c.id, ghost);
    if (c.handRaised) r.room.setHandRaised(ghost, true);
    if (!c.connected) r.room.setPeerConnected(ghost, false);
    // what a moderator here does to the remote peer is done to the participant on its node
    ghost.on('signal', (signal) => {
      if (
        signal.event !== 'media:producerPaused' &&
        signal.event !== 'media:producerClosed' &&
        signal.event !== 'room:removed'
      )
        return;
      this.#send(link.node, { k: 'moderate', roomId: r.roomId, from: this.nodeId, peerId: c.id, signal });
    });
    ghost.once('close', () => {
      if (link.ghosts.get(c.id) === ghost) link.ghosts.delete(c.id);
      for (const e of link.inProducers.values()) if (e.peerId === c.id) e.producer.close();
    });
    return ghost;
  }

  /**
   * A moderator on another node acted on one of this node's participants (through its remote peer
   * there, which got the signal its client would have): carry it out on the participant here; the
   * result (paused, closed, gone) reaches every node as usual. Who may moderate was checked there.
   */
  async #moderate(r: CascadeRoom, m: Message & { k: 'moderate' }): Promise<void> {
    const peer = r.room.getPeer(m.peerId);
    if (!peer || isRemotePeer(peer)) return;
    const s = m.signal;
    if (s.event === 'media:producerPaused' && s.payload.byModerator)
      await r.room.mutePeer(peer.id, s.payload.producerId);
    else if (s.event === 'media:producerClosed' && s.payload.reason === 'moderator')
      r.room.stopVideo(peer.id, s.payload.producerId);
    else if (s.event === 'room:removed') r.room.removePeer(peer.id, 'removed', s.payload.reason ?? undefined);
    this.#o.log.info(
      { room: r.roomId, peer: peer.id, action: s.event, by: m.from },
      'cascade: moderated from another node',
    );
  }

  /** Count a local peer's consumers of piped-in producers: the far side pipes only what is consumed. */
  #watchPeer(r: CascadeRoom, peer: Peer): void {
    // a raised or lowered hand reaches the other nodes (the peer gets the room's broadcast too)
    peer.on('signal', (signal) => {
      if (signal.event !== 'room:handRaised' || signal.payload.peerId !== peer.id) return;
      for (const link of r.links.values()) this.#send(link.node, this.#peerMessage(r, peer, true));
    });
    peer.on('newConsumer', (info) => {
      for (const link of r.links.values()) {
        const entry = link.inProducers.get(info.producerId);
        if (!entry) continue;
        const consumer = peer.consumers.get(info.consumerId)?.consumer;
        if (!consumer || consumer.closed) return;
        // a consumer counts while its receiver has it running (created paused, resumed on the
        // client's acknowledgement; a client that hides a tile pauses it): the pipe runs while one does
        const recount = () => {
          const before = entry.watching.size;
          if (consumer.closed || consumer.paused) entry.watching.delete(consumer);
          else entry.watching.add(consumer);
          const after = entry.watching.size;
          if ((before === 0) !== (after === 0) && !entry.producer.closed)
            this.#demand(r, link, info.producerId, after > 0);
        };
        consumer.observer.on('pause', recount);
        consumer.observer.on('resume', recount);
        consumer.observer.once('close', recount);
        recount();
        return;
      }
    });
  }

  #demand(r: CascadeRoom, link: CascadeLink, producerId: string, wanted: boolean): void {
    this.#send(link.node, { k: 'demand', roomId: r.roomId, from: this.nodeId, producerId, wanted });
  }

  #peerMessage(r: CascadeRoom, peer: Peer, joined: boolean): Message {
    return { k: 'peer', roomId: r.roomId, from: this.nodeId, peer: card(peer), joined };
  }

  // -------------------------------------------------------------------------------------------
  // Transport

  #roomKey(roomId: string): string {
    return `${this.#o.redis.prefix}cascade-room:${roomId}`;
  }

  #listenInfo() {
    const l = this.#o.listen;
    return {
      protocol: 'udp' as const,
      ip: l.ip,
      ...(l.announcedAddress ? { announcedAddress: l.announcedAddress } : {}),
    };
  }

  #announced(): string {
    return this.#o.listen.announcedAddress ?? this.#o.listen.ip;
  }

  #publish(node: string, m: Message): Promise<number> {
    return this.#rpc.publish(node, m);
  }

  #send(node: string, m: Message): void {
    this.#rpc.send(node, m);
  }

  /** Ask `node` something (open its side of a pipe, its participants), answered within the timeout or refused. */
  #call<K extends 'opened' | 'infoRes'>(
    node: string,
    build: (id: string) => Message,
    timeoutMs?: number,
  ): Promise<Message & { k: K }> {
    return this.#rpc.request<Message & { k: K }>(node, build, timeoutMs);
  }

  /**
   * The participants of a room this node holds no router of, as a node serving it lists them
   * (its own and, as remote peers, the others'): room state is not tied to one router. Empty when
   * no node serves it; UNAVAILABLE when the one asked does not answer in time.
   */
  async peersElsewhere(roomId: string): Promise<PeerInfo[]> {
    const nodes = await this.#o.redis.cmd.smembers(this.#roomKey(roomId));
    for (const node of nodes) {
      if (node === this.nodeId) continue;
      const res = await this.#call<'infoRes'>(node, (id) => ({ k: 'info', id, roomId, from: this.nodeId }), 2000);
      if (res.peers) return res.peers;
    }
    return [];
  }
}

function peerInfos(room: MediaRoom): PeerInfo[] {
  return room.peers().map((p) => p.info());
}

/** Tries to pipe one producer to one node (a second after each failure) before giving up. */
const PIPE_ATTEMPTS = 3;

function card(peer: Peer): PeerCard {
  return {
    id: peer.id,
    sub: peer.sub,
    displayName: peer.displayName,
    handRaised: peer.handRaised,
    connected: peer.connected,
  };
}
