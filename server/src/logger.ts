import { type Logger, pino } from 'pino';

export type { Logger };

/** The process logger; subsystems take `logger.child({ subsystem: '…' })`. */
export function createLogger(level: string, nodeId: string): Logger {
  return pino({ level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.isoTime });
}
