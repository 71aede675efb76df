import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const dist = path.join(root, 'web-demo/dist/index.html');
const SOURCES = ['web-demo/src', 'web-demo/index.html', 'web-demo/vite.config.ts', 'client-sdk/src', 'protocol/src'];

function newest(p: string): number {
  const abs = path.join(root, p);
  if (!existsSync(abs)) return 0;
  const st = statSync(abs);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of readdirSync(abs, { withFileTypes: true })) max = Math.max(max, newest(path.join(p, e.name)));
  return max;
}

/**
 * Browser tests run against the built web app as the server serves it: build it first when
 * `web-demo/dist` is missing or older than the sources it is built from.
 */
export default function setup(): void {
  const built = existsSync(dist) ? statSync(dist).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map(newest));
  if (built > sources) return;
  const vite = path.join(root, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: path.join(root, 'web-demo'),
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`web app build failed (exit ${r.status})`);
}
