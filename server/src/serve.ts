/**
 * The server process after its configuration (main.ts): builds the app, listens, says it is ready,
 * writes the compile cache, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { constants, flushCompileCache } from 'node:module';
import { PortInUseError } from '@moim/sfu';
import { type App, createApp } from './app.ts';
import { type Config, configWarnings } from './config.ts';
import { installLastResort } from './lib/lastResort.ts';
import { createLogger, type Logger } from './logger.ts';
import { startupProblem as commonProblem, refuse } from './startup.ts';

/** As startup.ts's, and the WebRTC port taken. */
function startupProblem(err: unknown): string | undefined {
  if (err instanceof PortInUseError)
    return `cannot start: the WebRTC port ${err.port} (UDP and TCP on ${err.ip}) is taken, by another moim or another program: set MOIM_RTC_PORT to a free port (worker i uses MOIM_RTC_PORT + i), or to 0 for any free ports`;
  return commonProblem(err);
}

/** Run the server on `config`; `compileCache`: what main.ts's enableCompileCache answered (none: off). */
export async function serve(config: Config, compileCache?: { status: number; message?: string }): Promise<void> {
  const log = createLogger(config.logLevel, config.nodeId);
  for (const warning of configWarnings(config)) log.warn(warning);
  let app: App;
  try {
    app = await createApp(config, log);
  } catch (err) {
    const line = startupProblem(err);
    if (line !== undefined) refuse(line);
    throw err;
  }
  let url: string;
  try {
    url = await app.listen();
  } catch (err) {
    const line = startupProblem(err);
    // release the data folder and the workers before leaving
    await app.close().catch((closeErr: unknown) => log.error({ err: closeErr }, 'closing after a failed start failed'));
    if (line !== undefined) refuse(line);
    throw err;
  }
  // before saying so: whoever waits for the ready line may kill the process the moment it reads it
  writeCompileCache(log, compileCache);
  const rtcPorts = app.media.pool.rtcPorts();
  log.info({ url, env: config.env, storage: app.stores.kind, rtcPorts }, 'moim ready');
  // the WebRTC ports too: in development they may not be MOIM_RTC_PORT's (another moim held them)
  const udp = rtcPorts.flatMap((p) => p.udp).join(',');
  const tcp = rtcPorts.flatMap((p) => p.tcp).join(',');
  console.log(`moim ready at ${url} (WebRTC UDP ${udp}, TCP ${tcp})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    app.close().then(
      () => {
        log.info('stopped');
        process.exitCode ??= 0;
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  installLastResort(log, stop);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * Write what was compiled so far to the compile cache (Node writes it at exit, which a killed
 * process never reaches); a cache that could not be turned on is reported, and the server runs on.
 */
function writeCompileCache(log: Logger, cache: { status: number; message?: string } | undefined): void {
  if (!cache) return;
  if (
    cache.status !== constants.compileCacheStatus.ENABLED &&
    cache.status !== constants.compileCacheStatus.ALREADY_ENABLED
  ) {
    log.warn({ status: cache.status, reason: cache.message }, 'compile cache not used (MOIM_COMPILE_CACHE)');
    return;
  }
  try {
    flushCompileCache();
  } catch (err) {
    log.warn({ err }, 'compile cache not written (MOIM_COMPILE_CACHE)');
  }
}
