import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  readlinkSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.ts';
import { DataDirError } from './DataDir.ts';
import { describeFsError } from './storageErrors.ts';

export const LOCK_FILE = 'moim.lock';

/** The holder refreshes the lock file's time this often (for holders we cannot check by pid). */
const HEARTBEAT_MS = 10_000;
/** A lock of another host or pid namespace is stale once its time is this old. */
export const FOREIGN_STALE_MS = 3 * HEARTBEAT_MS;
const MAX_ATTEMPTS = 50;

/** Who holds the lock: enough to tell, on this machine, whether that very process still runs. */
export interface LockHolder {
  pid: number;
  /** Start time of the process in clock ticks after boot (/proc/<pid>/stat field 22); null off Linux. */
  start: string | null;
  /** /proc/sys/kernel/random/boot_id: a reboot makes every older lock stale. */
  bootId: string | null;
  /** /proc/self/ns/pid: pids are only comparable inside one pid namespace (container). */
  pidNs: string | null;
  host: string;
  /** Unique per acquisition: tells this lock instance from a later one by the same pid. */
  nonce: string;
  startedAt: string;
}

/** The lock files held by this process, released by one synchronous `exit` listener. */
const held = new Set<DataDirLock>();
let exitHookInstalled = false;

/**
 * One moim per data folder. Two servers on one folder would split documents and chat between them
 * (each keeps its own state in memory), so the second refuses to start.
 *
 * `<dataDir>/moim.lock` holds the owner's pid, its start time and its boot and pid-namespace ids.
 * It is created atomically: the content goes to a temporary file first, which is then hard-linked
 * to `moim.lock` (`link` fails with EEXIST when the lock exists, so exactly one of two starting
 * servers wins, and a lock file is never seen half-written). A lock whose process is gone — the
 * pid no longer runs, or runs with another start time (pid reuse), or the machine rebooted — is
 * stale: `kill -9` cannot leave the folder locked. A stale lock is removed under a takeover guard,
 * only if it is still the very instance judged stale (else it is judged again), so two servers
 * taking over one stale lock at once still end with one owner.
 *
 * The pid cannot be checked from another host or pid namespace (a shared volume, a recreated
 * container): there the holder's heartbeat (the file's time, refreshed every 10 s) decides, and
 * a lock older than 30 s is stale.
 *
 * Not SQLite's exclusive locking mode: the write workers hold their own connections to the same
 * database. The lock is released on close and, at the latest, when the process exits.
 */
export class DataDirLock {
  readonly file: string;
  readonly holder: LockHolder;
  readonly #content: string;
  readonly #log: Logger | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #released = false;

  private constructor(file: string, holder: LockHolder, content: string, log: Logger | undefined) {
    this.file = file;
    this.holder = holder;
    this.#content = content;
    this.#log = log;
  }

  /** Take the lock of `dir` (which must exist) or throw DataDirError naming who holds it. */
  static acquire(dir: string, opts: { log?: Logger | undefined } = {}): DataDirLock {
    const abs = path.resolve(dir);
    const file = path.join(abs, LOCK_FILE);
    const me = currentHolder();
    const content = `${JSON.stringify(me)}\n`;
    const tmp = path.join(abs, `.${LOCK_FILE}.${me.pid}.${me.nonce}`);
    writeDurably(abs, tmp, content);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        try {
          linkSync(tmp, file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
            throw new DataDirError(abs, `cannot be locked: ${describeFsError(err)}`, { cause: err });
          const found = readLock(file);
          if (found === undefined) continue; // released meanwhile: try again
          const verdict = judge(found, me);
          if (verdict.alive) throw new DataDirError(abs, `is in use by another moim (${verdict.who}); stop it first`);
          if (removeIfSame(abs, file, found.raw, me.nonce))
            opts.log?.warn({ file, stale: verdict.who }, 'took over a stale data-folder lock');
          continue;
        }
        const lock = new DataDirLock(file, me, content, opts.log);
        lock.#start();
        return lock;
      }
      throw new DataDirError(abs, 'cannot be locked: other servers keep taking and releasing it; retry');
    } finally {
      try {
        unlinkSync(tmp);
      } catch (err) {
        opts.log?.warn({ err, file: tmp }, 'could not remove the temporary lock file');
      }
    }
  }

  /** True while `moim.lock` is still this instance's (readiness: someone may have removed it). */
  held(): boolean {
    if (this.#released) return false;
    try {
      return readFileSync(this.file, 'utf8') === this.#content;
    } catch (err) {
      this.#log?.error({ err, file: this.file }, 'the data-folder lock cannot be read');
      return false;
    }
  }

  /** Remove the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    held.delete(this);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    try {
      if (readFileSync(this.file, 'utf8') === this.#content) unlinkSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#log?.error({ err, file: this.file }, 'could not release the data-folder lock');
    }
  }

  #start(): void {
    held.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const lock of [...held]) lock.release();
      });
    }
    this.#heartbeat = setInterval(() => {
      const now = new Date();
      try {
        utimesSync(this.file, now, now);
      } catch (err) {
        this.#log?.error({ err, file: this.file }, 'the data-folder lock cannot be refreshed');
      }
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }
}

function currentHolder(): LockHolder {
  return {
    pid: process.pid,
    start: processStart(process.pid),
    bootId: readOptional('/proc/sys/kernel/random/boot_id'),
    pidNs: readLinkOptional('/proc/self/ns/pid'),
    host: hostname(),
    nonce: randomBytes(9).toString('base64url'),
    startedAt: new Date().toISOString(),
  };
}

/** Write `content` to a new file `file` in `dir`, synced. */
function writeDurably(dir: string, file: string, content: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'wx', 0o600);
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    throw new DataDirError(dir, `cannot be locked: ${describeFsError(err)}`, { cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

interface FoundLock {
  raw: string;
  holder: Partial<LockHolder> | undefined;
  mtimeMs: number;
}

function readLock(file: string): FoundLock | undefined {
  let raw: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataDirError(path.dirname(file), `has a lock file that cannot be read: ${describeFsError(err)}`, {
      cause: err,
    });
  }
  let holder: Partial<LockHolder> | undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null) holder = parsed as Partial<LockHolder>;
  } catch {
    // not JSON (written by hand, or by something else): judged by its age below
    holder = undefined;
  }
  return { raw, holder, mtimeMs };
}

