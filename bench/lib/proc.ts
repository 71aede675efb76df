import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU and memory of processes from /proc (Linux): what the kernel charged, independent of the
 * process's own view. CPU is user + system time; memory is resident set size.
 */

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // 100 on every Linux we run on
}

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system CPU seconds consumed so far. */
  cpuSec: number;
}

/** undefined when the process is gone. */
export function procStat(pid: number): ProcStat | undefined {
  return parseStat(pid, `/proc/${pid}/stat`);
}

/**
 * CPU seconds of a process's threads so far, summed by thread name (Node: `MainThread`, worker
 * threads by the name they were given, `V8Worker`, `libuv-worker`…); empty when it is gone.
 */
export function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const t = parseStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
    if (t) out[t.comm] = (out[t.comm] ?? 0) + t.cpuSec;
  }
  return out;
}

/** Per-thread-name CPU between two `threadCpu` readings, as cores over `wallSec` (names that used none left out). */
export function threadCores(
  before: Record<string, number>,
  after: Record<string, number>,
  wallSec: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, sec] of Object.entries(after)) {
    const d = sec - (before[name] ?? 0);
    if (d > 0 && wallSec > 0) out[name] = Math.round((d / wallSec) * 1000) / 1000;
  }
  return out;
}

/** `MainThread 33.1, WorkerThread 11.4` — thread CPU from `threadCores` as per cent of a core. */
export function formatThreads(cores: Record<string, number>): string {
  return Object.entries(cores)
    .map(([name, x]) => `${name} ${(x * 100).toFixed(1)}`)
    .join(', ');
}

function parseStat(pid: number, file: string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const comm = text.slice(open + 1, close);
  // fields after ")": state(3) ppid(4) … utime(14) stime(15)
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const ppid = Number(f[1]);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  return { pid, ppid, comm, cpuSec: (utime + stime) / clkTck };
}

export interface ProcMem {
  /** Resident set size now. */
  rssBytes: number;
  /** Peak resident set size since start (VmHWM). */
  hwmBytes: number;
}

export function procMem(pid: number): ProcMem | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

/** Direct children of `pid` (scans /proc; bounded by the process table). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && st.ppid === pid) out.push(st.pid);
  }
  return out;
}

/** Total CPU seconds of a set of processes (gone ones count 0). */
export function cpuSecOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += procStat(pid)?.cpuSec ?? 0;
  return total;
}

export interface CpuWindow {
  cpuSec: number;
  wallSec: number;
  /** cpuSec / wallSec: 1.0 = one core fully busy. */
  cores: number;
}

/**
 * CPU used by a set of processes between `start()` and `stop()`, with RSS sampled every
 * `sampleMs` for the peak. The pid list is re-read at each sample (children may appear).
 */
export class ProcMeter {
  readonly #pids: () => readonly number[];
  readonly #sampleMs: number;
  #startCpu = new Map<number, number>();
  #lastCpu = new Map<number, number>();
  #startWall = 0;
  #timer: NodeJS.Timeout | undefined;
  peakRssBytes = 0;

  constructor(pids: () => readonly number[], sampleMs = 250) {
    this.#pids = pids;
    this.#sampleMs = sampleMs;
  }

  start(): this {
    this.#startCpu.clear();
    this.#lastCpu.clear();
    this.peakRssBytes = 0;
    for (const pid of this.#pids()) {
      const c = procStat(pid)?.cpuSec ?? 0;
      this.#startCpu.set(pid, c);
      this.#lastCpu.set(pid, c);
    }
    this.#startWall = performance.now();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#sampleMs);
    this.#timer.unref();
    return this;
  }

  #sample(): void {
    let rss = 0;
    for (const pid of this.#pids()) {
      if (!this.#startCpu.has(pid)) this.#startCpu.set(pid, 0); // appeared during the window
      const c = procStat(pid)?.cpuSec;
      if (c !== undefined) this.#lastCpu.set(pid, c);
      rss += procMem(pid)?.rssBytes ?? 0;
    }
    if (rss > this.peakRssBytes) this.peakRssBytes = rss;
  }

  /** CPU since start (keeps running; call again for a later reading). */
  read(): CpuWindow {
    this.#sample();
    let cpu = 0;
    for (const [pid, last] of this.#lastCpu) cpu += last - (this.#startCpu.get(pid) ?? last);
    const wallSec = (performance.now() - this.#startWall) / 1000;
    return { cpuSec: cpu, wallSec, cores: wallSec > 0 ? cpu / wallSec : 0 };
  }

  stop(): CpuWindow {
    const r = this.read();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    return r;
  }
}

/** Current RSS of a set of processes. */
export function rssOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += procMem(pid)?.rssBytes ?? 0;
  return total;
}
