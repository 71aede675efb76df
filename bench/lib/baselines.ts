import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, type ServerProcess, spawnServer } from './processes.ts';

export interface BaselineServer extends ServerProcess {
  /** ws:// or http:// URL of the service. */
  url: string;
  /** GET → { rss, heapUsed, documents?, … } */
  statsUrl: string;
  stats(): Promise<Record<string, number>>;
}

/**
 * Start `bench/baselines/<file>` in its own process (so its CPU and memory are measured alone).
 * `durable`: its durable mode (baselines/durableWriter.ts), in a folder of its own removed on stop.
 */
export async function startBaseline(
  name: string,
  file: string,
  opts: { env?: Record<string, string>; inspect?: boolean; durable?: boolean } = {},
): Promise<BaselineServer> {
  const dir = opts.durable ? mkdtempSync(path.join(tmpdir(), 'moim-bench-durable-')) : undefined;
  const server = await spawnServer({
    name,
    args: [path.join(REPO_ROOT, 'bench', 'baselines', file)],
    env: { ...process.env, ...opts.env, ...(dir ? { BASELINE_DURABLE_DIR: dir } : {}) },
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
    async stop() {
      await server.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    async stats() {
      const res = await fetch(statsUrl, { signal: AbortSignal.timeout(10_000) });
      return (await res.json()) as Record<string, number>;
    },
  };
}
