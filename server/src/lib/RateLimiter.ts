/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(rate: number, burst: number, now: number = performance.now()) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Take `cost` tokens; false when the bucket is empty (the caller refuses with RATE_LIMITED). */
  take(cost = 1, now: number = performance.now()): boolean {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /**
   * Remove `cost` tokens spent elsewhere (another node's share of a budget shared across nodes).
   * The bucket may go into debt, at most one burst deep: what others spent keeps this bucket's
   * requests waiting until the shared rate has paid for it.
   */
  drain(cost: number, now: number = performance.now()): void {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.max(-this.#burst, Math.min(this.#burst, this.#tokens + elapsed * this.#rate) - cost);
  }
}

/** Token buckets by key (e.g. per person), pruned when full again. */
export class KeyedRateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
  }

  take(key: string, cost = 1): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size > 100_000) this.#buckets.clear();
      bucket = new TokenBucket(this.#rate, this.#burst);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(cost);
  }
}
