import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { MoimError } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import { type BlobStore, putFileByCopy, type StoredBlob } from './BlobStore.ts';
import type { DataDirHealth } from './DataDirHealth.ts';
import { storageError } from './storageErrors.ts';

const KEY_RE = /^[0-9a-f]{2}\/[0-9a-f-]{36}$/;

export interface FsBlobStoreOptions {
  /** Free-space floor and reservations of the data disk; without it only a full disk refuses. */
  space?: DataDirHealth | undefined;
  log?: Logger | undefined;
}

/**
 * Blobs as files: `<root>/<2 hex>/<uuid>`. A blob is written to `<root>/tmp`, fsynced, then
 * renamed into place, so a crash never leaves a half-written blob under a key. Before writing, the
 * blob's size (declared, else its limit) is reserved against the data disk's free-space floor;
 * a full disk (floor or ENOSPC) refuses with STORAGE_FULL and keeps nothing of the new blob.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #space: DataDirHealth | undefined;
  readonly #log: Logger | undefined;

  constructor(root: string, opts: FsBlobStoreOptions = {}) {
    this.#root = path.resolve(root);
    this.#space = opts.space;
    this.#log = opts.log;
  }

  async put(
    source: AsyncIterable<Uint8Array>,
    opts: { maxBytes: number; expectedBytes?: number | undefined },
  ): Promise<StoredBlob> {
    const release = await this.#space?.reserve(Math.min(opts.expectedBytes ?? opts.maxBytes, opts.maxBytes));
    try {
      return await this.#write(source, opts.maxBytes);
    } catch (err) {
      throw storageError(err);
    } finally {
      release?.();
    }
  }

  /**
   * Take the finished file itself: its content hashed as it is read once, the file synced, then
   * renamed into place — no copy and no second disk space (nothing is reserved). A file on another
   * file system (EXDEV) is copied as `put` does.
   */
  async putFile(file: string, opts: { maxBytes: number; size: number }): Promise<StoredBlob> {
    if (opts.size > opts.maxBytes) throw new MoimError('PAYLOAD_TOO_LARGE', `the file exceeds ${opts.maxBytes} bytes`);
    const id = randomUUID();
    const key = `${id.slice(0, 2)}/${id}`;
    try {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of createReadStream(file)) {
        size += (chunk as Buffer).byteLength;
        hash.update(chunk as Buffer);
      }
      if (size > opts.maxBytes) throw new MoimError('PAYLOAD_TOO_LARGE', `the file exceeds ${opts.maxBytes} bytes`);
      const fh = await open(file, 'r');
      try {
        await fh.chmod(0o600); // as every blob, whoever made the file
        await fh.sync(); // its content durable before a key points at it
      } finally {
        await fh.close();
      }
      const dest = this.#file(key);
      await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      await rename(file, dest);
      return { key, size, sha256: hash.digest('hex') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EXDEV') return putFileByCopy(this, file, opts);
      throw storageError(err);
    }
  }

  async #write(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredBlob> {
    const id = randomUUID();
    const key = `${id.slice(0, 2)}/${id}`;
    const tmpDir = path.join(this.#root, 'tmp');
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const tmp = path.join(tmpDir, id);
    const hash = createHash('sha256');
    let size = 0;
    const fh = await open(tmp, 'wx', 0o600);
    let closed = false;
    let done = false;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new MoimError('PAYLOAD_TOO_LARGE', `attachment exceeds ${maxBytes} bytes`);
        hash.update(chunk);
        let off = 0;
        while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
      }
      await fh.sync();
      closed = true;
      await fh.close();
      const dest = this.#file(key);
      await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      await rename(tmp, dest);
      done = true;
      return { key, size, sha256: hash.digest('hex') };
    } finally {
      if (!done) {
        if (!closed) {
          // the write already failed; a failing close adds nothing for the caller, but is logged
          await fh.close().catch((err: unknown) => this.#log?.warn({ err, file: tmp }, 'closing a failed blob failed'));
        }
        await rm(tmp, { force: true });
      }
    }
  }

  async get(key: string): Promise<{ stream: ReturnType<typeof createReadStream>; size: number } | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    const file = this.#file(key);
    try {
      const s = await stat(file);
      return { stream: createReadStream(file), size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    if (!KEY_RE.test(key)) return;
    await rm(this.#file(key), { force: true });
  }

  #file(key: string): string {
    return path.join(this.#root, key);
  }
}
