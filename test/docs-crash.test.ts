import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { destroyAllClients, openDoc, synced, until } from './docs-support.ts';
import { devToken, type ServerProcess, startServerProcess, workerThreads } from './support/serverProcess.ts';

const servers: ServerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  destroyAllClients();
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `node server/src/main.ts` as `npm start` runs it, on a given data folder. */
async function startProcess(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess(env, { dataDir });
  servers.push(server);
  return server;
}

// commits on the append thread (the default) and on the event loop (MOIM_SQLITE_WRITE_THREADS=false)
describe.each(['true', 'false'])('durability, MOIM_SQLITE_WRITE_THREADS=%s', (threads) => {
  it('after a SIGKILL, every change the server broadcast is still there', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-docs-crash-'));
    dirs.push(dataDir);
    const first = await startProcess(dataDir, { MOIM_SQLITE_WRITE_THREADS: threads });
    const firstThreads = workerThreads(first);
    const [tw, tr] = await Promise.all([
      devToken(first.url, { name: 'Writer' }),
      devToken(first.url, { name: 'Reader' }),
    ]);
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

    // the restart appends on the write threads (the default), reading what the first one committed
    const second = await startProcess(dataDir);
    // on the event loop, the chat and document write threads are not started
    expect(workerThreads(second) - firstThreads).toBe(threads === 'false' ? 2 : 0);
    const fresh = openDoc(second.url, 'crash', await devToken(second.url, { name: 'Fresh' }));
    await synced(fresh);
    await until(() => fresh.text.toString() === seen, { doc: fresh.doc, what: 'state after the crash' });
    expect(fresh.text.toString()).toBe(seen);
  });
});
