/**
 * Find the event-loop stalls in a V8 CPU profile (`node --cpu-prof`, or `--cpu-prof` of a
 * benchmark): the longest stretches of consecutive non-idle samples, each with when it began
 * (seconds after the profile started), how long it ran, and where the time went (self time by
 * function, and the call paths with the most total time). A stretch is one task or several
 * back to back without the loop going idle, which is what a client waiting on the server sees.
 *
 * `node bench/lib/stalls.ts <file.cpuprofile> [minMs=50] [top=15] [--window=<fromSec>-<toSec>]`
 *
 * A `--cpu-prof` profile covers the whole life of the process (start-up, clients connecting,
 * idle windows): `--window` keeps what began in that stretch of it (seconds after the profile
 * started; `--busy` prints how busy the main thread was each second, to find the window), and
 * applies to `--under=<regex>` too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

export interface Stall {
  /** Seconds after the profile started. */
  atSec: number;
  ms: number;
  /** Self time by function (ms), largest first. */
  self: [string, number][];
  /** Call paths (root → leaf, shortened) with the most time (ms), largest first. */
  paths: [string, number][];
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

/** Seconds after the profile's start: only what began in [from, to]. */
export interface Window {
  from: number;
  to: number;
}

export function findStalls(file: string, minMs = 50, top = 15, window?: Window): Stall[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: Node) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const where = url ? path.relative(process.cwd(), url) : '';
    return `${n.callFrame.functionName || '(anonymous)'}${where ? ` ${where}:${n.callFrame.lineNumber + 1}` : ''}`;
  };
  const stackOf = (id: number): string[] => {
    const out: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (n.callFrame.functionName !== '(root)') out.push(name(n));
    }
    return out.reverse();
  };
  const stalls: Stall[] = [];
  let t = p.startTime;
  let start = -1;
  let samples: [number, number][] = []; // [node id, µs]
  const close = (end: number) => {
    const ms = (end - start) / 1000;
    if (start >= 0 && ms >= minMs) {
      const self = new Map<string, number>();
      const paths = new Map<string, number>();
      for (const [id, us] of samples) {
        const n = byId.get(id)!;
        self.set(name(n), (self.get(name(n)) ?? 0) + us / 1000);
        const st = stackOf(id);
        // the first frames below the loop (what started the task) and the leaf's caller chain
        const key = st.length <= 6 ? st.join(' → ') : `${st.slice(0, 3).join(' → ')} → … → ${st.slice(-3).join(' → ')}`;
        paths.set(key, (paths.get(key) ?? 0) + us / 1000);
      }
      const sort = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
      const atSec = (start - p.startTime) / 1e6;
      if (!window || (atSec >= window.from && atSec <= window.to))
        stalls.push({ atSec, ms, self: sort(self), paths: sort(paths) });
    }
    start = -1;
    samples = [];
  };
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const id = p.samples[i]!;
    const n = byId.get(id)!;
    const busy = !IDLE.has(n.callFrame.functionName) || n.callFrame.functionName === '(garbage collector)';
    const idle = n.callFrame.functionName === '(idle)';
    if (!idle && busy) {
      if (start < 0) start = t;
      samples.push([id, p.timeDeltas[i + 1] ?? 0]);
    } else if (start >= 0) close(t);
  }
  if (start >= 0) close(t);
  return stalls.sort((a, b) => b.ms - a.ms);
}

/**
 * Main-thread time (ms) of the samples whose stack has a frame matching `frame` (its
 * "functionName url"), and the longest run of such samples back to back: what a part of the code
 * costs the event loop, in CPU terms (steadier than latency on a busy machine).
 */
export function timeUnder(
  file: string,
  frame: RegExp,
  window?: Window,
): { totalMs: number; longestMs: number; samples: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, boolean>();
  const matches = (id: number): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const here = frame.test(`${n.callFrame.functionName} ${n.callFrame.url}`);
    const up = parent.get(id);
    const out = here || (up !== undefined && matches(up));
    memo.set(id, out);
    return out;
  };
  let totalUs = 0;
  let runUs = 0;
  let longestUs = 0;
  let samples = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const us = p.timeDeltas[i + 1] ?? 0;
    const sec = (t - p.startTime) / 1e6;
    if (window && (sec < window.from || sec > window.to)) {
      runUs = 0;
      continue;
    }
    if (matches(p.samples[i]!)) {
      totalUs += us;
      runUs += us;
      samples++;
      longestUs = Math.max(longestUs, runUs);
    } else runUs = 0;
  }
  return { totalMs: totalUs / 1000, longestMs: longestUs / 1000, samples };
}

/** Main-thread busy share (0–1) of each second of the profile: where the load windows are. */
export function busyBySecond(file: string): number[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out: number[] = [];
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const sec = Math.floor((t - p.startTime) / 1e6);
    while (out.length <= sec) out.push(0);
    if (byId.get(p.samples[i]!)?.callFrame.functionName !== '(idle)') out[sec]! += (p.timeDeltas[i + 1] ?? 0) / 1e6;
  }
  return out;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const [file, minMs, top] = argv.filter((a) => !a.startsWith('--'));
  if (!file)
    throw new Error(
      'usage: node bench/lib/stalls.ts <file.cpuprofile> [minMs=50] [top=15] [--window=<from>-<to>] [--busy] | <file.cpuprofile> --under=<regex>… [--window=<from>-<to>]',
    );
  const w = argv.find((a) => a.startsWith('--window='));
  const m = w ? /^--window=(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(w) : null;
  if (w && !m) throw new Error(`--window expects <fromSec>-<toSec>, got ${w}`);
  const window = m ? { from: Number(m[1]), to: Number(m[2]) } : undefined;
  if (argv.includes('--busy')) {
    const busy = busyBySecond(file);
    process.stdout.write(`${busy.map((b, s) => `${s}s ${Math.round(b * 100)}%`).join('  ')}\n`);
    process.exit(0);
  }
  const under = argv.filter((a) => a.startsWith('--under='));
  if (under.length) {
    for (const u of under) {
      const r = timeUnder(file, new RegExp(u.slice('--under='.length)), window);
      process.stdout.write(
        `${u.slice(8)}: ${r.totalMs.toFixed(1)} ms on the main thread (${r.samples} samples), longest run ${r.longestMs.toFixed(1)} ms\n`,
      );
    }
    process.exit(0);
  }
  const stalls = findStalls(file, Number(minMs ?? 50), Number(top ?? 15), window);
  process.stdout.write(
    `${stalls.length} busy stretches ≥ ${minMs ?? 50} ms${window ? ` that began ${window.from}–${window.to} s in` : ''}\n`,
  );
  for (const s of stalls.slice(0, 12)) {
    process.stdout.write(`\n=== at ${s.atSec.toFixed(2)} s: ${s.ms.toFixed(0)} ms\n  self:\n`);
    for (const [k, ms] of s.self.slice(0, 8)) process.stdout.write(`    ${ms.toFixed(1).padStart(7)} ms  ${k}\n`);
    process.stdout.write('  paths:\n');
    for (const [k, ms] of s.paths.slice(0, 6)) process.stdout.write(`    ${ms.toFixed(1).padStart(7)} ms  ${k}\n`);
  }
}
