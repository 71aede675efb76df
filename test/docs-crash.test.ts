import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { destroyAllClients, openDoc, synced, until } from './docs-support.ts';

const root = path.resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  destroyAllClients();
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `node server/src/main.ts` as `npm start` runs it, on a given data folder. */
function startProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['server/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MOIM_DATA_DIR: dataDir,
      MOIM_SFU_WORKERS: '1',
      MOIM_RTC_PORT: '0',
      MOIM_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stderr?.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /moim ready at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: (m[1] as string).replace('localhost', '127.0.0.1') });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

async function devToken(url: string, name: string): Promise<string> {
  const res = await fetch(`${url}/auth/dev-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, site: 'hq', role: 'member' }),
  });
  return ((await res.json()) as { token: string }).token;
}

describe('durability', () => {
  it('after a SIGKILL, every change the server broadcast is still there', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-docs-crash-'));
    dirs.push(dataDir);
    const first = await startProcess(dataDir);
    const [tw, tr] = await Promise.all([devToken(first.url, 'Writer'), devToken(first.url, 'Reader')]);
    const w = openDoc(first.url, 'crash', tw);
    const r = openDoc(first.url, 'crash', tr);
    await Promise.all([synced(w), synced(r)]);
    for (let i = 0; i < 300; i++) {
      w.text.insert(w.text.length, `${i} `);
      if (i % 10 === 0) await new Promise((res) => setImmediate(res));
    }
    // the reader saw everything: the server broadcast it, hence stored it first
    await until(() => r.text.toString() === w.text.toString(), { doc: r.doc, what: 'reader caught up' });
    const seen = r.text.toString();
    // kill without any chance to flush; the clients go quiet so they cannot push anything back
    destroyAllClients();
    first.child.kill('SIGKILL');
    await new Promise((res) => first.child.once('exit', res));

    const second = await startProcess(dataDir);
    const fresh = openDoc(second.url, 'crash', await devToken(second.url, 'Fresh'));
    await synced(fresh);
    await until(() => fresh.text.toString() === seen, { doc: fresh.doc, what: 'state after the crash' });
    expect(fresh.text.toString()).toBe(seen);
  });
});
