import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Core pinning, as the issue measured (server on one core, load on the others): a benchmark that
 * calls `pinCores(true)` runs every server it starts — moim, a baseline, and their children such as
 * mediasoup workers — on core 0, and itself with its load generators (forked after, so they inherit
 * it) on cores 1…n-1. The server's CPU figures then hold no migrations and no generator next to it.
 * bench:sfu pins by default; bench:chat and bench:docs with `--pin` (on two cores every generator
 * shares the one load core, and its scheduling shows in their latencies). Off on one core or
 * without `taskset` (util-linux).
 */

interface Cores {
  server: string;
  load: string;
}

let cores: Cores | undefined;

/** Pin this process (all its threads) to the load cores; later servers go to the server core. */
export function pinCores(enabled: boolean): Cores | undefined {
  const n = availableParallelism();
  if (!enabled || n < 2) return undefined;
  const wanted = { server: '0', load: n === 2 ? '1' : `1-${n - 1}` };
  try {
    execFileSync('taskset', ['-a', '-p', '-c', wanted.load, String(process.pid)], { stdio: 'ignore' });
  } catch (e) {
    process.stderr.write(`pinning off: taskset failed (${(e as Error).message})\n`);
    return undefined;
  }
  cores = wanted;
  return cores;
}

/** The cores in use, or undefined when not pinning. */
export function pinnedCores(): Cores | undefined {
  return cores;
}

/** `[command, args]` that runs `execPath args` on the server core (unchanged when not pinning). */
export function onServerCore(execPath: string, args: string[]): [string, string[]] {
  return cores ? ['taskset', ['-c', cores.server, execPath, ...args]] : [execPath, args];
}

/**
 * Move an already started process (every thread it has; threads and children it makes later
 * inherit) to the server core: for a server started as a generator (bare mediasoup).
 */
export function pinToServerCore(pid: number): void {
  if (!cores) return;
  execFileSync('taskset', ['-a', '-p', '-c', cores.server, String(pid)], { stdio: 'ignore' });
}
