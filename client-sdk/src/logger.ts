/**
 * The SDK's logging: named loggers with levels and context, in LiveKit client-sdk-js's pattern
 * (`getLogger(name)`, `setLogLevel(level, name?)`, `setLogExtension(extension)`), without a
 * dependency (it runs in browsers and in Node).
 *
 * Quiet by default: the level is `warn`, so while everything works nothing is written, and a
 * failure the SDK recovers from or cannot report to a caller (a rejoin given up, a leave the server
 * never acknowledged) is written once, with the context needed to find it (room, peer, channel,
 * error). `setLogLevel('silent')` turns it off, `setLogLevel('debug')` shows the best-effort steps
 * that failed harmlessly too.
 *
 * Lines go to the console unless the app routes them with `setLogExtension`: then the extension
 * receives them instead (call the console yourself in it to have both).
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** A level a line is written at (`silent` is only a threshold). */
export type LineLevel = Exclude<LogLevel, 'silent'>;
export type LogContext = Record<string, unknown>;
/** Receives every line at or above its logger's level; `context.logger` is the logger's name. */
export type LogExtension = (level: LineLevel, msg: string, context: LogContext) => void;

/** The loggers the SDK itself writes to (apps may create their own names). */
export const LoggerNames = {
  Client: 'moim.client',
  Room: 'moim.room',
  Chat: 'moim.chat',
  Presence: 'moim.presence',
  Docs: 'moim.docs',
} as const;
export type LoggerName = (typeof LoggerNames)[keyof typeof LoggerNames];

export interface Logger {
  readonly name: string;
  trace(msg: string, context?: LogContext): void;
  debug(msg: string, context?: LogContext): void;
  info(msg: string, context?: LogContext): void;
  warn(msg: string, context?: LogContext): void;
  error(msg: string, context?: LogContext): void;
  /** Whether a line at `level` would be written (to skip building costly context). */
  enabled(level: LineLevel): boolean;
  /**
   * The same logger whose every line also carries `context` (an object, or a function read at each
   * line, e.g. `() => ({ roomId, peerId })` for a peer id that changes on a rebuild).
   */
  withContext(context: LogContext | (() => LogContext)): Logger;
}

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, silent: 5 };

/** @default 'warn' — see the module comment. */
const DEFAULT_LEVEL: LogLevel = 'warn';

let defaultLevel: LogLevel = DEFAULT_LEVEL;
const levels = new Map<string, LogLevel>();
let extension: LogExtension | undefined;
const extensions = new Map<string, LogExtension>();
const loggers = new Map<string, Logger>();

/** The logger called `name` (one per name; `LoggerNames` lists the SDK's own). */
export function getLogger(name: string): Logger {
  let logger = loggers.get(name);
  if (!logger) {
    logger = makeLogger(name, () => undefined);
    loggers.set(name, logger);
  }
  return logger;
}

/**
 * Set the level of every logger (and of loggers created later), or of the one called `name`.
 * Setting every logger's level also drops the levels set earlier for single names.
 */
export function setLogLevel(level: LogLevel, name?: string): void {
  if (!(level in RANK)) throw new TypeError(`unknown log level ${String(level)}`);
  if (name === undefined) {
    defaultLevel = level;
    levels.clear();
  } else levels.set(name, level);
}

/** The level a logger writes at (the level set for its name, else the level of every logger). */
export function getLogLevel(name?: string): LogLevel {
  return (name === undefined ? undefined : levels.get(name)) ?? defaultLevel;
}

/**
 * Route lines to `ext` instead of the console: every logger's, or only the one called `name`.
 * `undefined` goes back to the console.
 */
export function setLogExtension(ext: LogExtension | undefined, name?: string): void {
  if (name === undefined) extension = ext;
  else if (ext) extensions.set(name, ext);
  else extensions.delete(name);
}

/** Back to the defaults (level `warn`, the console); for tests. */
export function resetLogging(): void {
  defaultLevel = DEFAULT_LEVEL;
  levels.clear();
  extension = undefined;
  extensions.clear();
}

function makeLogger(name: string, bound: () => LogContext | undefined): Logger {
  const enabled = (level: LineLevel) => RANK[level] >= RANK[getLogLevel(name)];
  const line = (level: LineLevel) => (msg: string, context?: LogContext) => {
    if (!enabled(level)) return;
    write(name, level, msg, { ...bound(), ...context });
  };
  return {
    name,
    trace: line('trace'),
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    enabled,
    withContext(context) {
      const read = typeof context === 'function' ? context : () => context;
      return makeLogger(name, () => ({ ...bound(), ...read() }));
    },
  };
}

function write(name: string, level: LineLevel, msg: string, context: LogContext): void {
  const ext = extensions.get(name) ?? extension;
  if (ext) {
    try {
      ext(level, msg, { logger: name, ...context });
      return;
    } catch (err) {
      // the app's extension must not break the SDK: say so on the console, then write the line there
      toConsole(name, 'error', 'log extension failed', { error: err });
    }
  }
  toConsole(name, level, msg, context);
}

function toConsole(name: string, level: LineLevel, msg: string, context: LogContext): void {
  const text = `[${name}] ${msg}`;
  const args: unknown[] = Object.keys(context).length > 0 ? [text, context] : [text];
  // biome-ignore lint/suspicious/noConsole: the console is the logger's default sink
  const out = level === 'trace' ? console.debug : console[level];
  out(...args);
}
