import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../server/src/storage/FsBlobStore.ts';
import { request, startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { bytesOf, channel, download, history, person, readyz, send, upload } from './attachments-support.ts';

/**
 * Issue 11, item 8: a full data disk. Uploads and sign-in answered INTERNAL, sends UNAVAILABLE,
 * and /readyz said storage was fine. Now: STORAGE_FULL (507) at the free-space floor or on a
 * really full disk, /readyz reports it, and everything stored before stays readable.
 */

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dataDir: string, env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startTestServer({ MOIM_RATE_LIMIT_BURST: '10000', ...env }, { dataDir });
  servers.push(s);
  return s;
}

async function stop(s: TestServer): Promise<void> {
  servers.splice(servers.indexOf(s), 1);
  await s.close();
}

const freeBytes = (dir: string) => {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
};

describe('free-space floor (MOIM_DATA_MIN_FREE_BYTES above the real free space)', () => {
  it('refuses uploads with STORAGE_FULL and reports it in /readyz; chat, sign-in and stored files go on', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-floor-'));
    dirs.push(dataDir);
    const first = await start(dataDir, { MOIM_DATA_MIN_FREE_BYTES: '0' });
    const alice = await person(first, 'alice');
    const ch = await channel(alice, 'floor');
    const before = bytesOf(50_000, 1);
    const stored = await upload(first.url, alice.token, ch.id, before);
    expect(stored.status).toBe(201);
    expect('error' in (await send(alice, ch.id, 'before the floor'))).toBe(false);
    expect(await readyz(first.url)).toMatchObject({ status: 200, checks: { storage: true, diskSpace: true } });
    await stop(first);

    // the same folder, now with a floor 1 GiB above what is free
    const floor = freeBytes(dataDir) + 1024 ** 3;
    const second = await start(dataDir, { MOIM_DATA_MIN_FREE_BYTES: String(floor) });
    expect(await readyz(second.url)).toMatchObject({ status: 503, checks: { storage: true, diskSpace: false } });
    const alice2 = await person(second, 'alice'); // sign-in (an audit write) still works
    for (const chunked of [false, true]) {
      expect(await upload(second.url, alice2.token, ch.id, bytesOf(1000, 2), { chunked })).toEqual({
        status: 507,
        code: 'STORAGE_FULL',
      });
    }
    // small writes are not held to the floor; what was stored is all there
    expect('error' in (await send(alice2, ch.id, 'at the floor'))).toBe(false);
    expect(await history(alice2, ch.id)).toEqual(['before the floor', 'at the floor']);
    const got = await download(second.url, alice2, ch.id, stored.attachment!.id);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(Buffer.from(before))).toBe(true);
    // nothing of the refused uploads was kept
    expect(readdirSync(path.join(dataDir, 'blobs', 'tmp'))).toEqual([]);
    await stop(second);

    // space again (the floor lowered): uploads work
    const third = await start(dataDir, { MOIM_DATA_MIN_FREE_BYTES: '0' });
    const alice3 = await person(third, 'alice');
    expect((await upload(third.url, alice3.token, ch.id, bytesOf(1000, 3))).status).toBe(201);
    expect(await readyz(third.url)).toMatchObject({ status: 200 });
  });
});

const root = process.getuid?.() === 0;

