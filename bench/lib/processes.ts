import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sleep, withTimeout } from './bounded.ts';
import { onServerCore } from './pin.ts';
import { childPids, procStat } from './proc.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Where the benchmarks write CPU profiles (V8's and perf's). */
export const PROFILES_DIR = path.join(REPO_ROOT, 'bench', 'results', 'profiles');

/** The file for a profile named `label` (made safe for a file name) with `ext`, its folder made. */
export function profileFile(label: string, ext: string): string {
  mkdirSync(PROFILES_DIR, { recursive: true });
  return path.join(PROFILES_DIR, `${label.replace(/[^\w.-]+/g, '-')}${ext}`);
}

const live = new Set<ChildProcess>();

/** Kill every process this run started (on exit, on a signal, on the watchdog). */
export function killAll(): void {
  for (const p of live) {
    if (p.exitCode === null && p.signalCode === null && p.pid) {
      for (const c of safeChildren(p.pid)) tryKill(c, 'SIGKILL');
      tryKill(p.pid, 'SIGKILL');
    }
  }
  live.clear();
}

function safeChildren(pid: number): number[] {
  try {
    return childPids(pid);
  } catch {
    return [];
  }
}

function tryKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

export interface ServerProcess {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The first capture group of the ready pattern (usually a URL). */
  ready: string;
  /** The whole match of the ready pattern. */
  match: string[];
  /** Lines printed so far (last 200), for error reports. */
  output: string[];
  /** ws:// URL of the V8 inspector when started with `inspect` (used only to force a GC before memory readings). */
  inspectorUrl: string | undefined;
  /** This process and its children (mediasoup workers…). */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * Spawn `node <args>` (this Node binary) and resolve when a stdout line matches `readyPattern`.
 * stderr is kept for error reports and, with `echo`, mirrored to ours.
 */
export async function spawnServer(opts: {
  name: string;
  args: string[];
  env?: Record<string, string | undefined>;
  readyPattern: RegExp;
  timeoutMs?: number;
  echo?: boolean;
  cwd?: string;
  nodeArgs?: string[];
  /** Start with `--inspect=127.0.0.1:0` so memory readings can be taken after a full GC. */
  inspect?: boolean;
  /** Also write every output line to `<logDir>/<name>-<pid>.log`. */
  logDir?: string | undefined;
}): Promise<ServerProcess> {
  const nodeArgs = [...(opts.nodeArgs ?? []), ...(opts.inspect ? ['--inspect=127.0.0.1:0'] : [])];
  // on the server core when the benchmark pins (taskset execs node: the pid is node's)
  const [command, args] = onServerCore(process.execPath, [...nodeArgs, ...opts.args]);
  const proc = spawn(command, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const output: string[] = [];
  const logFile = opts.logDir ? path.join(opts.logDir, `${opts.name.replace(/\W+/g, '-')}-${proc.pid}.log`) : undefined;
  const keep = (line: string) => {
    if (logFile) appendFileSync(logFile, `${line}\n`);
    output.push(line);
    if (output.length > 200) output.shift();
    if (opts.echo) process.stderr.write(`[${opts.name}] ${line}\n`);
  };
  let inspectorUrl: string | undefined;
  const err = createInterface({ input: proc.stderr! });
  err.on('line', (line) => {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (m) inspectorUrl = m[1];
    else if (!/^For help, see|Debugger attached|Waiting for the debugger/.test(line)) keep(line);
  });
  const out = createInterface({ input: proc.stdout! });
  const ready = new Promise<string[]>((resolve, reject) => {
    out.on('line', (line) => {
      keep(line);
      const m = opts.readyPattern.exec(line);
      if (m) resolve([...m]);
    });
    proc.once('exit', (code, signal) =>
      reject(new Error(`${opts.name} exited before ready (${code ?? signal}):\n${output.slice(-30).join('\n')}`)),
    );
    proc.once('error', reject);
  });
  let readyValue: string[];
  try {
    readyValue = await withTimeout(ready, opts.timeoutMs ?? 30_000, `${opts.name} start`);
  } catch (e) {
    tryKill(proc.pid!, 'SIGKILL');
    throw e;
  }
  const pid = proc.pid!;
  return {
    name: opts.name,
    proc,
    pid,
    ready: readyValue[1] ?? readyValue[0] ?? '',
    match: readyValue,
    get inspectorUrl() {
      return inspectorUrl;
    },
    output,
    pids: () => [pid, ...safeChildren(pid)],
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        live.delete(proc);
        return;
      }
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      const kids = safeChildren(pid).map((k) => ({ pid: k, comm: procStat(k)?.comm }));
      tryKill(pid, 'SIGTERM');
      try {
        await withTimeout(exited, 15_000, `${opts.name} stop`);
      } catch {
        tryKill(pid, 'SIGKILL');
        await withTimeout(exited, 5_000, `${opts.name} kill`).catch(() => {});
      }
      // orphaned workers, if any (checked by name: never a reused pid)
      await sleep(200);
      for (const k of kids) if (k.comm && procStat(k.pid)?.comm === k.comm) tryKill(k.pid, 'SIGKILL');
      live.delete(proc);
    },
  };
}
