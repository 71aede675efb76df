import type { Readable } from 'node:stream';

/** What was stored. */
export interface StoredBlob {
  key: string;
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
}

/**
 * Opaque binary objects (chat attachments). Files under the data folder now (`FsBlobStore`);
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
  /** A stream of the content, or undefined for an unknown key. */
  get(key: string): Promise<{ stream: Readable; size: number } | undefined>;
  delete(key: string): Promise<void>;
}
