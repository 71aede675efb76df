import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { withTimeout } from './bounded.ts';
import { profileFile } from './processes.ts';
import { summarise } from './profile.ts';

/**
 * A session on a server process's V8 inspector (the server is started with
 * `--inspect=127.0.0.1:0`). Used between measurement windows for a full GC before memory
 * readings, and with `--profile` to take a CPU profile of exactly one measurement window.
 */
export class InspectorSession {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (r: { result?: unknown; error?: { message: string } }) => void>();
  #next = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg);
    });
  }

  static async open(url: string): Promise<InspectorSession> {
    const ws = new WebSocket(url);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      10_000,
      'inspector connect',
    );
    return new InspectorSession(ws);
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        const id = this.#next++;
        this.#pending.set(id, (r) => {
          this.#pending.delete(id);
          if (r.error) reject(new Error(`${method}: ${r.error.message}`));
          else resolve(r.result as T);
        });
        this.#ws.send(JSON.stringify({ id, method, params }));
      }),
      120_000,
      `inspector ${method}`,
    );
  }

  close(): void {
    this.#ws.close();
  }
}

/** Full garbage collection (twice), then the heap size. */
export async function collectGarbage(inspectorUrl: string): Promise<{ usedSize: number; totalSize: number }> {
  const s = await InspectorSession.open(inspectorUrl);
  try {
    await s.call('HeapProfiler.collectGarbage');
    await s.call('HeapProfiler.collectGarbage');
    return await s.call<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
  } finally {
    s.close();
  }
}

/**
 * Start a CPU profile of one window; `stop()` writes it to
 * bench/results/profiles/<label>.cpuprofile and returns the path.
 */
export async function profileWindow(inspectorUrl: string, label: string): Promise<{ stop(): Promise<string> }> {
  const s = await InspectorSession.open(inspectorUrl);
  await s.call('Profiler.enable');
  await s.call('Profiler.setSamplingInterval', { interval: 200 });
  await s.call('Profiler.start');
  return {
    async stop() {
      const { profile } = await s.call<{ profile: unknown }>('Profiler.stop');
      s.close();
      const file = profileFile(label, '.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
}

/** `profileWindow`, and on stop its summary (bench/lib/profile.ts) printed with the file it wrote. */
export async function summarisedProfileWindow(
  inspectorUrl: string,
  label: string,
): Promise<{ stop(): Promise<string> }> {
  const p = await profileWindow(inspectorUrl, label);
  return {
    async stop() {
      const file = await p.stop();
      process.stdout.write(`${summarise(file, 25)}\n`);
      return file;
    },
  };
}
