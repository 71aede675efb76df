import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { MoimError } from '@moim/protocol';
import { type BlobStore, putFileByCopy, type StoredBlob } from '../BlobStore.ts';
import type { PgDb, PgTx } from './PgDb.ts';

/** The largest chunk row (bytes); a blob is stored as ⌈size / CHUNK_BYTES⌉ rows. */
export const CHUNK_BYTES = 256 * 1024;

/** Keys look like FsBlobStore's (`<2 hex>/<uuid>`), so a key means the same on either store. */
const KEY_RE = /^[0-9a-f]{2}\/[0-9a-f-]{36}$/;

/**
 * Attachments' content in PostgreSQL, so every node of a cluster reads what another stored: a
 * `blobs` record and the bytes in `blob_chunks` rows of ≤ 256 KiB. A blob is written in one
 * transaction (record, chunks as they arrive, then its size and hash): a refused, failed or
 * interrupted upload — or a crash — leaves nothing of it, and nobody sees it half-written.
 *
 * There is no free-space reservation here (`expectedBytes` is not used): PostgreSQL's disk is the
 * database's to watch, and a full one fails the write with STORAGE_FULL (translated by PgDb).
 * An upload holds one pooled connection until its last byte arrived.
 */
export class PgBlobStore implements BlobStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  /** The file's bytes, copied into the database (`put`). */
  putFile(file: string, opts: { maxBytes: number; size: number }): Promise<StoredBlob> {
    return putFileByCopy(this, file, opts);
  }

  async put(
    source: AsyncIterable<Uint8Array>,
    opts: { maxBytes: number; expectedBytes?: number | undefined },
  ): Promise<StoredBlob> {
    const id = randomUUID();
    const key = `${id.slice(0, 2)}/${id}`;
    let attempts = 0;
    return this.#db.tx(async (tx) => {
      // PgDb.tx runs the body again after a serialization failure; the source is consumed by then
      if (++attempts > 1) throw new Error(`storing blob ${key} failed and cannot be retried: its stream was read`);
      return writeBlob(tx, key, source, opts.maxBytes);
    });
  }

  async get(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    const row = await this.#db.one<{ size: string }>('SELECT size FROM blobs WHERE key = $1', [key]);
    if (!row) return undefined;
    const size = Number(row.size);
    return { stream: Readable.from(this.#chunks(key, size), { objectMode: false }), size };
  }

  async delete(key: string): Promise<void> {
    if (!KEY_RE.test(key)) return;
    // the chunks go with it (ON DELETE CASCADE)
    await this.#db.query('DELETE FROM blobs WHERE key = $1', [key]);
  }

  /** The content, one chunk row per read: nothing is fetched before the reader asks for it. */
  async *#chunks(key: string, size: number): AsyncGenerator<Buffer> {
    let read = 0;
    for (let n = 0; read < size; n++) {
      const row = await this.#db.one<{ data: Buffer }>('SELECT data FROM blob_chunks WHERE key = $1 AND n = $2', [
        key,
        n,
      ]);
      // deleted while being read (or damaged): the reader gets an error, not a short file
      if (!row || row.data.byteLength === 0) throw new Error(`blob ${key} ends at ${read} of ${size} bytes`);
      read += row.data.byteLength;
      yield row.data;
    }
  }
}

/** Inside the transaction: the record first (the chunks reference it), chunks as they fill up, then size and hash. */
async function writeBlob(
  tx: PgTx,
  key: string,
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<StoredBlob> {
  await tx.query("INSERT INTO blobs (key, size, sha256, created_at) VALUES ($1, 0, '', $2)", [key, Date.now()]);
  const hash = createHash('sha256');
  let size = 0;
  let n = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (bytes: Buffer) => {
    await tx.query('INSERT INTO blob_chunks (key, n, data) VALUES ($1, $2, $3)', [key, n++, bytes]);
  };
  for await (const piece of source) {
    size += piece.byteLength;
    if (size > maxBytes) throw new MoimError('PAYLOAD_TOO_LARGE', `attachment exceeds ${maxBytes} bytes`);
    if (piece.byteLength === 0) continue;
    hash.update(piece);
    // copied: the source may reuse its buffer once we asked for the next piece
    pending.push(Buffer.from(piece));
    pendingBytes += piece.byteLength;
    if (pendingBytes >= CHUNK_BYTES) {
      const all = Buffer.concat(pending, pendingBytes);
      let off = 0;
      for (; pendingBytes - off >= CHUNK_BYTES; off += CHUNK_BYTES) await flush(all.subarray(off, off + CHUNK_BYTES));
      pending = off < pendingBytes ? [all.subarray(off)] : [];
      pendingBytes -= off;
    }
  }
  if (pendingBytes > 0) await flush(Buffer.concat(pending, pendingBytes));
  const sha256 = hash.digest('hex');
  await tx.query('UPDATE blobs SET size = $1, sha256 = $2 WHERE key = $3', [size, sha256, key]);
  return { key, size, sha256 };
}
