/**
 * Which nodes are alive, in Redis: every node renews its lease every `heartbeatMs` (a sorted set
 * of nodes by lease expiry, plus its announced info), and one node at a time — the sweeper,
 * elected with `SET NX PX` — declares the nodes whose lease lapsed dead: it removes them, leaves a
 * tombstone of their epoch and publishes `node-dead`, which every node hears ('nodeDead' event).
 * Nothing relies on keyspace expiry events.
 *
 * Fencing: each run of a node registers under a fresh epoch. A node that was declared dead while
 * it could not renew (paused, partitioned) finds its tombstone at the next renewal, emits
 * 'fenced' — so the services drop what they held under the old epoch (room homes, devices) — and
 * registers again under a new epoch. After a Redis restart (nothing stored), nodes simply
 * register again and emit 'redisRestored' so the services re-assert their state.
 */
import { randomBytes } from 'node:crypto';
import { TypedEmitter } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import type { RedisConnections } from './redis.ts';

export interface NodeInfo {
  id: string;
  epoch: string;
  /** Where clients and other nodes reach it (HTTP base URL). */
  url: string;
  site: string | null;
  startedAt: number;
}

export interface NodeRegistryEvents {
  /** A node (not this one) was declared dead by the sweeper. */
  nodeDead: (nodeId: string) => void;
  /** This node had been declared dead (paused past its lease); it registered again under `epoch`. */
  fenced: (epoch: string) => void;
  /** Redis lost our registration without declaring us dead (it restarted): re-assert soft state. */
  redisRestored: () => void;
}

export interface NodeRegistryOptions {
  redis: RedisConnections;
  nodeId: string;
  url: string;
  site?: string | null | undefined;
  log: Logger;
  /** Lease renewal period. @default 1500 */
  heartbeatMs?: number | undefined;
  /** A node whose lease is older than this is dead. @default 5000 */
  leaseMs?: number | undefined;
}

/** 1 renewed, 2 registered afresh (no entry: Redis restarted or first run), 0 fenced. */
const RENEW = `
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur and cur ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
if cur then return 1 end
return 2`;

