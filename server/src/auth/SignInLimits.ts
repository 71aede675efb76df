import { MoimError } from '@moim/protocol';
import type { Logger } from '../logger.ts';

/** Counts attempts in fixed one-minute windows; `hit` returns the count of the current window. */
export interface AttemptCounter {
  hit(key: string, windowMs: number): Promise<number>;
}

/** One node's counters (single node). */
export class MemoryCounter implements AttemptCounter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  async hit(key: string, windowMs: number): Promise<number> {
    const now = Date.now();
    const start = now - (now % windowMs);
    const w = this.#windows.get(key);
    if (!w || w.start !== start) {
      if (this.#windows.size > 100_000) this.#sweep(start);
      this.#windows.set(key, { start, count: 1 });
      return 1;
    }
    return ++w.count;
  }
  #sweep(start: number): void {
    for (const [k, w] of this.#windows) if (w.start !== start) this.#windows.delete(k);
  }
}

/** The part of an ioredis client the Redis counter uses. */
export interface MultiRedis {
  multi(): { incr(k: string): unknown; pexpire(k: string, ms: number): unknown; exec(): Promise<unknown> };
}

/** The cluster's counters: one Redis key per window, shared by every node. */
export class RedisCounter implements AttemptCounter {
  readonly #redis: MultiRedis;
  readonly #prefix: string;
  constructor(redis: MultiRedis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }
  async hit(key: string, windowMs: number): Promise<number> {
    const now = Date.now();
    const k = `${this.#prefix}signin:${now - (now % windowMs)}:${key}`;
    const tx = this.#redis.multi();
    tx.incr(k);
    tx.pexpire(k, windowMs * 2);
    const res = (await tx.exec()) as Array<[Error | null, unknown]> | null;
    const first = res?.[0];
    if (!first || first[0]) throw first?.[0] ?? new Error('redis sign-in counter failed');
    return Number(first[1]);
  }
}

/**
 * Sign-in rate limits: attempts per client address and per account (a person, a passkey
 * credential, a certificate subject) per minute. Over either, RATE_LIMITED. Counted before the
 * attempt is checked, so failures count too (guessing is slowed as much as success).
 */
export class SignInLimits {
  readonly #counter: AttemptCounter;
  readonly #perAddress: number;
  readonly #perAccount: number;
  readonly #log: Logger;
  constructor(opts: { counter: AttemptCounter; perAddressPerMin: number; perAccountPerMin: number; log: Logger }) {
    this.#counter = opts.counter;
    this.#perAddress = opts.perAddressPerMin;
    this.#perAccount = opts.perAccountPerMin;
    this.#log = opts.log;
  }

  async address(addr: string): Promise<void> {
    const n = await this.#counter.hit(`a:${addr}`, 60_000);
    if (n > this.#perAddress) {
      if (n === this.#perAddress + 1) this.#log.warn({ addr }, 'sign-in: address over its limit');
      throw new MoimError('RATE_LIMITED', 'too many sign-in attempts from this address: wait a minute');
    }
  }

  async account(account: string): Promise<void> {
    const n = await this.#counter.hit(`p:${account}`, 60_000);
    if (n > this.#perAccount) {
      if (n === this.#perAccount + 1) this.#log.warn({ account }, 'sign-in: account over its limit');
      throw new MoimError('RATE_LIMITED', 'too many sign-in attempts for this account: wait a minute');
    }
  }
}
