import { startBaseline } from './baselines.ts';
import { collectGarbage } from './inspector.ts';
import { type LoopDelayStats, type MoimServer, mintTokens, scrapeLoopDelay, startMoim } from './moim.ts';
import { procMem } from './proc.ts';
import { type DocSystem, wsUrl } from './ydoc-clients.ts';

export interface DocMemory {
  /** Resident set size (/proc). */
  rss: number;
  /** V8 heap used after a full GC (inspector). */
  heapUsed: number;
  /** Documents loaded, as the server reports it (null: not reported). */
  documents: number | null;
}

/** A running document server of one system, measured the same way whatever it is. */
export interface DocServer {
  system: DocSystem;
  /** ws:// URL the clients use (moim: its base URL; the client adds /yjs). */
  wsUrl: string;
  /** The server process (only its own pid: moim's idle mediasoup workers are not part of documents). */
  pid: number;
  /** Its V8 inspector (heap snapshots when investigating memory). */
  inspectorUrl: string;
  /** Tokens for `n` distinct people (undefined for baselines, which have no auth). */
  tokens(n: number, prefix: string): Promise<(string | undefined)[]>;
  /** Loaded documents now (cheap; no GC). */
  documents(): Promise<number | null>;
  /** Memory after a forced full GC. */
  memory(): Promise<DocMemory>;
  /**
   * moim only: document group commits so far (count, seconds, updates, and the cumulative
   * histogram of commit seconds by upper bound), from its /metrics.
   */
  commits(): Promise<CommitStats | null>;
  /** moim only: its event-loop delay histogram so far (stalls), from its /metrics. */
  loopDelay(): Promise<LoopDelayStats | undefined>;
  /** Milliseconds from spawning the process to its ready line. */
  readyMs: number;
  /** With `--profile`, moim only: CPU-profile a window. */
  profile(label: string): Promise<{ stop(): Promise<unknown> }>;
  stop(): Promise<void>;
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

async function scrapeCommits(url: string): Promise<CommitStats | null> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  // samples carry default labels (node="…"): match the name followed by a space or a brace
  const one = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const count = one('moim_doc_commit_seconds_count');
  if (count === undefined) return null;
  const buckets: Array<[number, number]> = [];
  for (const m of text.matchAll(/^moim_doc_commit_seconds_bucket\{le="([^"]+)"[^}]*\} (\S+)$/gm)) {
    buckets.push([m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])]);
  }
  return {
    count,
    seconds: one('moim_doc_commit_seconds_sum') ?? 0,
    updates: one('moim_doc_commit_batch_updates_sum') ?? 0,
    buckets,
  };
}

/** `opts.root`: moim from another checkout (a before/after comparison in one run). */
export async function startDocServer(system: DocSystem, opts: { root?: string } = {}): Promise<DocServer> {
  const t0 = performance.now();
  if (system === 'moim') {
    const m: MoimServer = await startMoim({}, { inspect: true, ...(opts.root ? { root: opts.root } : {}) });
    const readyMs = performance.now() - t0;
    const documents = async () => (await m.metric('moim_docs_loaded')) ?? null;
    return {
      system,
      wsUrl: wsUrl(m.url),
      pid: m.pid,
      inspectorUrl: m.inspectorUrl!,
      tokens: (n, prefix) =>
        mintTokens(
          m.url,
          Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, sub: `${prefix}${i}`, ttlSeconds: 6 * 3600 })),
        ),
      documents,
      async memory() {
        const heap = await collectGarbage(m.inspectorUrl!);
        return { rss: procMem(m.pid)?.rssBytes ?? Number.NaN, heapUsed: heap.usedSize, documents: await documents() };
      },
      stop: () => m.stop(),
      profile: (label) => m.profile(label),
      commits: () => scrapeCommits(m.url),
      loopDelay: () => scrapeLoopDelay(m.url),
      readyMs,
    };
  }
  const b = await startBaseline(system, system === 'hocuspocus' ? 'hocuspocus.ts' : 'y-websocket.ts', {
    inspect: true,
  });
  const readyMs = performance.now() - t0;
  const documents = async () => (await b.stats()).documents ?? null;
  return {
    system,
    wsUrl: b.url,
    pid: b.pid,
    inspectorUrl: b.inspectorUrl!,
    tokens: async (n) => Array.from({ length: n }, () => undefined),
    documents,
    async memory() {
      const heap = await collectGarbage(b.inspectorUrl!);
      return { rss: procMem(b.pid)?.rssBytes ?? Number.NaN, heapUsed: heap.usedSize, documents: await documents() };
    },
    stop: () => b.stop(),
    profile: async () => ({ stop: async () => undefined }),
    commits: async () => null,
    loopDelay: async () => undefined,
    readyMs,
  };
}
