import * as mediasoup from 'mediasoup';

/** The logger the SFU writes to: a subset of pino's API, so the server passes a pino child logger. */
export interface SfuLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): SfuLogger;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: SfuLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * Warnings the worker prints per packet in normal operation, with their cause. They are counted
 * and summed up once a minute at info level (each one at debug), instead of flooding the log:
 *
 * - `no stream found for received packet`: RTP from a browser for an SSRC the transport has no
 *   producer for. A browser's transceiver keeps sending (RTX, padding, bandwidth probes) for a
 *   moment after a track is unpublished, and starts before `produce` has created the producer;
 *   the packets are dropped, which is right.
 * - `srtp_protect() failed: replay check failed`: the worker was asked to send a packet whose
 *   sequence number it already sent on that SRTP stream — a retransmission (NACK) of a stream
 *   without RTX, or a key-frame/layer switch repeating the last packet. libsrtp refuses the
 *   duplicate (replay protection) and the packet is dropped; the receiver already had it.
 */
export const BENIGN_WORKER_WARNINGS: ReadonlyArray<{ key: string; pattern: RegExp; what: string }> = [
  {
    key: 'unknown-stream',
    pattern: /no stream found for received packet/,
    what: 'packets for streams not (or no longer) published were dropped',
  },
  {
    key: 'srtp-replay',
    pattern: /srtp_protect(_rtcp)?\(\) failed: replay check failed/,
    what: 'duplicate packets (retransmissions already sent) were not sent again',
  },
];

/** Per minute: how many of each benign warning, logged as one info line (and each at debug). */
export class WarningDigest {
  readonly #log: SfuLogger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #counts = new Map<string, number>();
  #since: number;

  constructor(log: SfuLogger, opts: { intervalMs?: number; now?: () => number } = {}) {
    this.#log = log;
    this.#intervalMs = opts.intervalMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
    this.#since = this.#now();
  }

  /** Count a line if it is a known benign warning (true), else leave it to the caller (false). */
  take(namespace: string, line: string): boolean {
    const known = BENIGN_WORKER_WARNINGS.find((w) => w.pattern.test(line));
    if (!known) return false;
    this.#counts.set(known.key, (this.#counts.get(known.key) ?? 0) + 1);
    this.#log.debug({ namespace }, line);
    this.flushIfDue();
    return true;
  }

  /** Log the counts of the interval that ended (if any), and start the next. */
  flushIfDue(): void {
    const now = this.#now();
    if (now - this.#since < this.#intervalMs) return;
    for (const w of BENIGN_WORKER_WARNINGS) {
      const n = this.#counts.get(w.key) ?? 0;
      if (n > 0)
        this.#log.info(
          { warning: w.key, count: n, seconds: Math.round((now - this.#since) / 1000) },
          `mediasoup: ${w.what}`,
        );
    }
    this.#counts.clear();
    this.#since = now;
  }
}

/**
 * Route mediasoup's own logs (its Node side and the worker's, which travel over the channel) into
 * `log`. mediasoup keeps one process-wide set of listeners, so the last pool created wins.
 * Debug lines are dropped unless `debug` is set: at debug level mediasoup logs per packet. The
 * worker's per-packet warnings that are normal (BENIGN_WORKER_WARNINGS) are summed up once a minute.
 */
export function routeMediasoupLogs(log: SfuLogger, debug = false): void {
  const ms = log.child({ subsystem: 'mediasoup' });
  const digest = new WarningDigest(ms);
  mediasoup.setLogEventListeners({
    ondebug: debug ? (namespace, line) => ms.debug({ namespace }, line) : undefined,
    onwarn: (namespace, line) => {
      if (!digest.take(namespace, line)) ms.warn({ namespace }, line);
    },
    onerror: (namespace, line, err) => ms.error({ namespace, ...(err ? { err } : {}) }, line),
  });
}
