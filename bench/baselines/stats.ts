import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP endpoint for a baseline server process: GET / → JSON with the process's memory and
 * whatever `extra()` reports (loaded documents…), so the benchmark reads baselines the way it
 * reads moim's /metrics. Listens on 127.0.0.1, port 0; resolves with its URL.
 */
export function statsServer(extra: () => Record<string, number>): Promise<string> {
  const server = createServer((_req, res) => {
    const m = process.memoryUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, ...extra() }));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}
