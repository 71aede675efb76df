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
 * Route mediasoup's own logs (its Node side and the worker's, which travel over the channel) into
 * `log`. mediasoup keeps one process-wide set of listeners, so the last pool created wins.
 * Debug lines are dropped unless `debug` is set: at debug level mediasoup logs per packet.
 */
export function routeMediasoupLogs(log: SfuLogger, debug = false): void {
  const ms = log.child({ subsystem: 'mediasoup' });
  mediasoup.setLogEventListeners({
    ondebug: debug ? (namespace, line) => ms.debug({ namespace }, line) : undefined,
    onwarn: (namespace, line) => ms.warn({ namespace }, line),
    onerror: (namespace, line, err) => ms.error({ namespace, ...(err ? { err } : {}) }, line),
  });
}
