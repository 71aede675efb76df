import { type ChildProcess, fork } from 'node:child_process';
import { cpus } from 'node:os';
import { withTimeout } from './bounded.ts';
import { procStat } from './proc.ts';

/**
 * Load-generator processes. The parent forks `file` N times; each child calls `serve(handlers)`
 * and the parent drives it with `call(cmd, args)`. Clients live in the children so the process
 * measuring the server is never the one saturating; each generator's CPU (from /proc) is reported
 * next to the server's, so a saturated generator is visible in the results.
 */

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const liveGenerators = new Set<ChildProcess>();
process.once('exit', () => {
  for (const g of liveGenerators) if (g.pid && g.exitCode === null) g.kill('SIGKILL');
});

export class Generator {
  readonly index: number;
  readonly #proc: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #exited = false;

  private constructor(proc: ChildProcess, index: number) {
    this.#proc = proc;
    this.index = index;
    proc.on('message', (m: Reply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`generator ${index}: ${m.error}`));
    });
    proc.once('exit', (code, signal) => {
      this.#exited = true;
      liveGenerators.delete(proc);
      for (const p of this.#pending.values()) p.reject(new Error(`generator ${index} exited (${code ?? signal})`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.#proc.pid!;
  }

  static async start(file: string, index: number, env: Record<string, string> = {}): Promise<Generator> {
    const proc = fork(file, [], {
      execPath: process.execPath,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, BENCH_GENERATOR_INDEX: String(index), ...env },
    });
    liveGenerators.add(proc);
    const g = new Generator(proc, index);
    await g.call('ping', {}, 30_000);
    return g;
  }

  call<T = unknown>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`generator ${this.index} has exited`));
    const id = this.#next++;
    const p = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.#proc.send({ id, cmd, args } satisfies Request);
    return withTimeout(p, timeoutMs, `generator ${this.index} ${cmd}`).catch((e: unknown) => {
      this.#pending.delete(id);
      throw e;
    });
  }

  /** CPU seconds charged to this generator so far. */
  cpuSec(): number {
    return procStat(this.pid)?.cpuSec ?? 0;
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((r) => this.#proc.once('exit', () => r()));
    await this.call('exit', {}, 10_000).catch(() => {});
    await withTimeout(exited, 10_000, `generator ${this.index} exit`).catch(() => {
      this.#proc.kill('SIGKILL');
    });
  }
}

/** A pool of generators (default: one per core, at least 2). */
export class GeneratorPool {
  readonly generators: Generator[];
  private constructor(gens: Generator[]) {
    this.generators = gens;
  }

  static async start(file: string, count = Math.max(2, cpus().length)): Promise<GeneratorPool> {
    const gens = await Promise.all(Array.from({ length: count }, (_, i) => Generator.start(file, i)));
    return new GeneratorPool(gens);
  }

  get size(): number {
    return this.generators.length;
  }

  pids(): number[] {
    return this.generators.map((g) => g.pid);
  }

  /** Call every generator; `args(i)` gives each its own arguments. */
  all<T = unknown>(cmd: string, args: (i: number) => unknown = () => ({}), timeoutMs = 60_000): Promise<T[]> {
    return Promise.all(this.generators.map((g, i) => g.call<T>(cmd, args(i), timeoutMs)));
  }

  cpuSec(): number {
    return this.generators.reduce((s, g) => s + g.cpuSec(), 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.stop()));
  }
}

// ---- child side ----

export type Handlers = Record<string, (args: never) => unknown>;

/** In a generator process: answer the parent's calls with `handlers`. */
export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error('a generator must be started by Generator.start (no IPC channel)');
  const send = (r: Reply) => process.send?.(r);
  process.on('message', async (m: Request) => {
    if (m.cmd === 'ping') return send({ id: m.id, ok: true, value: process.pid });
    if (m.cmd === 'exit') {
      send({ id: m.id, ok: true });
      setTimeout(() => process.exit(0), 50);
      return;
    }
    const h = handlers[m.cmd];
    if (!h) return send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
    try {
      const value = await h(m.args as never);
      send({ id: m.id, ok: true, value });
    } catch (err) {
      send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** Split `n` items over `parts` as evenly as possible: returns [start, end) per part. */
export function split(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) out.push([Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
  return out;
}
