/**
 * Per-person limits across the nodes of a cluster: one connection count and one request budget per
 * person, whichever nodes their tabs and devices are connected to.
 *
 * **Connections.** `plim:conn:<kind>:<pk>` is a hash node → connections of that kind (`socket`,
 * `yjs`) the person has there; `plim:node:<node>` lists the hashes a node has a count in. A claim
 * is one script: it sums the counts of nodes whose lease is current (a dead node's count is
 * dropped on the way), refuses at the cap, else counts one more here — so two handshakes racing
 * on two nodes cannot both take the last slot. The node keeps its own counts as the truth and
 * writes them back whole (`RESYNC`) after Redis lost them (a restart), after this node was fenced
 * (other nodes dropped its counts), and after any claim or release whose answer was lost. The
 * counts of a node that died are dropped by every node that hears of it, and by every claim.
 *
 * **Requests.** Each node keeps the person's token bucket locally (the hot path never waits for
 * Redis). Every `syncMs` it adds what each person spent here to the running total
 * `plim:rate:<pk>` (one script for all of them) and learns from the total what the person spent
 * on other nodes since its last look, which it takes from its own bucket (into debt, at most one
 * burst deep). Over the cluster a person thus gets the rate, plus at most one burst per node they
 * use and about `syncMs` of rate per node (the lag) — never less than on one node. Spending older
 * than a second when a node looks again is mostly behind the bucket's horizon: at most one
 * second's rate of it is taken. Without Redis each node enforces its own limits (logged once per
 * outage).
 */

import type { PersonLimits } from '../gateway/PersonLimits.ts';
import type { SharedPersonLimits } from '../lib/SharedPersonLimits.ts';
import type { Logger } from '../logger.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import type { RedisConnections } from './redis.ts';

/** KEYS conn hash, nodes zset, node set. ARGV node, cap, now. 1 counted, 0 at the cap. */
const CLAIM = `
local sum = 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local node, n = flat[i], tonumber(flat[i + 1])
  if node == ARGV[1] then
    sum = sum + n
  else
    local lease = redis.call('ZSCORE', KEYS[2], node)
    if lease and tonumber(lease) > tonumber(ARGV[3]) then sum = sum + n else redis.call('HDEL', KEYS[1], node) end
  end
end
if sum >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[3], KEYS[1])
return 1`;

/** KEYS conn hash, node set. ARGV node. */
const RELEASE = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], KEYS[1])
end
return n`;

/** KEYS node set. ARGV node, n, then n × (conn hash, count): this node's counts, all of them. */
const RESYNC = `
local keep = {}
local n = tonumber(ARGV[2])
for i = 0, n - 1 do keep[ARGV[3 + 2 * i]] = ARGV[4 + 2 * i] end
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if keep[k] == nil then
    redis.call('HDEL', k, ARGV[1])
    redis.call('SREM', KEYS[1], k)
  end
end
for k, c in pairs(keep) do
  redis.call('HSET', k, ARGV[1], c)
  redis.call('SADD', KEYS[1], k)
