/**
 * Calls across nodes, in Redis (calls/CallDirectory.ts): `call-home:<id>` → the node holding the
 * call; `call-people:<person>` the ids of a person's active calls; `call-in:<person>` the calls
 * the person is in; `call-pair:<org> <caller> <callee>` a ringing 1:1 call. The claim of a pair
 * is one Lua script, so of two people calling each other through two nodes exactly one call
 * rings and the other start answers it. A call whose home node is dead (its lease lapsed) counts
 * for nothing: not as a ringing pair, not as "in a call", not as a place to relay to; the records
 * expire.
 */
import type { CallInfo } from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';
import type { CallDirectory } from '../calls/CallDirectory.ts';
import type { Logger } from '../logger.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import type { RedisConnections } from './redis.ts';

/**
 * Whether a call's home is a live node: its home record exists and names a node whose lease (the
 * registry's sorted set, by expiry) has not lapsed. ARGV of the caller: ..., home prefix, nodes key, now.
 */
const LIVE_HOME = `
local function live(prefix, nodes, now, id)
  local node = redis.call('GET', prefix .. id)
  if not node then return false end
  local lease = redis.call('ZSCORE', nodes, node)
  return lease ~= false and tonumber(lease) > tonumber(now)
end`;

/** KEYS: their pair, my pair, my call's home. ARGV: call id, node, pair ttl, home ttl, home prefix, nodes key, now. */
const CLAIM = `${LIVE_HOME}
local theirs = redis.call('GET', KEYS[1])
if theirs and live(ARGV[5], ARGV[6], ARGV[7], theirs) then return theirs end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
return false`;

/** KEYS: a pair. ARGV: the call id: deleted only if it is still that call's. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/**
 * KEYS: call-in sets. ARGV: home prefix, nodes key, now. Answers 1 per key whose set holds a call
 * homed on a live node; calls of dead nodes are dropped from the set.
 */
const IN_CALL = `${LIVE_HOME}
local out = {}
for i, k in ipairs(KEYS) do
  local busy = 0
  for _, id in ipairs(redis.call('SMEMBERS', k)) do
    if live(ARGV[1], ARGV[2], ARGV[3], id) then busy = 1 else redis.call('SREM', k, id) end
  end
  out[i] = busy
end
return out`;

/** KEYS: a dead node's set of calls. Takes them (one node handles a death) with their snapshots. */
const TAKE = `
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
local out = {}
for _, id in ipairs(ids) do
  local snap = redis.call('GET', ARGV[1] .. id)
  if snap then
    redis.call('DEL', ARGV[1] .. id)
    table.insert(out, snap)
  end
end
return out`;

/** A call longer than this loses its home record (and stops counting as busy elsewhere). */
const HOME_TTL_MS = 12 * 3_600_000;

export class RedisCallDirectory implements CallDirectory {
  readonly #redis: RedisConnections;
  readonly #registry: NodeRegistry;
  readonly #log: Logger;
  readonly #pairTtlMs: number;
  readonly #p: string;

  constructor(opts: { redis: RedisConnections; registry: NodeRegistry; log: Logger; ringTimeoutMs: number }) {
    this.#redis = opts.redis;
    this.#registry = opts.registry;
    this.#log = opts.log;
    this.#pairTtlMs = opts.ringTimeoutMs + 5_000;
    this.#p = opts.redis.prefix;
  }

