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
}

/**
 * Per-person limits across connections: a connection cap and one token bucket shared by every
 * connection of the person (keyed by org + sub). An entry lives while the person has a
 * connection, so the map holds at most one entry per connected person.
 */
export class PersonLimits {
  readonly #opts: PersonLimitsOptions;
  readonly #people = new Map<string, PersonEntry>();

  constructor(opts: PersonLimitsOptions) {
    this.#opts = opts;
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
      entry = { connections: new Set(), bucket: new TokenBucket(this.#opts.ratePerSec, this.#opts.burst) };
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
    return entry ? entry.bucket.take(cost) : false;
  }
}
