/**
 * A mergeable latency histogram (HDR-style log-linear buckets, < 1.6 % relative error), in
 * microseconds. Generator processes record into their own and send `toJSON()` to the parent,
 * which merges them. Memory is fixed (2,112 buckets) whatever the sample count.
 */

const SUB = 64;
const LINEAR = 2 * SUB; // values below this are exact
const OCTAVES = 31;
const SIZE = LINEAR + OCTAVES * SUB;
const MAX = 2 ** (OCTAVES + 7) - 1;

function bitLength(x: number): number {
  if (x < 2 ** 32) return 32 - Math.clz32(x);
  return 32 + (32 - Math.clz32(Math.floor(x / 2 ** 32)));
}

function indexOf(v: number): number {
  if (v < LINEAR) return v < 0 ? 0 : Math.floor(v);
  const x = Math.min(Math.floor(v), MAX);
  const high = bitLength(x) - 1; // >= 7
  const shift = high - 6;
  const mantissa = Math.floor(x / 2 ** shift); // 64..127
  return LINEAR + (high - 7) * SUB + (mantissa - SUB);
}

/** Highest value that falls into bucket `i` (conservative for percentiles). */
function upperOf(i: number): number {
  if (i < LINEAR) return i;
  const octave = Math.floor((i - LINEAR) / SUB);
  const mantissa = ((i - LINEAR) % SUB) + SUB;
  const shift = octave + 1;
  return (mantissa + 1) * 2 ** shift - 1;
}

export interface HistogramJSON {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Sparse [bucket, count] pairs. */
  buckets: [number, number][];
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** 99.9th percentile: the tail a fresh process shows (one stall in a thousand deliveries). */
  p999Ms: number;
  maxMs: number;
}

export class Histogram {
  readonly #counts = new Float64Array(SIZE);
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  /** Record one value in microseconds. */
  record(us: number): void {
    const v = Math.max(0, us);
    const i = indexOf(v);
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Value (µs) at quantile q in [0, 1]. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= target) return Math.min(upperOf(i), this.max);
    }
    return this.max;
  }

  merge(other: Histogram | HistogramJSON): this {
    const o = other instanceof Histogram ? other.toJSON() : other;
    for (const [i, c] of o.buckets) this.#counts[i] = (this.#counts[i] ?? 0) + c;
    this.count += o.count;
    this.sum += o.sum;
    if (o.count > 0) {
      this.min = Math.min(this.min, o.min);
      this.max = Math.max(this.max, o.max);
    }
    return this;
  }

  reset(): void {
    this.#counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  toJSON(): HistogramJSON {
    const buckets: [number, number][] = [];
    for (let i = 0; i < SIZE; i++) {
      const c = this.#counts[i] ?? 0;
      if (c > 0) buckets.push([i, c]);
    }
    return { count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max, buckets };
  }

  static from(json: HistogramJSON): Histogram {
    return new Histogram().merge(json);
  }

  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: this.count,
      meanMs: this.count ? ms(this.sum / this.count) : Number.NaN,
      p50Ms: ms(this.quantile(0.5)),
      p95Ms: ms(this.quantile(0.95)),
      p99Ms: ms(this.quantile(0.99)),
      p999Ms: ms(this.quantile(0.999)),
      maxMs: ms(this.max),
    };
  }
}

/** Monotonic clock in microseconds, comparable between processes of one machine (CLOCK_MONOTONIC). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
