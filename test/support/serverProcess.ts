import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  dataDir: string;
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; removes the data folder unless it was given. */
  stop(): Promise<void>;
}

/**
 * Start the server exactly as `npm start` does (`node server/src/main.ts`) on a free port, with a
 * temporary data folder (or `dataDir`, kept on stop). Resolves once it prints `moim ready at <url>`;
 * rejects with its output if it exits first.
 */
export function startServerProcess(
  env: Record<string, string> = {},
  opts: { dataDir?: string } = {},
): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'moim-proc-'));
  const child = spawn(process.execPath, ['server/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MOIM_DATA_DIR: dataDir,
      MOIM_RTC_PORT: '0',
      MOIM_SFU_WORKERS: '1',
      MOIM_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /moim ready at (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      const url = m[1]!.replace('localhost', '127.0.0.1');
      resolve({ url, port: Number(new URL(url).port), child, dataDir, output: () => out, stop });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

/** Mint a development token from a running server. */
export async function devToken(
  url: string,
  body: { name: string; site?: string; role?: string; [k: string]: unknown },
): Promise<string> {
  const res = await fetch(`${url}/auth/dev-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ site: 'hq', role: 'member', ...body }),
  });
  const json = (await res.json()) as { token?: string };
  if (!json.token) throw new Error(`dev-token refused: ${JSON.stringify(json)}`);
  return json.token;
}

/** How many worker threads (Node's `WorkerThread`, Linux's /proc) a server process runs now. */
export function workerThreads(server: ServerProcess): number {
  const pid = server.child.pid;
  if (pid === undefined) throw new Error('the server process has no pid');
  return readdirSync(`/proc/${pid}/task`).filter(
    (t) => readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim() === 'WorkerThread',
  ).length;
}
