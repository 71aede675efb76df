import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mapLimit } from './bounded.ts';
import { summarisedProfileWindow } from './inspector.ts';
import { PROFILES_DIR, REPO_ROOT, type ServerProcess, spawnServer } from './processes.ts';

export interface MoimServer extends ServerProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  dataDir: string;
  /** Scrape /metrics and return the value of one sample (first match, labels ignored), or undefined. */
  metric(name: string): Promise<number | undefined>;
  /** With `--profile`: CPU-profile a window (written and summarised on stop); a no-op otherwise. */
  profile(label: string): Promise<{ stop(): Promise<string | undefined> }>;
}

/**
 * Start moim exactly as `npm start` does — `node server/src/main.ts` from the repository root,
 * every storage/persistence setting at its default (SQLite in the data folder, WAL,
 * synchronous=FULL, updates committed before broadcast) — with only these differences:
 * a fresh temporary data folder, PORT=0 on 127.0.0.1, log level `warn` (an info line per
 * connection would measure the terminal), and `extraEnv` (e.g. the SFU worker count, which the
 * media benchmark states in its results). With `inspect` (or `--profile`), Node's inspector
 * listens on 127.0.0.1 so memory can be read after a forced GC and measurement windows profiled
 * (bench/lib/inspector.ts); it is idle otherwise. Every inherited MOIM_* / DATABASE_URL / REDIS_URL
 * variable is removed so the defaults apply, except the per-address socket cap (all generator
 * clients share 127.0.0.1).
 */
export async function startMoim(
  extraEnv: Record<string, string> = {},
  opts: { inspect?: boolean; root?: string } = {},
): Promise<MoimServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-bench-'));
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('MOIM_') || k === 'DATABASE_URL' || k === 'REDIS_URL' || k === 'PORT' || k === 'HOST') continue;
    env[k] = v;
  }
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    MOIM_DATA_DIR: dataDir,
    MOIM_LOG_LEVEL: 'warn',
    MOIM_RTC_PORT: '0',
    // every generator client comes from 127.0.0.1: the per-address socket cap (default 256) would
    // refuse them; it bounds one client machine, which a benchmark is not
    MOIM_MAX_SOCKETS_PER_ADDRESS: '100000',
    // one compile cache for every moim the benchmarks start (each has a new data folder): a server
    // started for a run loads its code as a restarted node does, from the cache its data folder keeps
    MOIM_COMPILE_CACHE: path.join(tmpdir(), 'moim-bench-compile-cache'),
    // BENCH_MOIM_ENV='{"MOIM_…":"…"}': settings to compare (e.g. the chat commit interval)
    ...benchMoimEnv(),
    ...extraEnv,
  });
  const server = await spawnServer({
    name: 'moim',
    args: [path.join('server', 'src', 'main.ts')],
    env,
    // `root`: another checkout of moim (its own server/src), for before/after runs of one benchmark
    cwd: opts.root ?? REPO_ROOT,
    readyPattern: /moim ready at (\S+)/,
    timeoutMs: 60_000,
    // --profile: the benchmark profiles its measurement windows through the inspector
    inspect: (opts.inspect ?? false) || process.env.BENCH_PROFILE_MOIM === '1',
    // --cpu-prof: the whole life of the process, start-up included (written when it exits)
    nodeArgs: [
      ...(process.env.BENCH_CPU_PROF_MOIM === '1' ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES_DIR}`] : []),
      // BENCH_MOIM_NODE_ARGS='--trace-gc …': Node flags for every moim (diagnosis runs)
      ...(process.env.BENCH_MOIM_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
    ],
    // BENCH_MOIM_LOG=<folder>: each moim's stdout and stderr also go to <folder>/moim-<pid>.log
    logDir: process.env.BENCH_MOIM_LOG,
  });
  const url = server.ready.replace('//localhost', '//127.0.0.1').replace(/\/$/, '');
  const stop = server.stop;
  return {
    ...server,
    get inspectorUrl() {
      return server.inspectorUrl;
    },
    url,
    dataDir,
    async stop() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    metric: (name) => scrapeMetric(url, name),
    async profile(label) {
      if (process.env.BENCH_PROFILE_MOIM !== '1' || !server.inspectorUrl) return { stop: async () => undefined };
      return summarisedProfileWindow(server.inspectorUrl, label);
    },
  };
}

/**
 * How long a /metrics scrape may take: a server under load on a busy machine answers late, and a
 * scrape that gives up ends the run (the window it measures is what is being reported).
 */
const SCRAPE_TIMEOUT_MS = 30_000;

export async function scrapeMetric(url: string, name: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  const text = await res.text();
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(v)) total = (total ?? 0) + v;
    }
  }
  return total;
}

/** moim's event-loop delay histogram (moim_event_loop_delay_seconds): samples, and those above 50 and 100 ms. */
export interface LoopDelayStats {
  count: number;
  over50ms: number;
  over100ms: number;
  sumSeconds: number;
}

export async function scrapeLoopDelay(url: string): Promise<LoopDelayStats | undefined> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  const text = await res.text();
  const le = new Map<string, number>();
  for (const m of text.matchAll(/^moim_event_loop_delay_seconds_bucket\{le="([^"]+)"[^}]*\} (\S+)$/gm))
    le.set(m[1]!, Number(m[2]));
  const one = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const count = one('moim_event_loop_delay_seconds_count');
  if (count === undefined) return undefined;
  return {
    count,
    over50ms: count - (le.get('0.05') ?? count),
    over100ms: count - (le.get('0.1') ?? count),
    sumSeconds: one('moim_event_loop_delay_seconds_sum') ?? 0,
  };
}

/** The difference of two loop-delay readings (a measurement window). */
export function loopDelayWindow(a: LoopDelayStats | undefined, b: LoopDelayStats | undefined): LoopDelayStats | null {
  if (!a || !b) return null;
  return {
    count: b.count - a.count,
    over50ms: b.over50ms - a.over50ms,
    over100ms: b.over100ms - a.over100ms,
    sumSeconds: b.sumSeconds - a.sumSeconds,
  };
}

export interface DevTokenRequest {
  name: string;
  sub?: string;
  site?: string;
  role?: 'admin' | 'manager' | 'member';
  teams?: string[];
  grants?: Record<string, unknown>;
  ttlSeconds?: number;
}

/** Mint development tokens (POST /auth/dev-token), `concurrency` requests at a time. */
export async function mintTokens(url: string, reqs: readonly DevTokenRequest[], concurrency = 8): Promise<string[]> {
  return mapLimit(reqs, concurrency, async (r) => {
    const res = await fetch(`${url}/auth/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ site: 'hq', role: 'member', ...r }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { token?: string };
    if (!body.token) throw new Error(`dev-token refused: ${JSON.stringify(body)}`);
    return body.token;
  });
}

