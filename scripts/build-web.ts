// Build the web app (web-demo/dist, served by the server at /) when it is missing or older than
// the sources it is built from. Run by the install step, `npm start` and the browser tests;
// `--force` rebuilds regardless.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
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

export function webBuildIsCurrent(): boolean {
  const built = existsSync(dist) ? statSync(dist).mtimeMs : 0;
  return built > Math.max(...SOURCES.map(newest));
}

/** Build the web app unless it is current. Throws when the build fails. */
export function ensureWebBuilt(opts: { force?: boolean } = {}): boolean {
  if (!opts.force && webBuildIsCurrent()) return false;
  const vite = path.join(root, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: path.join(root, 'web-demo'),
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`web app build failed (exit ${r.status})`);
  return true;
}

if (import.meta.main) {
  const built = ensureWebBuilt({ force: process.argv.includes('--force') });
  console.log(built ? 'web app built into web-demo/dist' : 'web app is up to date');
}
