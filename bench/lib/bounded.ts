/**
 * Bounded waiting: every loop of the benchmarks is bounded in count and in time, so a stuck
 * server or client makes a run fail with a message instead of hanging.
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class TimeoutError extends Error {
  constructor(label: string, ms: number) {
    super(`${label}: timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(label, ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Poll `check` every `intervalMs` until it returns a value other than undefined/false, at most
 * `timeoutMs`. Returns the value, or undefined on timeout when `orUndefined`, else throws.
 */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs: number; intervalMs?: number; label: string; orUndefined?: boolean },
): Promise<T | undefined> {
  const interval = opts.intervalMs ?? 50;
  const deadline = performance.now() + opts.timeoutMs;
  const maxIterations = Math.ceil(opts.timeoutMs / interval) + 2;
  for (let i = 0; i < maxIterations; i++) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() >= deadline) break;
    await sleep(interval);
  }
  if (opts.orUndefined) return undefined;
  throw new TimeoutError(opts.label, opts.timeoutMs);
}

/** Run `fn(i)` for i = 0… until `count` iterations or `maxMs` elapsed; returns iterations run. */
export async function boundedLoop(
  opts: { count: number; maxMs: number },
  fn: (i: number) => Promise<void> | void,
): Promise<number> {
  const deadline = performance.now() + opts.maxMs;
  let i = 0;
  for (; i < opts.count; i++) {
    if (performance.now() >= deadline) break;
    await fn(i);
  }
  return i;
}

/** Map with at most `concurrency` calls in flight. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * A whole-run deadline: when it fires, `onExpire` runs (kill children, write what we have) and
 * the process exits with status 3.
 */
export function watchdog(ms: number, onExpire: () => Promise<void> | void): { cancel(): void } {
  const timer = setTimeout(() => {
    process.stderr.write(`\nbench: run exceeded its ${Math.round(ms / 1000)} s bound; stopping\n`);
    Promise.resolve()
      .then(onExpire)
      .catch(() => {})
      .finally(() => process.exit(3));
  }, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
}

/**
 * Pace `fn` at `ratePerSec` for `durationMs` (open loop: calls are not awaited, so a slow server
 * shows as latency, not as a lower offered rate). Ticks every `tickMs` and fires the calls due.
 * Returns the number of calls fired.
 */
export async function paced(
  opts: { ratePerSec: number; durationMs: number; tickMs?: number },
  fn: (i: number) => void,
): Promise<number> {
  const tick = opts.tickMs ?? 5;
  const total = Math.floor((opts.ratePerSec * opts.durationMs) / 1000);
  const start = performance.now();
  let fired = 0;
  const maxTicks = Math.ceil(opts.durationMs / tick) * 4 + 10;
  for (let t = 0; t < maxTicks && fired < total; t++) {
    const elapsed = performance.now() - start;
    const due = Math.min(total, Math.floor((elapsed * opts.ratePerSec) / 1000));
    while (fired < due) fn(fired++);
    if (elapsed > opts.durationMs + 1000) break; // the event loop fell far behind: stop
    await sleep(tick);
  }
  return fired;
}