/** `BENCH_MOIM_ENV`: a JSON object of MOIM_* settings given to every moim a benchmark starts. */
function benchMoimEnv(): Record<string, string> {
  const raw = process.env.BENCH_MOIM_ENV;
  if (!raw) return {};
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('BENCH_MOIM_ENV must be a JSON object of MOIM_* settings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (!k.startsWith('MOIM_') || typeof v !== 'string')
      throw new Error(`BENCH_MOIM_ENV: ${k} must be a MOIM_* string`);
    out[k] = v;
  }
  return out;
}

export interface CommitStats {
  count: number;
  seconds: number;
  updates: number;
  /** Cumulative counts by bucket upper bound (seconds), as Prometheus exposes them. */
  buckets: Array<[number, number]>;
}

/** Commit-time percentile (ms) between two snapshots, interpolated within its bucket. */
export function commitPercentileMs(a: CommitStats, b: CommitStats, q: number): number | null {
  const n = b.count - a.count;
  if (n <= 0) return null;
  const target = q * n;
  let prevLe = 0;
  let prevCum = 0;
  for (const [le, cumB] of b.buckets) {
    const cum = cumB - (a.buckets.find(([l]) => l === le)?.[1] ?? 0);
    if (cum >= target) {
      if (!Number.isFinite(le)) return prevLe * 1000;
      const frac = cum > prevCum ? (target - prevCum) / (cum - prevCum) : 1;
      return (prevLe + (le - prevLe) * frac) * 1000;
    }
    prevLe = le;
    prevCum = cum;
  }
  return prevLe * 1000;
}

/**
 * moim's group-commit histograms from its /metrics: `moim_doc_commit_seconds` with
 * `moim_doc_commit_batch_updates` (documents) or `moim_chat_commit_seconds` with
 * `moim_chat_commit_batch_writes` (chat).
 */
export async function scrapeCommits(url: string, kind: 'doc' | 'chat' = 'doc'): Promise<CommitStats | null> {
  const seconds = `moim_${kind}_commit_seconds`;
  const sizes = kind === 'doc' ? 'moim_doc_commit_batch_updates' : 'moim_chat_commit_batch_writes';
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  // samples carry default labels (node="…"): match the name followed by a space or a brace
  const one = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const count = one(`${seconds}_count`);
  if (count === undefined) return null;
  const buckets: Array<[number, number]> = [];
  for (const m of text.matchAll(new RegExp(`^${seconds}_bucket\\{le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))) {
    buckets.push([m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])]);
  }
  return {
    count,
    seconds: one(`${seconds}_sum`) ?? 0,
    updates: one(`${sizes}_sum`) ?? 0,
    buckets,
  };
}
