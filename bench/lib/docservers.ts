import { startBaseline } from './baselines.ts';
import { collectGarbage } from './inspector.ts';
import { type MoimServer, mintTokens, startMoim } from './moim.ts';
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
  /** moim only: document group commits so far (count, seconds, updates), from its /metrics. */
  commits(): Promise<{ count: number; seconds: number; updates: number } | null>;
  /** With `--profile`, moim only: CPU-profile a window. */
  profile(label: string): Promise<{ stop(): Promise<unknown> }>;
  stop(): Promise<void>;
}

export async function startDocServer(system: DocSystem): Promise<DocServer> {
  if (system === 'moim') {
    const m: MoimServer = await startMoim({}, { inspect: true });
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
      async commits() {
        const [count, seconds, updates] = await Promise.all([
          m.metric('moim_doc_commit_seconds_count'),
          m.metric('moim_doc_commit_seconds_sum'),
          m.metric('moim_doc_commit_batch_updates_sum'),
        ]);
        return count === undefined ? null : { count, seconds: seconds ?? 0, updates: updates ?? 0 };
      },
    };
  }
  const b = await startBaseline(system, system === 'hocuspocus' ? 'hocuspocus.ts' : 'y-websocket.ts', {
    inspect: true,
  });
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
  };
}