  #home(id: string): string {
    return `${this.#p}call-home:${id}`;
  }
  #pair(org: string, caller: string, callee: string): string {
    return `${this.#p}call-pair:${JSON.stringify([org, caller, callee])}`;
  }
  #people(org: string, sub: string): string {
    return `${this.#p}call-people:${personKey(org, sub)}`;
  }
  #inCall(org: string, sub: string): string {
    return `${this.#p}call-in:${personKey(org, sub)}`;
  }
  #ofNode(node: string): string {
    return `${this.#p}call-node:${node}`;
  }
  #snap(id: string): string {
    return `${this.#p}call-snap:${id}`;
  }
  #grant(org: string, roomId: string, sub: string): string {
    return `${this.#p}call-grant:${JSON.stringify([org, roomId, sub])}`;
  }

  async grantRoom(org: string, roomId: string, sub: string, ttlMs: number): Promise<void> {
    await this.#redis.cmd.set(this.#grant(org, roomId, sub), '1', 'PX', ttlMs);
  }

  async roomGranted(org: string, roomId: string, sub: string): Promise<boolean> {
    return (await this.#redis.cmd.exists(this.#grant(org, roomId, sub))) === 1;
  }

  async claimPair(org: string, caller: string, callee: string, callId: string): Promise<string | null> {
    const theirs = await this.#redis.cmd.eval(
      CLAIM,
      3,
      this.#pair(org, callee, caller),
      this.#pair(org, caller, callee),
      this.#home(callId),
      callId,
      this.#registry.nodeId,
      this.#pairTtlMs,
      HOME_TTL_MS,
      `${this.#p}call-home:`,
      this.#registry.nodesKey,
      Date.now(),
    );
    return typeof theirs === 'string' ? theirs : null;
  }

  releasePair(org: string, caller: string, callee: string, callId: string): void {
    this.#settle(this.#redis.cmd.eval(RELEASE, 1, this.#pair(org, caller, callee), callId), 'release a pair', callId);
  }

  placed(org: string, callId: string, people: readonly string[]): void {
    const node = this.#ofNode(this.#registry.nodeId);
    const m = this.#redis.cmd
      .multi()
      .set(this.#home(callId), this.#registry.nodeId, 'PX', HOME_TTL_MS)
      .sadd(node, callId)
      .pexpire(node, HOME_TTL_MS);
    for (const sub of people) m.sadd(this.#people(org, sub), callId).pexpire(this.#people(org, sub), HOME_TTL_MS);
    this.#settle(m.exec(), 'record a call', callId);
  }

  finished(org: string, callId: string, people: readonly string[]): void {
    const m = this.#redis.cmd
      .multi()
      .del(this.#home(callId), this.#snap(callId))
      .srem(this.#ofNode(this.#registry.nodeId), callId);
    for (const sub of people) m.srem(this.#people(org, sub), callId);
    this.#settle(m.exec(), 'forget a call', callId);
  }

  setInCall(org: string, sub: string, callId: string, inCall: boolean): void {
    const key = this.#inCall(org, sub);
    const op = inCall
      ? this.#redis.cmd.multi().sadd(key, callId).pexpire(key, HOME_TTL_MS).exec()
      : this.#redis.cmd.srem(key, callId);
    this.#settle(op, 'mark who is in a call', callId);
  }

  async inCallElsewhere(org: string, subs: readonly string[]): Promise<Set<string>> {
    if (subs.length === 0) return new Set();
    const keys = subs.map((s) => this.#inCall(org, s));
    const flags = (await this.#redis.cmd.eval(
      IN_CALL,
      keys.length,
      ...keys,
      `${this.#p}call-home:`,
      this.#registry.nodesKey,
      Date.now(),
    )) as number[];
    return new Set(subs.filter((_, i) => flags[i] === 1));
  }

  /** The call's home node while that node is alive (a dead node's calls are gone). */
  async homeOf(callId: string): Promise<string | null> {
    const node = await this.#redis.cmd.get(this.#home(callId));
    if (node === null || node === this.#registry.nodeId) return node;
    return (await this.#registry.isAlive(node)) ? node : null;
  }

  async callsOf(org: string, sub: string): Promise<string[]> {
    return this.#redis.cmd.smembers(this.#people(org, sub));
  }

  snapshot(org: string, call: CallInfo): void {
    const json = JSON.stringify({ org, call });
    this.#settle(this.#redis.cmd.set(this.#snap(call.id), json, 'PX', HOME_TTL_MS), 'keep a call snapshot', call.id);
  }

  async snapshotOf(callId: string): Promise<{ org: string; call: CallInfo } | null> {
    const [raw, home] = await Promise.all([this.#redis.cmd.get(this.#snap(callId)), this.homeOf(callId)]);
    if (raw === null || home === null) return null;
    try {
      return JSON.parse(raw) as { org: string; call: CallInfo };
    } catch (err) {
      this.#log.error({ err, call: callId }, 'calls: an unreadable call snapshot');
      return null;
    }
  }

  /**
   * The calls a dead node held, as last seen, each taken once (whichever node asks first gets
   * them): their people are told the call failed.
   */
  async takeCallsOf(node: string): Promise<Array<{ org: string; call: CallInfo }>> {
    const raw = (await this.#redis.cmd.eval(TAKE, 1, this.#ofNode(node), `${this.#p}call-snap:`)) as string[];
    const out: Array<{ org: string; call: CallInfo }> = [];
    for (const r of raw) {
      try {
        out.push(JSON.parse(r) as { org: string; call: CallInfo });
      } catch (err) {
        this.#log.error({ err, node }, 'calls: an unreadable call snapshot');
      }
    }
    return out;
  }

  #settle(op: Promise<unknown>, what: string, callId: string): void {
    op.catch((err: unknown) => this.#log.warn({ err, call: callId }, `calls: could not ${what} in Redis`));
  }
}
