import { MoimError } from '@moim/protocol';

/**
 * A store was used after `close()` (the server is shutting down). The edge answers UNAVAILABLE:
 * the client may retry on another node or after the restart.
 */
export class StoreClosedError extends Error {
  constructor(store: string) {
    super(`${store} is closed`);
    this.name = 'StoreClosedError';
  }
}

/**
 * The database could not be reached or refused for a reason of its own (a connection lost, a
 * PostgreSQL restart, a serialization failure). Nothing was committed; the edge answers
 * UNAVAILABLE so the client retries.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'StoreUnavailableError';
  }
}

/** SQLite's primary result code for "database or disk is full" (extended codes keep it in the low byte). */
const SQLITE_FULL = 13;
const DISK_FULL_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);

/**
 * True when `err` says the disk (or the file system quota) is full: ENOSPC/EDQUOT from node:fs,
 * SQLITE_FULL from node:sqlite (by `errcode`, or by its message when it crossed a worker thread as
 * text), or a STORAGE_FULL refusal already made.
 */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof MoimError) return err.code === 'STORAGE_FULL';
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (typeof e.code === 'string' && DISK_FULL_ERRNOS.has(e.code)) return true;
  if (typeof e.errcode === 'number' && (e.errcode & 0xff) === SQLITE_FULL) return true;
  return typeof e.message === 'string' && /database or disk is full|ENOSPC|no space left on device/i.test(e.message);
}

/**
 * The error a store should throw: STORAGE_FULL (HTTP 507) when the disk is full, so people get a
 * code they can act on instead of INTERNAL; any other error unchanged.
 */
export function storageError(err: unknown): unknown {
  if (err instanceof MoimError || !isDiskFull(err)) return err;
  return new MoimError('STORAGE_FULL', 'the server’s data disk is full; nothing new can be stored', { cause: err });
}

/** "read-only file system (EROFS)" from a node:fs error; its message otherwise. */
export function describeFsError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const reason = code ? FS_REASONS.get(code) : undefined;
  if (reason && code) return `${reason} (${code})`;
  return typeof e?.message === 'string' ? e.message : String(err);
}

const FS_REASONS = new Map<string, string>([
  ['EACCES', 'permission denied'],
  ['EPERM', 'operation not permitted'],
  ['EROFS', 'read-only file system'],
  ['ENOENT', 'does not exist'],
  ['ENOTDIR', 'a part of the path is not a folder'],
  ['EISDIR', 'is a folder'],
  ['ENOSPC', 'no space left on the device'],
  ['EDQUOT', 'disk quota exceeded'],
  ['EEXIST', 'already exists'],
  ['ELOOP', 'too many symbolic links'],
  ['ENAMETOOLONG', 'the name is too long'],
  ['EIO', 'input/output error'],
]);
