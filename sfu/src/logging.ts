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
 * Each is logged at debug and counted (`moim_sfu_worker_warnings_total{warning}` in /metrics);
 * once a minute an info line sums them up, instead of flooding the log. Causes found with the
 * worker at debug level with the tags rtp, rtx, srtp, rtcp, bwe and simulcast in a two-person
 * Chromium meeting (README, "mediasoup's warnings"):
 *
 * - `unknown-rtx`, `no stream found for received packet`: right after a browser starts a
 *   simulcast encoding, its first RTX packet (padding Chromium sends to probe bandwidth, found by
 *   its RID; a probe cluster of 1 to ~9 of them) arrives before the encoding's first media packet. mediasoup pairs an RTX SSRC with its
 *   media stream only once that stream exists, so it drops the packet (debug line before it:
 *   "ignoring RTX packet for not yet created RtpStream (RID lookup)"). Only when an encoding
 *   starts; the media packets that follow create the stream.
 * - `early-rtp`, `no suitable Producer for received RTP packet`: RTP for an SSRC the transport has
 *   no producer for yet — the browser sends (first its microphone, payload type 111) as soon as
 *   its offer is applied, a few milliseconds before the signalling's `produce` has created the
 *   producer; and for a moment after a track is unpublished. Dropped, which is right.
 * - `srtp-replay`, `srtp_protect() failed: replay check failed`: the worker's bandwidth probes
 *   (padding on the probation SSRC 1234) refused by libsrtp on a receive transport. Cause: a
 *   mediasoup 3.27.1 worker bug — every transport's probe generator writes its packet into one
 *   buffer shared by the whole worker, so a transport's probe sequence numbers jump to those of
 *   another transport (and to a random value each time a transport starts estimating bandwidth);
 *   a jump of 1,024–32,768 backwards is an "index too old" for SRTP. Bursts of one probe cluster
 *   (~8 packets) when a transport probes after such a jump. moim's worker build gives each
 *   generator its own buffer (scripts/mediasoup/build-worker.sh), so this count stays 0 with it;
 *   a stock worker (mediasoup's prebuilt download) still shows it. Media packets are not affected.
 * - `probe-late`, `probe delay too high`: the worker's timer for the next bandwidth probe fired
 *   late (a busy CPU); that probe is skipped.
 * - `bwe-drop`, `high BWE value decrease detected`: a receive transport's bandwidth estimate
 *   fell sharply (the receiver's network, or its tab closing); the layers it gets are lowered.
 * - `inactive-stream`, `RTP inactivity detected`: a producer's stream went quiet — a camera
 *   paused, a simulcast layer the browser stopped sending under load, or a browser that went away
 *   without leaving (its producers stay until its grace period ends).
 */
export const BENIGN_WORKER_WARNINGS: ReadonlyArray<{ key: string; pattern: RegExp; what: string }> = [
  {
    key: 'unknown-rtx',
    pattern: /no stream found for received packet/,
    what: "RTX packets that came before their simulcast encoding's first media packet were dropped",
  },
  {
    key: 'early-rtp',
    pattern: /no suitable Producer for received RTP packet/,
    what: 'packets for streams not yet (or no longer) published were dropped',
  },
  {
    key: 'srtp-replay',
    pattern: /srtp_protect(_rtcp)?\(\) failed: replay check failed/,
    what: 'bandwidth probes refused by SRTP replay protection (a stock mediasoup worker: see scripts/mediasoup/build-worker.sh)',
  },
  {
    key: 'probe-late',
    pattern: /probe delay too high/,
    what: 'bandwidth probes skipped because the worker ran late (busy CPU)',
  },
  {
    key: 'bwe-drop',
    pattern: /high BWE value decrease detected/,
    what: 'receive bandwidth estimates fell sharply',
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
  readonly #totals = new Map<string, number>();
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
    this.#totals.set(known.key, (this.#totals.get(known.key) ?? 0) + 1);
    this.#log.debug({ namespace }, line);
    this.flushIfDue();
    return true;
  }

  /** How many of each benign warning since this digest started (every key, 0 when none). */
  totals(): Record<string, number> {
    const out: Record<string, number> = Object.create(null);
    for (const w of BENIGN_WORKER_WARNINGS) out[w.key] = this.#totals.get(w.key) ?? 0;
    return out;
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
 * worker's per-packet warnings that are normal (BENIGN_WORKER_WARNINGS) are counted and summed up
 * once a minute; the returned digest holds the counts.
 */
export function routeMediasoupLogs(log: SfuLogger, debug = false): WarningDigest {
  const ms = log.child({ subsystem: 'mediasoup' });
  const digest = new WarningDigest(ms);
  mediasoup.setLogEventListeners({
    ondebug: debug ? (namespace, line) => ms.debug({ namespace }, line) : undefined,
    onwarn: (namespace, line) => {
      if (!digest.take(namespace, line)) ms.warn({ namespace }, line);
    },
    onerror: (namespace, line, err) => ms.error({ namespace, ...(err ? { err } : {}) }, line),
  });
  return digest;
}
