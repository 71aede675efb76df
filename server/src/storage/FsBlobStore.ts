import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { MoimError } from '@moim/protocol';
import type { BlobStore, StoredBlob } from './BlobStore.ts';

const KEY_RE = /^[0-9a-f]{2}\/[0-9a-f-]{36}$/;

/**
 * Blobs as files: `<root>/<2 hex>/<uuid>`. A blob is written to `<root>/tmp`, fsynced, then
 * renamed into place, so a crash never leaves a half-written blob under a key.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;
  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  async put(source: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<StoredBlob> {
    const id = randomUUID();
    const key = `${id.slice(0, 2)}/${id}`;
    const tmpDir = path.join(this.#root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, id);
    const hash = createHash('sha256');
    let size = 0;
    const fh = await open(tmp, 'wx', 0o600);
    let done = false;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > opts.maxBytes) throw new MoimError('PAYLOAD_TOO_LARGE', `attachment exceeds ${opts.maxBytes} bytes`);
        hash.update(chunk);
        let off = 0;
        while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
      }
      await fh.sync();
      await fh.close();
      const dest = this.#file(key);
      await mkdir(path.dirname(dest), { recursive: true });
      await rename(tmp, dest);
      done = true;
      return { key, size, sha256: hash.digest('hex') };
    } finally {
      if (!done) {
        await fh.close().catch(() => {});
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
    } catch {
      return undefined;
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
