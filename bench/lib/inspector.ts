import WebSocket from 'ws';
import { withTimeout } from './bounded.ts';

/**
 * Talk to a server process's V8 inspector for one call sequence: a full garbage collection and
 * the heap size afterwards. Used between measurement windows only (memory per document, memory
 * after everyone left), the same way for moim and the baselines; nothing else is inspected.
 */
export async function collectGarbage(inspectorUrl: string): Promise<{ usedSize: number; totalSize: number }> {
  const ws = new WebSocket(inspectorUrl);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    10_000,
    'inspector connect',
  );
  let next = 1;
  const pending = new Map<number, (r: { result?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    withTimeout(
      new Promise<unknown>((resolve, reject) => {
        const id = next++;
        pending.set(id, (r) => (r.error ? reject(new Error(`${method}: ${r.error.message}`)) : resolve(r.result)));
        ws.send(JSON.stringify({ id, method, params }));
      }),
      60_000,
      `inspector ${method}`,
    );
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    return (await call('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  } finally {
    ws.close();
  }
}
