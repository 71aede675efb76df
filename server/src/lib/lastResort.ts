import type { Logger } from '../logger.ts';

/**
 * The process's last line of defence. A promise rejection nobody handled is a bug, but one request
 * must never stop the service for everyone: it is logged with its reason and the process keeps
 * serving. An uncaught exception may have left state half-changed, so it is logged and the process
 * leaves through the graceful shutdown (`stop`), which tells clients and flushes stores.
 */
export function installLastResort(log: Logger, stop: (reason: string) => void): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled promise rejection (a bug; the process keeps serving)');
  });
  process.on('uncaughtException', (err, origin) => {
    log.fatal({ err, origin }, 'uncaught exception; shutting down gracefully');
    process.exitCode = 1;
    stop('uncaughtException');
  });
}
