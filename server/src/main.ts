import { availableParallelism } from 'node:os';
import { PortInUseError } from '@moim/sfu';
import { type App, createApp } from './app.ts';
import { ConfigError, configWarnings, loadConfig } from './config.ts';
import { installLastResort } from './lib/lastResort.ts';
import { createLogger } from './logger.ts';
import { DataDirError } from './storage/index.ts';
import { describeFsError } from './storage/storageErrors.ts';

/** Exit code of a start-up refused for a reason of the machine or its settings (not a bug). */
const EXIT_STARTUP = 2;

/**
 * The one line to print when start-up fails for a reason people can fix (bad setting, data
 * folder missing, read-only or in use, port taken), or undefined for a bug (then the stack helps).
 */
function startupProblem(err: unknown): string | undefined {
  if (err instanceof ConfigError) return `configuration error: ${err.message}`;
  if (err instanceof DataDirError) return `cannot start: ${err.message}`;
  if (err instanceof PortInUseError)
    return `cannot start: the WebRTC port ${err.port} (UDP and TCP on ${err.ip}) is taken, by another moim or another program: set MOIM_RTC_PORT to a free port (worker i uses MOIM_RTC_PORT + i), or to 0 for any free ports`;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const where = e.path ?? (e.address !== undefined ? `${e.address}:${e.port ?? ''}` : undefined);
    if (where !== undefined) return `cannot start: ${e.syscall} ${where}: ${describeFsError(e)}`;
  }
  return undefined;
}

function refuse(line: string): never {
  console.error(`moim: ${line}`);
  process.exit(EXIT_STARTUP);
}

/** Process entry point: the only place that reads process.env. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, { cpus: availableParallelism() });
  } catch (err) {
    const line = startupProblem(err);
    if (line !== undefined) refuse(line);
    throw err;
  }
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

main().catch((err: unknown) => {
  console.error('moim: failed to start:', err);
  process.exit(1);
});
