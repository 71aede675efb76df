/**
 * The chat store's side of its group commit, the same on both backends: one queue of appends and
 * read receipts (GroupCommit), each settled once its batch committed (or failed), and the store's
 * answers made from their results. How a batch commits is the backend's.
 */
import type { Logger } from '../logger.ts';
import { ChatStoreError, type NewMessage, type StoredMessage } from './ChatStore.ts';
import { appendedMessage } from './chatRecords.ts';
import type { ChatWriteOp, ChatWriteResult } from './chatWrites.ts';
import { GroupCommit } from './GroupCommit.ts';
import { StoreClosedError } from './storageErrors.ts';

export interface ChatWriteQueueOptions {
  /** Commit a batch in one transaction; one result per op. A throw fails the whole batch. */
  commit(ops: ChatWriteOp[]): Promise<ChatWriteResult[]>;
  /** The error every write of a failed batch gets. */
  failure(err: unknown): unknown;
  /** Most writes committed in one transaction. @default 512 */
  maxBatch?: number | undefined;
  /** Under load, start a commit at most this often (ms). @default 3 */
  commitIntervalMs?: number | undefined;
  log?: Logger | undefined;
  /** Told of each committed write before its caller hears of it (a cache follows the counters). */
  committed?: ((op: ChatWriteOp, r: ChatWriteResult) => void) | undefined;
  /** Told after each committed batch: how many writes, how long the commit took (metrics). */
  onCommit?: ((writes: number, seconds: number) => void) | undefined;
}

export class ChatWriteQueue {
  readonly #writes: GroupCommit<ChatWriteOp, ChatWriteResult>;
  readonly #committed: ChatWriteQueueOptions['committed'];

  constructor(opts: ChatWriteQueueOptions) {
    this.#committed = opts.committed;
    this.#writes = new GroupCommit({
      name: 'chat store',
      commit: opts.commit,
      maxBatch: opts.maxBatch ?? 512,
      intervalMs: opts.commitIntervalMs ?? 3,
      log: opts.log,
      failure: opts.failure,
      onCommit: opts.onCommit,
    });
  }

  get closed(): boolean {
    return this.#writes.closed;
  }

  /** Refuse a write once the store closed. */
  open(): void {
    if (this.#writes.closed) throw new StoreClosedError('chat store');
  }

  /** Store a message; a resend gets the stored message as `reread` finds it now (reactions included). */
  async append(
    m: NewMessage,
    reread: (channelId: string, seq: number) => Promise<StoredMessage | undefined>,
  ): Promise<{ message: StoredMessage; duplicate: boolean }> {
    const r = await this.#write({ kind: 'append', message: m });
    if ('append' in r) return { message: appendedMessage(m, r.append), duplicate: false };
    if (!('duplicate' in r)) throw new Error('chat write answered out of kind');
    return { message: (await reread(m.channelId, r.duplicate.seq)) ?? r.duplicate, duplicate: true };
  }

  /** Move a read marker forward; its unread count after it. */
  async read(
    channelId: string,
    sub: string,
    seq: number,
    unreadCap: number,
  ): Promise<{ lastRead: number; unread: number }> {
    const r = await this.#write({ kind: 'read', channelId, sub, seq, unreadCap });
    if (!('read' in r)) throw new Error('chat write answered out of kind');
    return r.read;
  }

  /** Commit what is queued, then refuse writes. */
  close(): Promise<void> {
    return this.#writes.close();
  }

  /** Queue a write for the next group commit; settles once its batch committed (or failed). */
  #write(op: ChatWriteOp): Promise<ChatWriteResult> {
    return new Promise((resolve, reject) =>
      this.#writes.submit(op, (err, r) => {
        if (err !== undefined) reject(err);
        else if (!r) reject(new Error('chat commit answered short'));
        else if ('refused' in r) reject(new ChatStoreError(r.refused.reason, r.refused.message));
        else {
          this.#committed?.(op, r);
          resolve(r);
        }
      }),
    );
  }
}
