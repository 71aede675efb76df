import { startBaseline } from './baselines.ts';
import { collectGarbage } from './inspector.ts';
import {
  type CommitStats,
  type LoopDelayStats,
  type MoimServer,
  mintTokens,
  scrapeCommits,
  scrapeLoopDelay,
  startMoim,
} from './moim.ts';

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
    durable: system === 'y-websocket durable',
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
