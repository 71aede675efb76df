import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** What was stored. */
export interface StoredBlob {
  key: string;
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
}

/** `putFile` by copying: the file's bytes stored with `put` (stores that cannot take the file itself). */
export function putFileByCopy(
  store: Pick<BlobStore, 'put'>,
  file: string,
  opts: { maxBytes: number; size: number },
): Promise<StoredBlob> {
  return store.put(createReadStream(file), { maxBytes: opts.maxBytes, expectedBytes: opts.size });
}

/**
 * Opaque binary objects (chat attachments, recording files). Files under the data folder now (`FsBlobStore`);
 * an object-storage implementation (S3-compatible) can replace it later.
 */
export interface BlobStore {
  /**
   * Store the bytes of `source` under a new key. Refuses with PAYLOAD_TOO_LARGE as soon as more
   * than `maxBytes` arrive, and with STORAGE_FULL when the store has no room for `expectedBytes`
   * (else `maxBytes`) or fills up while writing; nothing of the new blob is kept then. Resolves
   * once the content is durable.
   */
  put(
    source: AsyncIterable<Uint8Array>,
    opts: { maxBytes: number; expectedBytes?: number | undefined },
  ): Promise<StoredBlob>;
  /**
   * Store the finished file at `file` (`size` bytes) under a new key, as `put` would — but a store
   * that keeps files on the same disk takes the file itself (renamed into place: no copy, no second
   * disk space while it runs), so the file may be gone afterwards. Recordings keep their segments so.
   */
  putFile(file: string, opts: { maxBytes: number; size: number }): Promise<StoredBlob>;
  /** A stream of the content, or undefined for an unknown key. */
  get(key: string): Promise<{ stream: Readable; size: number } | undefined>;
  delete(key: string): Promise<void>;
}
