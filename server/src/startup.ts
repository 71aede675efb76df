/**
 * What the process entry (main.ts) and the server (serve.ts) say when start-up fails for a reason
 * people can fix. Light on purpose: main.ts loads it before the compile cache is on.
 */
import { ConfigError } from './config/parse.ts';
import { DataDirError } from './storage/DataDir.ts';
import { describeFsError } from './storage/storageErrors.ts';

/** Exit code of a start-up refused for a reason of the machine or its settings (not a bug). */
export const EXIT_STARTUP = 2;

/** Print the one line people can act on and exit with EXIT_STARTUP. */
export function refuse(line: string): never {
  console.error(`moim: ${line}`);
  process.exit(EXIT_STARTUP);
}

/**
 * The one line to print when start-up fails for a reason people can fix (bad setting, data folder
 * missing, read-only or in use, a file or address refused), or undefined for a bug (then the stack
 * helps). serve.ts adds the reasons of the parts it loads (the WebRTC port).
 */
export function startupProblem(err: unknown): string | undefined {
  if (err instanceof ConfigError) return `configuration error: ${err.message}`;
  if (err instanceof DataDirError) return `cannot start: ${err.message}`;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const where = e.path ?? (e.address !== undefined ? `${e.address}:${e.port ?? ''}` : undefined);
    if (where !== undefined) return `cannot start: ${e.syscall} ${where}: ${describeFsError(e)}`;
  }
  return undefined;
}
