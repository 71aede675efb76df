import { mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeFsError } from './storageErrors.ts';

/**
 * The data folder cannot be used: it is missing and cannot be created, is not a folder, is not
 * writable, or another moim holds it. The entry point prints the message as one line (no stack)
 * and exits with 2, like a configuration error: these are problems of the machine, not bugs.
 */
export class DataDirError extends Error {
  /** The folder, absolute. */
  readonly dir: string;
  readonly reason: string;
  constructor(dir: string, reason: string, options?: { cause?: unknown }) {
    super(`data folder ${dir} ${reason} (MOIM_DATA_DIR)`, options);
    this.name = 'DataDirError';
    this.dir = dir;
    this.reason = reason;
  }
}

/**
 * Make sure the data folder exists (created 0700 if missing), is a folder and is writable (a small
 * probe file is written, synced and removed). Returns its absolute path; throws DataDirError
 * naming the folder and the reason otherwise.
 */
export function prepareDataDir(dir: string): string {
  const abs = path.resolve(dir);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      throw new DataDirError(abs, `cannot be read: ${describeFsError(err)}`, { cause: err });
    try {
      makeDirs(abs);
    } catch (mkErr) {
      throw new DataDirError(abs, `does not exist and cannot be created: ${describeFsError(mkErr)}`, {
        cause: mkErr,
      });
    }
    isDir = true;
  }
  if (!isDir) throw new DataDirError(abs, 'is not a folder');
  const probe = path.join(abs, `.moim-write-probe-${process.pid}`);
  try {
    writeFileSync(probe, 'moim\n', { mode: 0o600, flush: true });
    unlinkSync(probe);
  } catch (err) {
    throw new DataDirError(abs, `is not writable: ${describeFsError(err)}`, { cause: err });
  }
  return abs;
}

/**
 * `mkdir -p` (new folders 0700). Not `mkdirSync(…, { recursive: true })`: on file systems where
 * mkdir answers ENOENT under an existing parent (`/proc`, `/sys`), Node's recursive mkdir loops
 * forever, and a start-up would hang instead of saying why it cannot use the folder.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let cur = path.resolve(dir); ; ) {
    try {
      statSync(cur);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.unshift(cur);
      const parent = path.dirname(cur);
      if (parent === cur) break;
      cur = parent;
    }
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      // created meanwhile by someone else: fine
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
