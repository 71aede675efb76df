import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirError } from '../server/src/storage/DataDir.ts';
import { DataDirLock, LOCK_FILE, processStart } from '../server/src/storage/DataDirLock.ts';

/**
 * Issue 11, item 12: two servers on one data folder split documents between them. The folder's
 * lock file: held by one process, refused to a second, never left stuck by a killed holder, and
 * taken by exactly one of several servers starting at once.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function folder(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'moim-lock-'));
  dirs.push(d);
  return d;
}

const lockModule = pathToFileURL(path.resolve(import.meta.dirname, '../server/src/storage/DataDirLock.ts')).href;

/**
 * A process that takes the lock of `dir` at `at` (epoch ms, the same for every contender, so they
 * really collide), prints `locked` or `refused: …`, and holds it `holdMs`.
 */
function contender(dir: string, at: number, holdMs: number): ChildProcess {
  const code = `
    const { DataDirLock } = await import(${JSON.stringify(lockModule)});
    await new Promise((r) => setTimeout(r, ${at} - Date.now() - 5));
    while (Date.now() < ${at});
    try {
      const lock = DataDirLock.acquire(${JSON.stringify(dir)});
      // held until the test has heard every contender (SIGTERM), or holdMs at the latest: a
      // contender started late on a loaded machine must not find the lock already released; the
      // handler is in place before the test can hear 'locked' and send the signal
      const timer = setTimeout(() => lock.release(), ${holdMs});
      process.on('SIGTERM', () => {
        clearTimeout(timer);
        lock.release();
        process.exit(0);
      });
      console.log('locked');
    } catch (err) {
      console.log('refused: ' + err.message);
    }`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function outputOf(child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  return new Promise((resolve) => child.once('exit', () => resolve(out.trim())));
}

/** Start the contenders, wait until each has said what it got, then let the holder go. */
async function contest(dir: string, n: number): Promise<string[]> {
  const at = Date.now() + 2000;
  const children = Array.from({ length: n }, () => contender(dir, at, 60_000));
  const said = children.map(
    (c) =>
      new Promise<void>((resolve) => {
        c.stdout!.once('data', () => resolve());
        c.once('exit', () => resolve());
      }),
  );
  const outputs = Promise.all(children.map(outputOf));
  await Promise.all(said);
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  return outputs;
}

/** A pid that certainly does not run any more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

function me(extra: Record<string, unknown>): string {
  return `${JSON.stringify({
    pid: process.pid,
    start: processStart(process.pid),
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    pidNs: null,
    host: hostname(),
    nonce: 'x',
    startedAt: 'then',
    ...extra,
  })}\n`;
}

const onLinux = existsSync('/proc/self/stat');

describe('the data-folder lock', () => {
  it('refuses a second holder (also in the same process) naming the folder and the holder; release frees it', () => {
    const dir = folder();
    const lock = DataDirLock.acquire(dir);
    let err: unknown;
    try {
      DataDirLock.acquire(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirError);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect(lock.held()).toBe(true);
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    DataDirLock.acquire(dir).release();
    // no temporary files are left behind
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!onLinux)('takes over a lock whose process is gone, or whose pid now belongs to another process', () => {
    const dir = folder();
    const file = path.join(dir, LOCK_FILE);
    const pidNs = spawnSync('readlink', ['/proc/self/ns/pid'], { encoding: 'utf8' }).stdout.trim();
    // the holder was killed (kill -9 leaves the file)
    writeFileSync(file, me({ pid: deadPid(), pidNs }));
    const a = DataDirLock.acquire(dir);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    a.release();
    // the pid was reused: it runs, but started at another time than the holder did
    writeFileSync(file, me({ pidNs, start: '1' }));
    const b = DataDirLock.acquire(dir);
    b.release();
    // the machine rebooted since
    writeFileSync(file, me({ pidNs, bootId: 'another-boot' }));
    DataDirLock.acquire(dir).release();
  });

  it('judges a lock from another host or pid namespace by its heartbeat, and a garbled one by its age', () => {
    const dir = folder();
    const file = path.join(dir, LOCK_FILE);
    writeFileSync(file, me({ host: 'elsewhere', pid: 1 }));
    expect(() => DataDirLock.acquire(dir)).toThrow(/in use by another moim \(pid 1 on elsewhere/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    DataDirLock.acquire(dir).release();

    writeFileSync(file, 'not json');
    expect(() => DataDirLock.acquire(dir)).toThrow(/in use/);
    utimesSync(file, old, old);
    DataDirLock.acquire(dir).release();
  });

  it('of several processes starting at once on a free folder, exactly one gets it', async () => {
    const dir = folder();
    const outputs = await contest(dir, 6);
    expect(outputs.filter((o) => o === 'locked')).toHaveLength(1);
    for (const o of outputs.filter((x) => x !== 'locked')) expect(o).toMatch(/^refused: data folder .* is in use/);
  });

  it.skipIf(!onLinux)('of several processes taking over one stale lock at once, exactly one gets it', async () => {
    const dir = folder();
    const pidNs = spawnSync('readlink', ['/proc/self/ns/pid'], { encoding: 'utf8' }).stdout.trim();
    for (let round = 0; round < 2; round++) {
      writeFileSync(path.join(dir, LOCK_FILE), me({ pid: deadPid(), pidNs }));
      const outputs = await contest(dir, 6);
      expect(outputs.filter((o) => o === 'locked')).toHaveLength(1);
      expect(readdirSync(dir)).toEqual([]);
    }
  });
});
