import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  getLogger,
  getLogLevel,
  type LineLevel,
  type LogContext,
  LoggerNames,
  resetLogging,
  setLogExtension,
  setLogLevel,
} from './logger.ts';

type Line = [level: LineLevel, msg: string, context: LogContext];

function capture(name?: string): Line[] {
  const lines: Line[] = [];
  setLogExtension((level, msg, context) => lines.push([level, msg, context]), name);
  return lines;
}

afterEach(() => {
  resetLogging();
  vi.restoreAllMocks();
});

describe('the SDK logger', () => {
  it('is quiet by default: warn and error only', () => {
    const lines = capture();
    const log = getLogger(LoggerNames.Room);
    log.debug('a detail');
    log.info('a transition');
    log.warn('a failure', { roomId: 'r1' });
    log.error('a worse one');
    expect(getLogLevel()).toBe('warn');
    expect(lines).toEqual([
      ['warn', 'a failure', { logger: 'moim.room', roomId: 'r1' }],
      ['error', 'a worse one', { logger: 'moim.room' }],
    ]);
    expect(log.enabled('info')).toBe(false);
  });

  it('sets the level of one logger or of all of them', () => {
    const lines = capture();
    setLogLevel('debug', LoggerNames.Chat);
    getLogger(LoggerNames.Chat).debug('chat detail');
    getLogger(LoggerNames.Room).debug('room detail');
    setLogLevel('silent');
    // setting every logger drops the single-name level set before
    getLogger(LoggerNames.Chat).error('not written');
    expect(getLogLevel(LoggerNames.Chat)).toBe('silent');
    expect(lines.map(([, msg]) => msg)).toEqual(['chat detail']);
  });

  it('binds context, read at each line, and lets a line add or override it', () => {
    const lines = capture();
    let peerId = 'p1';
    const log = getLogger('moim.test').withContext(() => ({ roomId: 'r1', peerId }));
    log.warn('first');
    peerId = 'p2';
    log.withContext({ attempt: 2 }).warn('second', { roomId: 'r9' });
    expect(lines).toEqual([
      ['warn', 'first', { logger: 'moim.test', roomId: 'r1', peerId: 'p1' }],
      ['warn', 'second', { logger: 'moim.test', roomId: 'r9', peerId: 'p2', attempt: 2 }],
    ]);
  });

  it('routes one logger to its own extension and the rest to the console', () => {
    const room = capture(LoggerNames.Room);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = new Error('boom');
    getLogger(LoggerNames.Room).warn('to the extension');
    getLogger(LoggerNames.Chat).warn('to the console', { channelId: 'c1', error });
    expect(room.map(([, msg]) => msg)).toEqual(['to the extension']);
    expect(warn).toHaveBeenCalledWith('[moim.chat] to the console', { channelId: 'c1', error });
  });

  it('a throwing extension does not break the caller: the line goes to the console', () => {
    setLogExtension(() => {
      throw new Error('extension broke');
    });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(() => getLogger(LoggerNames.Client).warn('still written')).not.toThrow();
    expect(consoleError).toHaveBeenCalledWith('[moim.client] log extension failed', { error: expect.any(Error) });
    expect(consoleWarn).toHaveBeenCalledWith('[moim.client] still written');
  });

  it('refuses an unknown level', () => {
    expect(() => setLogLevel('verbose' as never)).toThrow(TypeError);
  });
});
