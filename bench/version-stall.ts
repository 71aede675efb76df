/**
 * How long one document's appends wait while another document's large version is saved (or its
 * large compacted state committed, `--set compaction=1`), on the
 * SQLite document store with its append worker (issue 18: one transaction holding a 10 MB version
 * kept SQLite's only write lock for 40–60 ms, and every document's appends waited behind it; large
 * versions and states are now written in parts, server/src/storage/sqlite/docVersionParts.ts).
 *
 * A store-level measurement, no server: an appender commits a 40-byte update every 5 ms on one
 * document while a version of `MB` megabytes of another is saved, `rounds` times on one store.
 * `node bench/version-stall.ts [--set MB=10] [--set rounds=5] [--set partBytes=…]`;
 * `BENCH_MOIM_BASE=<another checkout>` measures that checkout's store the same way, right after.
 * Prints per round the version's save time and the appends' p50 / p99 / max; writes no results file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchArgs, benchParams } from './lib/args.ts';
import { sleep } from './lib/bounded.ts';
import { REPO_ROOT } from './lib/processes.ts';

const args = benchArgs();
const QUICK = { MB: 10, rounds: 5, appendEveryMs: 5, partBytes: 0, compaction: 0 };
const P = benchParams(args, QUICK, QUICK);

interface Store {
  warm(timeoutMs: number): Promise<void>;
  create(input: { org: string; name: string; owner: string; policy: { exportAllowed: boolean } }): Promise<unknown>;
  appendUpdates(entries: { org: string; name: string; update: Uint8Array }[]): Promise<number[]>;
  commitCompaction(
    ref: { org: string; name: string },
    input: { expectSeq: number; upToId: number; state: Uint8Array },
  ): Promise<boolean>;
  saveVersion(input: {
    doc: { org: string; name: string };
    label: string;
    auto: boolean;
    createdBy: string;
    state: Uint8Array;
  }): Promise<unknown>;
  close(): Promise<void>;
}

async function measure(root: string, label: string): Promise<void> {
  const sqlite = path.join(root, 'server', 'src', 'storage', 'sqlite');
  const { SqliteDb } = await import(path.join(sqlite, 'SqliteDb.ts'));
  const { sqliteMigrations } = await import(path.join(sqlite, 'migrations', 'index.ts'));
  const { SqliteDocStore } = await import(path.join(sqlite, 'SqliteDocStore.ts'));
  const dir = mkdtempSync(path.join(tmpdir(), 'moim-bench-version-stall-'));
  const db = SqliteDb.open(path.join(dir, 'moim.sqlite'));
  db.migrate(sqliteMigrations);
  const store: Store = new SqliteDocStore(db, P.partBytes > 0 ? { versionPartBytes: P.partBytes } : {});
  try {
    await store.warm(10_000);
    const policy = { exportAllowed: true };
    await store.create({ org: 'bench', name: 'big', owner: 'bench', policy });
    await store.create({ org: 'bench', name: 'busy', owner: 'bench', policy });
    for (let round = 1; round <= P.rounds; round++) {
      // not compressible, like an encoded Yjs state; a new one each round: the store may take its
      // buffer, and SQLite would find an identical one's pages unchanged
      const state = new Uint8Array(P.MB * 1024 * 1024);
      for (let i = 0; i < state.length; i++) state[i] = (Math.imul(i + round, 2654435761) >>> 24) & 0xff;
      const waits: number[] = [];
      let stop = false;
      const appender = (async () => {
        while (!stop) {
          const t = performance.now();
          await store.appendUpdates([{ org: 'bench', name: 'busy', update: new Uint8Array(40).fill(round) }]);
          waits.push(performance.now() - t);
          await sleep(P.appendEveryMs);
        }
      })();
      await sleep(200);
      const t0 = performance.now();
      const big = { org: 'bench', name: 'big' };
      if (P.compaction !== 1) await store.saveVersion({ doc: big, label: 'v', auto: true, createdBy: 'bench', state });
      else if (!(await store.commitCompaction(big, { expectSeq: round - 1, upToId: 0, state })))
        throw new Error('the compaction lost');
      const saveMs = performance.now() - t0;
      await sleep(200);
      stop = true;
      await appender;
      waits.sort((a, b) => a - b);
      const at = (q: number) => waits[Math.min(waits.length - 1, Math.floor(waits.length * q))]!.toFixed(2);
      console.log(
        `${label} round ${round}: ${P.MB} MB ${P.compaction === 1 ? 'state compacted' : 'version saved'} in ${saveMs.toFixed(0)} ms; ${waits.length} appends around it: p50 ${at(0.5)} p99 ${at(0.99)} max ${waits.at(-1)!.toFixed(1)} ms`,
      );
    }
  } finally {
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await measure(REPO_ROOT, 'moim');
if (process.env.BENCH_MOIM_BASE) await measure(path.resolve(process.env.BENCH_MOIM_BASE), 'moim (base)');