/** Declare a node dead if its lease is still lapsed: 1 when this call did it. */
const DECLARE_DEAD = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
local epoch = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], 'dead:' .. (epoch or ''))
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('PUBLISH', KEYS[4], ARGV[1])
return 1`;

/** Take or keep the sweeper role: 1 when held by ARGV[1]. */
const LEAD = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export class NodeRegistry extends TypedEmitter<NodeRegistryEvents> {
  readonly #o: NodeRegistryOptions;
  readonly #heartbeatMs: number;
  readonly #leaseMs: number;
  readonly #keys: { nodes: string; epochs: string; info: string; sweeper: string; dead: string };
  #epoch = newEpoch();
  #timer: NodeJS.Timeout | undefined;
  #leader = false;
  #beating = false;
  #stopped = false;
  /** Registered once (a later "registered afresh" means Redis lost our entry). */
  #registered = false;
  readonly #startedAt = Date.now();

  constructor(opts: NodeRegistryOptions) {
    super();
    this.#o = opts;
    this.#heartbeatMs = opts.heartbeatMs ?? 1500;
    this.#leaseMs = opts.leaseMs ?? 5000;
    const p = opts.redis.prefix;
    this.#keys = {
      nodes: `${p}nodes`,
      epochs: `${p}node-epochs`,
      info: `${p}node-info`,
      sweeper: `${p}sweeper`,
      dead: `${p}node-dead`,
    };
    this.onListenerError = (event, err) => opts.log.error({ err, event }, 'node registry listener failed');
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }

  /** The sorted set of nodes by lease expiry (ms), for scripts that count only live nodes. */
  get nodesKey(): string {
    return this.#keys.nodes;
  }

  /** This run's fencing epoch (changes when the node was fenced). */
  get epoch(): string {
    return this.#epoch;
  }

  /** True while this node is the sweeper. */
  get leader(): boolean {
    return this.#leader;
  }

  /** Register, subscribe to deaths and start the heartbeat. */
  async start(): Promise<void> {
    const { sub } = this.#o.redis;
    sub.on('message', this.#onMessage);
    await sub.subscribe(this.#keys.dead);
    await this.#beat();
    this.#timer = setInterval(() => void this.#beat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Nodes whose lease is current, with their info. */
  async alive(): Promise<NodeInfo[]> {
    const { cmd } = this.#o.redis;
    const ids = await cmd.zrangebyscore(this.#keys.nodes, Date.now(), '+inf');
    if (ids.length === 0) return [];
    const infos = await cmd.hmget(this.#keys.info, ...ids);
    return infos.flatMap((raw) => (raw ? [JSON.parse(raw) as NodeInfo] : []));
  }

  /** Is `nodeId` alive under `epoch` (its current registration)? */
  async isAlive(nodeId: string, epoch?: string): Promise<boolean> {
    const { cmd } = this.#o.redis;
    const [score, cur] = await Promise.all([cmd.zscore(this.#keys.nodes, nodeId), cmd.hget(this.#keys.epochs, nodeId)]);
    return score !== null && Number(score) > Date.now() && (epoch === undefined || cur === epoch);
  }

  /** Stop renewing and leave the registry at once (a draining node), so nobody waits for its lease. */
  async stop(opts: { leave?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#o.redis.sub.off('message', this.#onMessage);
    if (!opts.leave) return;
    const { cmd } = this.#o.redis;
    try {
      await cmd.eval(
        DECLARE_DEAD,
        4,
        this.#keys.nodes,
        this.#keys.epochs,
        this.#keys.info,
        this.#keys.dead,
        this.#o.nodeId,
        '+inf',
      );
    } catch (err) {
      this.#o.log.warn({ err }, 'node registry: could not leave (the lease will lapse)');
    }
  }

  #onMessage = (channel: string, message: string): void => {
    if (channel !== this.#keys.dead || message === this.#o.nodeId) return;
    this.safeEmit('nodeDead', message);
  };

  async #beat(): Promise<void> {
    if (this.#beating || this.#stopped) return;
    this.#beating = true;
    try {
      await this.#renew();
      await this.#sweep();
    } catch (err) {
      // Redis away: the next beat tries again; the lease may lapse and the node be fenced
      this.#o.log.warn({ err }, 'node registry: heartbeat failed');
    } finally {
      this.#beating = false;
    }
  }

  async #renew(): Promise<void> {
    const { cmd } = this.#o.redis;
    const run = (): Promise<unknown> =>
      cmd.eval(
        RENEW,
        3,
        this.#keys.nodes,
        this.#keys.epochs,
        this.#keys.info,
        this.#o.nodeId,
        this.#epoch,
        Date.now() + this.#leaseMs,
        JSON.stringify(this.#info()),
      );
    const r = Number(await run());
    if (r === 2) {
      if (this.#registered) this.safeEmit('redisRestored');
      this.#registered = true;
    } else if (r === 0) {
      const old = this.#epoch;
      this.#epoch = newEpoch();
      this.#o.log.warn(
        { old, epoch: this.#epoch },
        'node registry: this node was declared dead; fenced, registering again',
      );
      await cmd.hdel(this.#keys.epochs, this.#o.nodeId);
      await run();
      this.safeEmit('fenced', this.#epoch);
    }
  }

  async #sweep(): Promise<void> {
    const { cmd } = this.#o.redis;
    this.#leader = Number(await cmd.eval(LEAD, 1, this.#keys.sweeper, this.#o.nodeId, this.#leaseMs)) === 1;
    if (!this.#leader) return;
    const now = Date.now();
    const lapsed = await cmd.zrangebyscore(this.#keys.nodes, '-inf', now);
    for (const id of lapsed) {
      if (id === this.#o.nodeId) continue;
      const did = Number(
        await cmd.eval(DECLARE_DEAD, 4, this.#keys.nodes, this.#keys.epochs, this.#keys.info, this.#keys.dead, id, now),
      );
      if (did === 1) this.#o.log.warn({ node: id }, 'node registry: node declared dead (lease lapsed)');
    }
  }

  #info(): NodeInfo {
    return {
      id: this.#o.nodeId,
      epoch: this.#epoch,
      url: this.#o.url,
      site: this.#o.site ?? null,
      startedAt: this.#startedAt,
    };
  }
}

function newEpoch(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}
