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
 * Warnings the worker prints per packet (or per stream) in normal operation, with their cause.
 * They are counted and summed up once a minute at info level (each one at debug), instead of
 * flooding the log. Observed in a two-person meeting in Chromium (camera off/on, screen share,
 * leaving), with the worker at debug level:
 *
 * - `no stream found for received packet` / `no suitable Producer for received RTP packet`: RTP
 *   from a browser for an SSRC the transport has no producer or stream for yet — the browser
 *   starts sending a simulcast encoding (or a screen share) as soon as its offer is applied, a
 *   few milliseconds before `produce` has created the producer and its streams, and keeps sending
 *   RTX/padding for a moment after a track is unpublished. The packets are dropped, which is right.
 * - `srtp_protect() failed: replay check failed`: packets the worker itself sends on a receiving
 *   transport that libsrtp refuses as replays. They come in bursts of about 8 every 5 s, the rhythm
 *   of the bandwidth estimator's periodic probing (mediasoup enables libwebrtc's periodic ALR
 *   probing; probes go out as padding on the probation SSRC 1234, which Chromium even NACKs:
 *   "no Consumer found for received feedback packet [media ssrc:1234]"), and once when a consumer
 *   is added. Media packets are not affected (the browser tests assert frames decoded and audio
 *   bytes flowing); only those probe packets are dropped.
 * - `RTP inactivity detected`: a producer's stream went quiet — a camera paused, or a simulcast
 *   layer the browser stopped sending under load.
 */
export const BENIGN_WORKER_WARNINGS: ReadonlyArray<{ key: string; pattern: RegExp; what: string }> = [
  {
    key: 'unknown-stream',
    pattern: /no stream found for received packet|no suitable Producer for received RTP packet/,
    what: 'packets for streams not (or no longer) published were dropped',
  },
  {
    key: 'srtp-replay',
    pattern: /srtp_protect(_rtcp)?\(\) failed: replay check failed/,
    what: 'packets the worker sent again (bandwidth probes) were refused by SRTP replay protection',
  },
  {
    key: 'inactive-stream',
    pattern: /RTP inactivity detected/,
    what: 'incoming streams went quiet (a camera paused or a simulcast layer stopped)',
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