describe.skipIf(!root)('a really full disk (a small tmpfs, as root)', () => {
  let mount: string | undefined;
  afterAll(() => {
    if (!mount) return;
    try {
      execFileSync('umount', [mount]);
    } catch (err) {
      // something still holds it open: detach it now, the kernel frees it when the last user goes
      console.warn(`umount ${mount} failed (${(err as Error).message}); detaching lazily`);
      execFileSync('umount', ['-l', mount]);
    }
    rmSync(mount, { recursive: true, force: true });
  });

  function mountTmpfs(size: string): string {
    mount = mkdtempSync(path.join(tmpdir(), 'moim-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mount]);
    return mount;
  }

  /** Write a file until the disk refuses (ENOSPC). */
  function fill(file: string): void {
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      // fill the last partial chunk too
      for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
        try {
          for (;;) writeSync(fd, chunk, 0, size);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  it('answers STORAGE_FULL (never INTERNAL), /readyz says so, nothing stored is lost, and it recovers', async () => {
    const dir = mountTmpfs('32m');
    const dataDir = path.join(dir, 'data');
    const server = await start(dataDir, { MOIM_DATA_MIN_FREE_BYTES: '0' });
    const alice = await person(server, 'alice');
    const ch = await channel(alice, 'full');
    const before = bytesOf(200_000, 4);
    const stored = await upload(server.url, alice.token, ch.id, before);
    expect(stored.status).toBe(201);
    expect('error' in (await send(alice, ch.id, 'before the disk filled'))).toBe(false);

    const filler = path.join(dir, 'filler');
    fill(filler);
    expect(freeBytes(dir)).toBe(0);

    for (const chunked of [false, true])
      expect(await upload(server.url, alice.token, ch.id, bytesOf(100_000, 5), { chunked })).toEqual({
        status: 507,
        code: 'STORAGE_FULL',
      });
    expect(await readyz(server.url)).toMatchObject({ status: 503, checks: { storage: false } });
    // sign-in writes an audit entry: it works or says STORAGE_FULL, never INTERNAL
    const res = await fetch(`${server.url}/auth/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bob', sub: 'bob', site: 'hq', role: 'member' }),
    });
    if (res.status !== 200) expect(await res.json()).toMatchObject({ error: { code: 'STORAGE_FULL' } });
    expect(res.status === 200 || res.status === 507).toBe(true);
    // the chat store's commit (on its write worker) says STORAGE_FULL, not a bare error …
    const append = server.app.stores.chat.appendMessage({
      channelId: ch.id,
      clientMsgId: 'while-full-direct',
      sender: 'alice',
      text: 'while full (store)',
      threadRoot: null,
      mentions: [],
      attachments: [],
    });
    await append.then(
      () => undefined, // committed into WAL space already there: fine too
      (err: unknown) => expect(err).toMatchObject({ code: 'STORAGE_FULL' }),
    );
    // … and so does a send
    const sent = await send(alice, ch.id, 'while full');
    if ('error' in sent) expect(sent.error.code).toBe('STORAGE_FULL');

    // history reads on; a download link is audited (data-leak policy), so it waits for space: a clear code
    expect((await history(alice, ch.id))[0]).toBe('before the disk filled');
    const link = await request(alice.socket, 'chat:attachment:link', {
      channelId: ch.id,
      attachmentId: stored.attachment!.id,
    });
    if ('error' in link) expect(link.error.code).toBe('STORAGE_FULL');
    expect(readdirSync(path.join(dataDir, 'blobs', 'tmp'))).toEqual([]);

    // space again: ready, uploads and sends work, and nothing stored before was lost
    unlinkSync(filler);
    await new Promise((r) => setTimeout(r, 1100)); // the readiness result is cached for 1 s
    expect(await readyz(server.url)).toMatchObject({ status: 200, checks: { storage: true, diskSpace: true } });
    const got = await download(server.url, alice, ch.id, stored.attachment!.id);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(Buffer.from(before))).toBe(true);
    expect((await upload(server.url, alice.token, ch.id, bytesOf(100_000, 6))).status).toBe(201);
    expect('error' in (await send(alice, ch.id, 'after'))).toBe(false);
    expect((await history(alice, ch.id)).filter((t) => !t.startsWith('while full'))).toEqual([
      'before the disk filled',
      'after',
    ]);
    await stop(server);
  });

  it('a blob that fills the disk while being written: STORAGE_FULL, and its partial file is removed', async () => {
    const dir = mount ?? mountTmpfs('32m');
    const root = path.join(dir, 'blobs-direct');
    const blobs = new FsBlobStore(root);
    const filler = path.join(dir, 'filler2');
    fill(filler);
    // leave 256 KiB free, then write 1 MiB without declaring it
    unlinkSync(filler);
    const keep = path.join(dir, 'keep');
    const fd = openSync(keep, 'w');
    const free = freeBytes(dir);
    writeSync(fd, Buffer.alloc(Math.max(0, free - 256 * 1024)));
    closeSync(fd);
    async function* source() {
      for (let i = 0; i < 16; i++) yield new Uint8Array(64 * 1024);
    }
    await expect(blobs.put(source(), { maxBytes: 10 * 1024 * 1024 })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(readdirSync(path.join(root, 'tmp'))).toEqual([]);
    unlinkSync(keep);
  });
});
