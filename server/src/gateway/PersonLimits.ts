import { TokenBucket } from '../lib/RateLimiter.ts';

export interface PersonLimitsOptions {
  /** Simultaneous connections of one person. */
  maxConnections: number;
  /** Requests per second, shared by all of one person's connections. */
  ratePerSec: number;
  /** Burst of that shared bucket. */
  burst: number;
}

interface PersonEntry {
  readonly connections: Set<string>;
  readonly bucket: TokenBucket;
  /** Requests allowed since the last `drainSpent` (the share other nodes are told about). */
  spent: number;
}

/**
 * Per-person limits across connections: a connection cap and one token bucket shared by every
 * connection of the person (keyed by org + sub). An entry lives while the person has a
 * connection, so the map holds at most one entry per connected person. In a cluster the count and
 * the budget are shared with the other nodes (`SharedPersonLimits`, `drainSpent`/`spentElsewhere`).
 */
export class PersonLimits {
  readonly #opts: PersonLimitsOptions;
  readonly #people = new Map<string, PersonEntry>();

  constructor(opts: PersonLimitsOptions) {
    this.#opts = opts;
  }

  /** Sustained requests per second of one person. */
  get ratePerSec(): number {
    return this.#opts.ratePerSec;
  }

  get maxConnections(): number {
    return this.#opts.maxConnections;
  }

  /** People with at least one connection. */
  get size(): number {
    return this.#people.size;
  }

  connectionsOf(key: string): number {
    return this.#people.get(key)?.connections.size ?? 0;
  }

  /** True when one more connection of this person stays within the cap. */
  canConnect(key: string): boolean {
    return this.connectionsOf(key) < this.#opts.maxConnections;
  }

  /** Count a connection (idempotent); the person's bucket is created with their first one. */
  add(key: string, connectionId: string): void {
    let entry = this.#people.get(key);
    if (!entry) {
      entry = { connections: new Set(), bucket: new TokenBucket(this.#opts.ratePerSec, this.#opts.burst), spent: 0 };
      this.#people.set(key, entry);
    }
    entry.connections.add(connectionId);
  }

  /** Forget a connection; the person's entry goes with their last one. */
  remove(key: string, connectionId: string): void {
    const entry = this.#people.get(key);
    if (!entry) return;
    entry.connections.delete(connectionId);
    if (entry.connections.size === 0) this.#people.delete(key);
  }

  /** Take one request from the person's shared bucket; false = refuse with RATE_LIMITED. */
  take(key: string, cost = 1): boolean {
    const entry = this.#people.get(key);
    // a request always comes from a counted connection; without one there is nothing to share
    if (!entry?.bucket.take(cost)) return false;
    entry.spent += cost;
    return true;
  }

  /** The requests each person was allowed since the last call (people with none are left out), reset to 0. */
  drainSpent(): Map<string, number> {
    const spent = new Map<string, number>();
    for (const [key, entry] of this.#people) {
      if (entry.spent === 0) continue;
      spent.set(key, entry.spent);
      entry.spent = 0;
    }
    return spent;
  }

  /** Requests of the person on other nodes: taken from this node's bucket of the person (into debt, one burst deep at most). */
  spentElsewhere(key: string, cost: number): void {
    if (cost > 0) this.#people.get(key)?.bucket.drain(cost);
  }

  /** Each connected person with their connection count on this node. */
  *counts(): IterableIterator<[string, number]> {
    for (const [key, entry] of this.#people) yield [key, entry.connections.size];
  }
}