end
return n`;

/** KEYS node set of a dead node. ARGV that node. */
const DROP_NODE = `
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('HDEL', k, ARGV[1]) end
redis.call('DEL', KEYS[1])
return 1`;

/** KEYS the people's rate totals. ARGV their requests here since the last sync, then ttl. */
const SPEND = `
local ttl = ARGV[#KEYS + 1]
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('INCRBY', KEYS[i], ARGV[i])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return out`;

export interface RedisPersonLimitsOptions {
  redis: RedisConnections;
  registry: NodeRegistry;
  /** This node's per-person buckets (the gateway's). */
  local: PersonLimits;
  log: Logger;
  /** How often spending is shared. @default 250 */
  syncMs?: number | undefined;
  /** A claim waiting longer than this for Redis is let through on the node's own cap. @default 1000 */
  claimTimeoutMs?: number | undefined;
}

/** A person's running total of requests on every node, when this node last added to it. */
interface Seen {
  total: number;
  at: number;
}

/** A person's total is forgotten after this long without requests. */
const RATE_TTL_MS = 60_000;

/** A total not looked at for longer than this is mostly history: at most this much of others' rate is taken. */
const HORIZON_MS = 1000;

export class RedisPersonLimits implements SharedPersonLimits {
  readonly #o: RedisPersonLimitsOptions;
  readonly #p: string;
  readonly #nodeSet: string;
  /** This node's connections by conn hash key (claimed ones, and those let through while Redis was away): the truth `RESYNC` writes back. */
  readonly #counts = new Map<string, number>();
  readonly #seen = new Map<string, Seen>();
  /** The per-person rate (requests/s), for the horizon. */
  readonly #rate: number;
  readonly #timer: NodeJS.Timeout;
  #syncing = false;
  #pruned = 0;
  #resyncing: Promise<void> | undefined;
  #dirty = false;
  #down = false;

  constructor(opts: RedisPersonLimitsOptions) {
    this.#o = opts;
    this.#p = `${opts.redis.prefix}plim:`;
    this.#nodeSet = `${this.#p}node:${opts.registry.nodeId}`;
    this.#rate = opts.local.ratePerSec;
    opts.registry.on('nodeDead', (nodeId) => void this.#dropNode(nodeId));
    opts.registry.on('fenced', () => void this.#resync('fenced'));
    opts.registry.on('redisRestored', () => void this.#resync('redis restored'));
    this.#timer = setInterval(() => void this.#sync(), opts.syncMs ?? 250);
    this.#timer.unref();
  }

  async claim(kind: string, key: string, cap: number): Promise<boolean> {
    const hash = this.#hash(kind, key);
    const { cmd } = this.#o.redis;
    // counted here first: a write-back racing with this claim may count it twice (refusing a
    // connection early until the next write-back), never not at all
    this.#add(hash, 1);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#o.claimTimeoutMs ?? 1000);
    });
    const claimed = cmd
      .eval(CLAIM, 3, hash, this.#o.registry.nodesKey, this.#nodeSet, this.#o.registry.nodeId, cap, Date.now())
      .then((r) => Number(r) === 1);
    try {
      const r = await Promise.race([claimed, timeout]);
      if (r === 'timeout') {
        // the script may still run or not: the counts are written back whole once Redis answers
        this.#lost({ kind }, 'a connection claim timed out; the node cap alone applies');
        this.#markDirty();
        claimed.catch((err: unknown) => this.#o.log.debug({ err }, 'person limits: a late claim failed'));
        return true;
      }
      if (!r) this.#add(hash, -1);
      this.#recovered();
      return r;
    } catch (err) {
      this.#lost({ err, kind }, 'a connection claim failed; the node cap alone applies');
      this.#markDirty();
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  release(kind: string, key: string): void {
    const hash = this.#hash(kind, key);
    if (!this.#counts.has(hash)) return;
    this.#add(hash, -1);
    this.#o.redis.cmd.eval(RELEASE, 2, hash, this.#nodeSet, this.#o.registry.nodeId).then(
      () => this.#recovered(),
      (err: unknown) => {
        this.#lost({ err, kind }, 'a connection release failed; counts are written back when Redis answers');
        this.#markDirty();
      },
    );
  }

  /** A person's connections of `kind` on every node, as Redis counts them (tests, diagnostics). */
  async clusterCount(kind: string, key: string): Promise<number> {
    const counts = await this.#o.redis.cmd.hvals(this.#hash(kind, key));
    return counts.reduce((sum, n) => sum + Number(n), 0);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #add(hash: string, by: number): void {
    const n = (this.#counts.get(hash) ?? 0) + by;
    if (n <= 0) this.#counts.delete(hash);
    else this.#counts.set(hash, n);
  }

  #hash(kind: string, key: string): string {
    return `${this.#p}conn:${kind}:${key}`;
  }

  #markDirty(): void {
    this.#dirty = true;
    if (!this.#down) void this.#resync('a lost answer');
  }

  #lost(ctx: Record<string, unknown>, msg: string): void {
    if (this.#down) return;
    this.#down = true;
    this.#o.log.warn(ctx, `person limits: ${msg}`);
  }

  #recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#o.log.info('person limits: Redis answers again; shared limits resume');
    if (this.#dirty) void this.#resync('Redis answers again');
  }

  /** Write this node's counts back whole (one at a time; a request during one runs after it). */
  #resync(why: string): Promise<void> {
    const run = async (): Promise<void> => {
      this.#dirty = false;
      const args: (string | number)[] = [this.#o.registry.nodeId, this.#counts.size];
      for (const [hash, n] of this.#counts) args.push(hash, n);
      try {
        await this.#o.redis.cmd.eval(RESYNC, 1, this.#nodeSet, ...args);
        this.#o.log.info({ why, people: this.#counts.size }, 'person limits: connection counts written back');
      } catch (err) {
        this.#dirty = true;
        this.#lost({ err, why }, 'writing the connection counts back failed; retried when Redis answers');
      }
    };
    const next = (this.#resyncing ?? Promise.resolve()).then(run);
    this.#resyncing = next;
    return next;
  }

  async #dropNode(nodeId: string): Promise<void> {
    if (nodeId === this.#o.registry.nodeId) return;
    try {
      await this.#o.redis.cmd.eval(DROP_NODE, 1, `${this.#p}node:${nodeId}`, nodeId);
    } catch (err) {
      // the claims drop a dead node's counts as they meet them
      this.#o.log.warn({ err, node: nodeId }, 'person limits: could not drop a dead node’s counts');
    }
  }

  /** Share what people spent here since the last sync; learn what they spent elsewhere meanwhile. */
  async #sync(): Promise<void> {
    if (this.#syncing) return;
    const spent = this.#o.local.drainSpent();
    if (spent.size === 0) return;
    this.#syncing = true;
    const keys: string[] = [];
    const deltas: number[] = [];
    for (const [key, n] of spent) {
      keys.push(`${this.#p}rate:${key}`);
      deltas.push(n);
    }
    try {
      const totals = (await this.#o.redis.cmd.eval(SPEND, keys.length, ...keys, ...deltas, RATE_TTL_MS)) as number[];
      const now = Date.now();
      let i = 0;
      for (const [key, n] of spent) {
        const total = Number(totals[i++]);
        const seen = this.#seen.get(key);
        // first look, or the total expired and started again: nothing known of others yet
        let others = seen && total - n >= seen.total ? total - n - seen.total : 0;
        if (seen && now - seen.at > HORIZON_MS) others = Math.min(others, this.#rate);
        this.#o.local.spentElsewhere(key, others);
        this.#seen.set(key, { total, at: now });
      }
      if (now - this.#pruned > RATE_TTL_MS) {
        this.#pruned = now;
        for (const [key, seen] of this.#seen) if (now - seen.at > RATE_TTL_MS) this.#seen.delete(key);
      }
      this.#recovered();
    } catch (err) {
      this.#lost({ err, people: spent.size }, 'sharing request budgets failed; each node enforces its own');
    } finally {
      this.#syncing = false;
    }
  }
}