/** Is the process that wrote `found` still running? `who` describes it for messages. */
function judge(found: FoundLock, me: LockHolder): { alive: boolean; who: string } {
  const h = found.holder;
  if (!h || typeof h.pid !== 'number' || !Number.isInteger(h.pid) || h.pid <= 0) {
    const age = Date.now() - found.mtimeMs;
    return { alive: age < FOREIGN_STALE_MS, who: `unreadable lock file written ${Math.round(age / 1000)} s ago` };
  }
  const who = `pid ${h.pid} on ${String(h.host)}, started ${String(h.startedAt)}`;
  const sameMachine = h.host === me.host && h.bootId === me.bootId && h.pidNs === me.pidNs;
  if (me.bootId !== null && h.host === me.host && h.bootId !== me.bootId) return { alive: false, who }; // rebooted
  if (!sameMachine) {
    // another host or pid namespace: the pid means nothing here, the heartbeat decides
    const age = Date.now() - found.mtimeMs;
    return { alive: age < FOREIGN_STALE_MS, who: `${who}, last refreshed ${Math.round(age / 1000)} s ago` };
  }
  if (!pidRuns(h.pid)) return { alive: false, who };
  // the pid runs: is it still the process that took the lock, or a later one that reused the pid?
  if (typeof h.start === 'string') {
    const start = processStart(h.pid);
    if (start !== null ? start !== h.start : !pidRuns(h.pid)) return { alive: false, who };
  }
  return { alive: true, who };
}

/** A takeover guard older than this belongs to a server that died while taking over. */
const GUARD_STALE_MS = 10_000;
/** How long a server waits for another one's takeover before judging the lock again. */
const GUARD_WAIT_MS = 25;

/**
 * Remove the lock if it is still exactly `raw` (the instance judged stale). Only one server at a
 * time may do it: it first takes a takeover guard (`.moim.lock.takeover`, created with `link`,
 * which fails when it exists), then reads the lock again and removes it only if it is unchanged.
 * Two servers judging the same stale lock at once thus never remove a lock that one of them (or a
 * third) has taken meanwhile. A guard left by a server killed half-way is cleared after 10 s.
 * True if this call removed the stale lock; false to judge again.
 */
function removeIfSame(dir: string, file: string, raw: string, nonce: string): boolean {
  const guard = path.join(dir, `.${LOCK_FILE}.takeover`);
  const mine = path.join(dir, `.${LOCK_FILE}.takeover.${process.pid}.${nonce}`);
  writeDurably(dir, mine, `${process.pid}\n`);
  try {
    try {
      linkSync(mine, guard);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new DataDirError(dir, `has a stale lock that cannot be removed: ${describeFsError(err)}`, { cause: err });
      clearStaleGuard(guard);
      // another server is taking over: wait a moment, then judge the lock again
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, GUARD_WAIT_MS);
      return false;
    }
    try {
      if (readLock(file)?.raw !== raw) return false;
      unlinkSync(file);
      return true;
    } finally {
      unlinkSync(guard);
    }
  } finally {
    unlinkSync(mine);
  }
}

/** Remove a takeover guard whose server died half-way (older than GUARD_STALE_MS). */
function clearStaleGuard(guard: string): void {
  try {
    if (Date.now() - statSync(guard).mtimeMs > GUARD_STALE_MS) unlinkSync(guard);
  } catch (err) {
    // gone meanwhile: its server finished
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks after boot), or null. */
export function processStart(pid: number): string | null {
  const stat = readOptional(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // the command name (field 2) is in parentheses and may contain spaces or parentheses
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    // not Linux, or no /proc: the check that needs it is skipped
    return null;
  }
}

function readLinkOptional(file: string): string | null {
  try {
    return readlinkSync(file);
  } catch {
    // not Linux, or no /proc
    return null;
  }
}
