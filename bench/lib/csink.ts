import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { withTimeout } from './bounded.ts';
import { Generator } from './generators.ts';
import { REPO_ROOT } from './processes.ts';

export interface SinkStats {
  ssrcs: number;
  active: number;
  received: number;
  expected: number;
  silent: number;
  rtcp: number;
  probation: number;
}

/** A receiver process for consumers' RTP: where to send, and per-window counts. */
export interface Sink {
  readonly kind: 'native' | 'node';
  readonly pid: number;
  readonly addresses: { ip: string; port: number }[];
  reset(): Promise<void>;
  stats(): Promise<SinkStats>;
  stop(): Promise<void>;
}

const SOURCE = path.join(REPO_ROOT, 'bench', 'lib', 'rtpsink.c');

/** Compile bench/lib/rtpsink.c once (cached in the temp folder by source hash); undefined without a C compiler. */
export function nativeSinkBinary(): string | undefined {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const bin = path.join(tmpdir(), `moim-rtpsink-${hash}`);
  if (existsSync(bin)) return bin;
  try {
    execFileSync('cc', ['-O2', '-o', bin, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    return bin;
  } catch {
    return undefined;
  }
}

class NativeSink implements Sink {
  readonly kind = 'native' as const;
  readonly pid: number;
  readonly addresses: { ip: string; port: number }[];
  readonly #proc: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  private constructor(proc: ChildProcess, lines: Interface, ports: number[]) {
    this.#proc = proc;
    this.pid = proc.pid!;
    this.#lines = lines;
    this.addresses = ports.map((port) => ({ ip: '127.0.0.1', port }));
    lines.on('line', (l) => this.#waiting.shift()?.(l));
  }

  static async start(bin: string, sockets: number): Promise<NativeSink> {
    const proc = spawn(bin, [String(sockets)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: proc.stdout! });
    const first = await withTimeout(
      new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        proc.once('exit', (c) => reject(new Error(`rtpsink exited (${c})`)));
      }),
      10_000,
      'rtpsink start',
    );
    const ports = first.split(' ').slice(1).map(Number);
    return new NativeSink(proc, lines, ports);
  }

  #ask(cmd: string): Promise<string> {
    const p = new Promise<string>((resolve) => this.#waiting.push(resolve));
    this.#proc.stdin!.write(`${cmd}\n`);
    return withTimeout(p, 10_000, `rtpsink ${cmd}`);
  }

  async reset(): Promise<void> {
    await this.#ask('reset');
  }

  async stats(): Promise<SinkStats> {
    return JSON.parse(await this.#ask('stats')) as SinkStats;
  }

  async stop(): Promise<void> {
    if (this.#proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.#proc.once('exit', () => r()));
    this.#proc.stdin!.end('quit\n');
    await withTimeout(exited, 5000, 'rtpsink quit').catch(() => this.#proc.kill('SIGKILL'));
    this.#lines.close();
  }
}

class NodeSink implements Sink {
  readonly kind = 'node' as const;
  readonly #g: Generator;
  readonly addresses: { ip: string; port: number }[];
  private constructor(g: Generator, addresses: { ip: string; port: number }[]) {
    this.#g = g;
    this.addresses = addresses;
  }
  get pid(): number {
    return this.#g.pid;
  }
  static async start(index: number, sockets: number): Promise<NodeSink> {
    const g = await Generator.start(path.join(REPO_ROOT, 'bench', 'gen', 'rtp-gen.ts'), index);
    const { addresses } = await g.call<{ addresses: { ip: string; port: number }[] }>('sinkOpen', { count: sockets });
    return new NodeSink(g, addresses);
  }
  async reset(): Promise<void> {
    await this.#g.call('sinkReset');
  }
  stats(): Promise<SinkStats> {
    return this.#g.call<SinkStats>('sinkStats');
  }
  async stop(): Promise<void> {
    await this.#g.call('close').catch(() => {});
    await this.#g.stop();
  }
}

/** A native receiver when a C compiler is available (or `preferNode`), else a Node one. */
export async function startSink(index: number, sockets = 1, preferNode = false): Promise<Sink> {
  const bin = preferNode ? undefined : nativeSinkBinary();
  return bin ? NativeSink.start(bin, sockets) : NodeSink.start(index, sockets);
}
