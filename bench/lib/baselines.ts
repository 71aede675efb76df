import path from 'node:path';
import { REPO_ROOT, type ServerProcess, spawnServer } from './processes.ts';

export interface BaselineServer extends ServerProcess {
  /** ws:// or http:// URL of the service. */
  url: string;
  /** GET → { rss, heapUsed, documents?, … } */
  statsUrl: string;
  stats(): Promise<Record<string, number>>;
}

/** Start `bench/baselines/<file>` in its own process (so its CPU and memory are measured alone). */
export async function startBaseline(
  name: string,
  file: string,
  opts: { env?: Record<string, string>; inspect?: boolean } = {},
): Promise<BaselineServer> {
  const server = await spawnServer({
    name,
    args: [path.join(REPO_ROOT, 'bench', 'baselines', file)],
    env: { ...process.env, ...opts.env },
    inspect: opts.inspect ?? false,
    // BENCH_BASELINE_NODE_ARGS='--cpu-prof …': Node flags for every baseline (diagnosis, as BENCH_MOIM_NODE_ARGS)
    nodeArgs: process.env.BENCH_BASELINE_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [],
    readyPattern: /baseline ready at (\S+) stats (\S+)/,
    timeoutMs: 30_000,
  });
  const statsUrl = server.match[2]!;
  return {
    ...server,
    get inspectorUrl() {
      return server.inspectorUrl;
    },
    url: server.ready,
    statsUrl,
    async stats() {
      const res = await fetch(statsUrl, { signal: AbortSignal.timeout(10_000) });
      return (await res.json()) as Record<string, number>;
    },
  };
}
