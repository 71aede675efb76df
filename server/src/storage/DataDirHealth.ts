import { open, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { MoimError } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import type { DataDirLock } from './DataDirLock.ts';

export interface DataDirHealthOptions {
  /** The data folder (absolute). */
  dir: string;
  /** Free-space floor (MOIM_DATA_MIN_FREE_BYTES): big writes that would go below it are refused. */
  minFreeBytes: number;
  /** The folder's lock: readiness fails when it is no longer this process's. */
  lock?: DataDirLock | undefined;
  log?: Logger | undefined;
  /** Readiness results are reused this long, so a flood of /readyz costs one probe. @default 1000 */
  cacheMs?: number;
  /** A write probe that takes longer than this counts as failed (a hung disk). @default 2000 */
  probeTimeoutMs?: number;
}

export interface StorageChecks {
  /** The folder takes a write (probe file written, synced, removed) and its lock is still ours. */
  storage: boolean;
  /** Free space is at or above the configured floor. */
  diskSpace: boolean;
}

/**
 * What readiness and the attachment store need to know about the data disk: free space against a
 * configured floor (fs.statfs), room reserved by uploads in flight, and whether the folder still
 * takes a write. Uploads reserve their size first, so several at once cannot together pass the
 * floor; small writes (chat, documents, audit) are not held to the floor and go on until the disk
 * is really full, where they fail with STORAGE_FULL.
 */
export class DataDirHealth {
  readonly #o: DataDirHealthOptions;
  readonly #cacheMs: number;
  readonly #probeTimeoutMs: number;
  #reserved = 0;
  #cached: { at: number; checks: Promise<StorageChecks> } | undefined;
  #last: StorageChecks | undefined;

  constructor(opts: DataDirHealthOptions) {
    this.#o = opts;
    this.#cacheMs = opts.cacheMs ?? 1000;
    this.#probeTimeoutMs = opts.probeTimeoutMs ?? 2000;
  }

  get minFreeBytes(): number {
    return this.#o.minFreeBytes;
  }

  /** Bytes available to moim on the data disk now (statfs `bavail × bsize`). */
  async freeBytes(): Promise<number> {
    const s = await statfs(this.#o.dir);
    return Number(s.bavail) * Number(s.bsize);
  }

  /**
   * Reserve `bytes` for a write about to happen. Refuses with STORAGE_FULL when free space minus
   * what uploads in flight reserved minus `bytes` would fall below the floor. Returns the release.
   */
  async reserve(bytes: number): Promise<() => void> {
    const free = await this.freeBytes();
    const left = free - this.#reserved - bytes;
    if (left < this.#o.minFreeBytes) {
      this.#o.log?.warn(
        { free, reserved: this.#reserved, bytes, minFreeBytes: this.#o.minFreeBytes },
        'refused a write: the data disk is at its free-space floor',
      );
      throw new MoimError(
        'STORAGE_FULL',
        'the server’s data disk is at its free-space floor; nothing new can be stored until space is freed',
      );
    }
    this.#reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reserved -= bytes;
    };
  }

  /** Readiness of the data folder (cached briefly; concurrent callers share one probe). */
  checks(): Promise<StorageChecks> {
    const now = Date.now();
    if (!this.#cached || now - this.#cached.at >= this.#cacheMs) this.#cached = { at: now, checks: this.#check() };
    return this.#cached.checks;
  }

  async #check(): Promise<StorageChecks> {
    const [storage, diskSpace] = await Promise.all([this.#writable(), this.#aboveFloor()]);
    const checks = { storage, diskSpace };
    const last = this.#last;
    this.#last = checks;
    if (last && (last.storage !== storage || last.diskSpace !== diskSpace)) {
      if (storage && diskSpace) this.#o.log?.info({ dir: this.#o.dir }, 'data folder is usable again');
      else this.#o.log?.warn({ dir: this.#o.dir, ...checks }, 'data folder is not ready');
    }
    return checks;
  }

  async #aboveFloor(): Promise<boolean> {
    try {
      return (await this.freeBytes()) >= this.#o.minFreeBytes;
    } catch (err) {
      this.#o.log?.error({ err, dir: this.#o.dir }, 'cannot read the free space of the data folder');
      return false;
    }
  }

  async #writable(): Promise<boolean> {
    if (this.#o.lock && !this.#o.lock.held()) {
      this.#o.log?.error({ file: this.#o.lock.file }, 'the data-folder lock is no longer this server’s');
      return false;
    }
    const probe = path.join(this.#o.dir, `.moim-ready-probe-${process.pid}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#probeTimeoutMs);
    });
    // never rejects: a failure is logged and counts as not writable (also after a timeout won)
    const write = (async () => {
      const fh = await open(probe, 'w', 0o600);
      try {
        await fh.writeFile('moim\n');
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await unlink(probe);
    })().then(
      () => true,
      async (err: unknown) => {
        this.#o.log?.warn({ err, dir: this.#o.dir }, 'the data folder does not take a write');
        await unlink(probe).catch((unlinkErr: unknown) => {
          if ((unlinkErr as NodeJS.ErrnoException).code !== 'ENOENT')
            this.#o.log?.warn({ err: unlinkErr, file: probe }, 'could not remove the write probe');
        });
        return false;
      },
    );
    try {
      const ok = await Promise.race([write, timeout.then(() => 'timeout' as const)]);
      if (ok === 'timeout') {
        this.#o.log?.error({ dir: this.#o.dir, timeoutMs: this.#probeTimeoutMs }, 'the data folder write probe hung');
        return false;
      }
      return ok;
    } finally {
      clearTimeout(timer);
    }
  }
}
