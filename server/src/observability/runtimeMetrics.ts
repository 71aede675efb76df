import { constants, type ELDHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Histogram, type Registry } from 'prom-client';

/** Sampling period of the event-loop delay monitor: a stall shorter than this may be missed. */
export const LOOP_DELAY_RESOLUTION_MS = 10;
/** How often the monitor's samples are folded into the exported histogram (and before every scrape). */
const FOLD_EVERY_MS = 5_000;
/**
 * At most this many samples are replayed per fold (one fold holds ≤ FOLD_EVERY_MS / resolution
 * samples, since a sample is taken at most once per resolution; the bound keeps a fold cheap
 * whatever happens).
 */
const MAX_REPLAY = 4 * (FOLD_EVERY_MS / LOOP_DELAY_RESOLUTION_MS);

/** Stall-sized buckets: operators look at the tail (25 ms … 2.5 s), not the median. */
const LOOP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const GC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const GC_KINDS = new Map<number, string>([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/**
 * Event-loop delay and GC pause histograms, so operators see stalls in production:
 *
 * - `moim_event_loop_delay_seconds`: how late the loop ran a timer due every
 *   LOOP_DELAY_RESOLUTION_MS (perf_hooks.monitorEventLoopDelay, which samples in libuv without
 *   running JavaScript). Its samples are folded into a Prometheus histogram every few seconds and
 *   before each scrape by replaying the monitor's own distribution (its quantiles), so the
 *   buckets, the count and the sum follow the samples to the monitor's precision (HDR, ~1 %).
 * - `moim_gc_pause_seconds{kind}`: every garbage-collection pause (PerformanceObserver 'gc'),
 *   each entry of a batch (prom-client's default `nodejs_gc_duration_seconds` counts only the
 *   first entry of each batch, and its buckets jump from 10 to 100 ms).
 *
 * `close()` stops both (tests create many apps in one process).
 */
export class RuntimeMetrics {
  readonly loopDelay: Histogram;
  readonly gcPause: Histogram<'kind'>;
  readonly #monitor: ELDHistogram;
  readonly #gc: PerformanceObserver;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(registry: Registry) {
    this.#monitor = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    this.#monitor.enable();
    const fold = () => this.#fold();
    this.loopDelay = new Histogram({
      name: 'moim_event_loop_delay_seconds',
      help: `Event-loop delay: how late a timer due every ${LOOP_DELAY_RESOLUTION_MS} ms ran (perf_hooks.monitorEventLoopDelay)`,
      buckets: LOOP_BUCKETS,
      registers: [registry],
      collect: fold,
    });
    this.gcPause = new Histogram({
      name: 'moim_gc_pause_seconds',
      help: 'Garbage-collection pauses by kind (major, minor, incremental, weakcb)',
      labelNames: ['kind'],
      buckets: GC_BUCKETS,
      registers: [registry],
    });
    this.#gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        // a 'gc' entry carries { kind } (NodeGCPerformanceDetail) in `detail`, absent from the base type
        const detail = (entry as PerformanceEntry & { detail?: { kind?: number } | null }).detail;
        const kind = GC_KINDS.get(detail?.kind ?? -1) ?? 'other';
        this.gcPause.observe({ kind }, entry.duration / 1000);
      }
    });
    this.#gc.observe({ entryTypes: ['gc'] });
    this.#timer = setInterval(fold, FOLD_EVERY_MS);
    this.#timer.unref();
  }

  /** Move the monitor's samples since the last fold into the exported histogram. */
  #fold(): void {
    const m = this.#monitor;
    const n = m.count;
    if (this.#closed || n === 0) return;
    const replay = Math.min(n, MAX_REPLAY);
    const resolutionNs = LOOP_DELAY_RESOLUTION_MS * 1e6;
    // the monitor records the interval between two ticks; the delay is what exceeds the period
    for (let i = 0; i < replay; i++) {
      const ns = m.percentile(((i + 0.5) / replay) * 100);
      this.loopDelay.observe(Math.max(0, ns - resolutionNs) / 1e9);
    }
    m.reset();
  }

  close(): void {
    if (this.#closed) return;
    this.#fold();
    this.#closed = true;
    clearInterval(this.#timer);
    this.#gc.disconnect();
    this.#monitor.disable();
  }
}
