/** The chat store on PostgreSQL: a cluster's channels, members, messages and attachments. */
import { type ChannelPolicy, MoimError } from '@moim/protocol';
import type { Logger } from '../../logger.ts';
import {
  type ChannelAccess,
  type ChatStore,
  ChatStoreError,
  checkAttachmentQuota,
  type HistoryQuery,
  type MemberRole,
  type MyChannelRow,
  type NewChannel,
  type NewMessage,
  type ReadMark,
  type Receipt,
  type StoredAttachment,
  type StoredChannel,
  type StoredMember,
  type StoredMessage,
} from '../ChatStore.ts';
import {
  ATTACHMENT_COLS,
  type AttachmentRow,
  attachmentValues,
  CHANNEL_COLS,
  type ChannelRow,
  MEMBER_COLS,
  MESSAGE_COLS,
  type MemberRow,
  type MessageRow,
  toAttachment,
  toChannel,
  toMember,
} from '../chatRecords.ts';
import { ChatWriteQueue } from '../chatWriteQueue.ts';
import { StoreClosedError, StoreUnavailableError } from '../storageErrors.ts';
import type { PgDb } from './PgDb.ts';
import {
  accessRow,
  addMembersTx,
  attachmentBytes,
  channelRow,
  hydrate,
  insertChannel,
  lockChannel,
  myChannelRows,
} from './pgChatSql.ts';
import { applyPgChatWrites } from './pgChatWrites.ts';

export { chatMigrations } from './migrations/chat.ts';

export interface PgChatStoreOptions {
  /** Most writes committed in one transaction. @default 512 */
  maxBatch?: number | undefined;
  /**
   * Under load, start a commit at most this often (ms): bigger batches, fewer round trips and
   * WAL flushes. A write arriving after a quiet spell commits at once. @default 3
   */
  commitIntervalMs?: number | undefined;
  /** Told after each committed batch (the chat commit metrics). */
  onCommit?: ((writes: number, seconds: number) => void) | undefined;
  log?: Logger | undefined;
}

/**
 * Chat on PostgreSQL, shared by every node of a cluster. Message appends and read receipts use a
 * group commit (one transaction per batch, see pgChatWrites.ts); each promise resolves only after
 * that COMMIT returned, and a failed batch rejects every write of it. Nothing is cached: other
 * nodes create channels and change memberships, so every read goes to the database.
 */
export class PgChatStore implements ChatStore {
  readonly #db: PgDb;
  readonly #writes: ChatWriteQueue;

  constructor(db: PgDb, opts: PgChatStoreOptions = {}) {
    this.#db = db;
    this.#writes = new ChatWriteQueue({
      commit: (ops) => this.#db.tx((tx) => applyPgChatWrites(tx, ops)),
      maxBatch: opts.maxBatch,
      commitIntervalMs: opts.commitIntervalMs,
      onCommit: opts.onCommit,
      log: opts.log,
      // PgDb already made a full disk STORAGE_FULL and a lost server UNAVAILABLE; anything else is wrapped
      failure: (err) =>
        err instanceof MoimError || err instanceof StoreUnavailableError || err instanceof StoreClosedError
          ? err
          : new Error(`chat commit failed: ${(err as Error).message}`, { cause: err }),
    });
  }

  // ── channels and members ────────────────────────────────────────────────

  async createChannel(c: NewChannel, maxMembers: number): Promise<StoredChannel> {
    this.#writes.open();
    return this.#db.tx(async (tx) => {
      if (!(await insertChannel(tx, c))) throw new ChatStoreError('exists', `channel ${c.id} exists`);
      await addMembersTx(tx, c.id, c.members, maxMembers);
      return (await channelRow(tx, c.id))!;
    });
  }

  async ensureChannel(c: NewChannel, maxMembers: number): Promise<StoredChannel> {
    this.#writes.open();
    const existing = await channelRow(this.#db, c.id);
    if (existing) {
      const subs = [...new Set(c.members.map((m) => m.sub))];
      const r = await this.#db.one<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM chat_members WHERE channel_id = $1 AND sub = ANY($2::text[])',
        [c.id, subs],
      );
      if (r?.n === subs.length) return existing;
    }
    return this.#db.tx(async (tx) => {
      // another node creating it at the same time: the second insert waits for the first, then does nothing
      await insertChannel(tx, c);
      await addMembersTx(tx, c.id, c.members, maxMembers);
      return (await channelRow(tx, c.id))!;
    });
  }

  async getChannel(id: string): Promise<StoredChannel | undefined> {
    return channelRow(this.#db, id);
  }

  async access(channelId: string, sub: string): Promise<ChannelAccess | undefined> {
    return accessRow(this.#db, channelId, sub);
  }

  async myChannels(sub: string, org: string, unreadCap: number): Promise<MyChannelRow[]> {
    return myChannelRows(this.#db, sub, org, unreadCap);
  }

  async publicChannels(org: string, after: string | undefined, limit: number): Promise<StoredChannel[]> {
    const rows = await this.#db.query<ChannelRow>(
      `SELECT ${CHANNEL_COLS} FROM chat_channels WHERE org = $1 AND kind IN ('public', 'site') AND id > $2
       ORDER BY id LIMIT $3`,
      [org, after ?? '', limit],
    );
    return rows.map(toChannel);
  }

  async addMembers(
    channelId: string,
    subs: readonly string[],
    role: MemberRole,
    maxMembers: number,
  ): Promise<string[]> {
    this.#writes.open();
    return this.#db.tx((tx) =>
      addMembersTx(
        tx,
        channelId,
        subs.map((sub) => ({ sub, role })),
        maxMembers,
      ),
    );
  }

  async removeMembers(channelId: string, subs: readonly string[]): Promise<string[]> {
    this.#writes.open();
    return this.#db.tx(async (tx) => {
      if (!(await lockChannel(tx, channelId))) return [];
      const deleted = new Set(
        (
          await tx.query<{ sub: string }>(
            'DELETE FROM chat_members WHERE channel_id = $1 AND sub = ANY($2::text[]) RETURNING sub',
            [channelId, [...new Set(subs)]],
          )
        ).map((r) => r.sub),
      );
      if (deleted.size > 0)
        await tx.query('UPDATE chat_channels SET member_count = member_count - $2 WHERE id = $1', [
          channelId,
          deleted.size,
        ]);
      // in the order asked, as SQLite answers
      return [...new Set(subs)].filter((sub) => deleted.has(sub));
    });
  }

  async listMembers(channelId: string, after: string | undefined, limit: number): Promise<StoredMember[]> {
    const rows = await this.#db.query<MemberRow>(
      `SELECT ${MEMBER_COLS} FROM chat_members WHERE channel_id = $1 AND sub > $2 ORDER BY sub LIMIT $3`,
      [channelId, after ?? '', limit],
    );
    return rows.map(toMember);
  }

  async setPolicy(channelId: string, policy: ChannelPolicy): Promise<StoredChannel> {
    this.#writes.open();
    const r = await this.#db.one<ChannelRow>(
      `UPDATE chat_channels SET downloads_allowed = $2 WHERE id = $1 RETURNING ${CHANNEL_COLS}`,
      [channelId, policy.downloadsAllowed],
    );
    if (!r) throw new ChatStoreError('channel-not-found', `no channel ${channelId}`);
    return toChannel(r);
  }

  // ── messages ────────────────────────────────────────────────────────────

  async appendMessage(m: NewMessage): Promise<{ message: StoredMessage; duplicate: boolean }> {
    return this.#writes.append(m, (channelId, seq) => this.getMessage(channelId, seq));
  }

  async getMessage(channelId: string, seq: number): Promise<StoredMessage | undefined> {
    const row = await this.#db.one<MessageRow>(
      `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = $1 AND seq = $2`,
      [channelId, seq],
    );
    return row ? (await hydrate(this.#db, [row]))[0] : undefined;
  }

  async history(q: HistoryQuery): Promise<StoredMessage[]> {
    const thread = q.threadRoot === undefined ? '' : ' AND thread_root = $4';
    const threadArgs = q.threadRoot === undefined ? [] : [q.threadRoot];
    let rows: MessageRow[];
    if (q.after !== undefined) {
      rows = await this.#db.query<MessageRow>(
        `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = $1 AND seq > $2${thread} ORDER BY seq LIMIT $3`,
        [q.channelId, q.after, q.limit, ...threadArgs],
      );
    } else {
      rows = (
        await this.#db.query<MessageRow>(
          `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = $1 AND seq < $2${thread}
           ORDER BY seq DESC LIMIT $3`,
          [q.channelId, q.before ?? Number.MAX_SAFE_INTEGER, q.limit, ...threadArgs],
        )
      ).reverse();
    }
    return hydrate(this.#db, rows);
  }

  async editMessage(channelId: string, seq: number, text: string): Promise<StoredMessage> {
    this.#writes.open();
    const row = await this.#db.one<MessageRow>(
      `UPDATE chat_messages SET text = $3, edited_at = $4 WHERE channel_id = $1 AND seq = $2 AND deleted_at IS NULL
       RETURNING ${MESSAGE_COLS}`,
      [channelId, seq, text, Date.now()],
    );
    if (!row) throw new ChatStoreError('message-not-found', `no message ${seq} in ${channelId}`);
    return (await hydrate(this.#db, [row]))[0]!;
  }

  async deleteMessage(channelId: string, seq: number): Promise<StoredMessage> {
    this.#writes.open();
    const row = await this.#db.tx(async (tx) => {
      const r = await tx.one<MessageRow>(
        `UPDATE chat_messages SET text = '', mentions = NULL, attachments = NULL, deleted_at = $3
         WHERE channel_id = $1 AND seq = $2 AND deleted_at IS NULL RETURNING ${MESSAGE_COLS}`,
        [channelId, seq, Date.now()],
      );
      if (!r) throw new ChatStoreError('message-not-found', `no message ${seq} in ${channelId}`);
      await tx.query('DELETE FROM chat_reactions WHERE channel_id = $1 AND seq = $2', [channelId, seq]);
      return r;
    });
    return (await hydrate(this.#db, [row]))[0]!;
  }

  async react(channelId: string, seq: number, sub: string, emoji: string, on: boolean): Promise<StoredMessage> {
    this.#writes.open();
    await this.#db.tx(async (tx) => {
      // FOR SHARE: a delete on another node waits, so no reaction outlives its message
      const live = await tx.one(
        'SELECT 1 AS x FROM chat_messages WHERE channel_id = $1 AND seq = $2 AND deleted_at IS NULL FOR SHARE',
        [channelId, seq],
      );
      if (!live) throw new ChatStoreError('message-not-found', `no message ${seq} in ${channelId}`);
      if (on)
        await tx.query(
          `INSERT INTO chat_reactions (channel_id, seq, emoji, sub, at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING`,
          [channelId, seq, emoji, sub, Date.now()],
        );
      else
        await tx.query('DELETE FROM chat_reactions WHERE channel_id = $1 AND seq = $2 AND emoji = $3 AND sub = $4', [
          channelId,
          seq,
          emoji,
          sub,
        ]);
    });
    return (await this.getMessage(channelId, seq))!;
  }

  async markRead(channelId: string, sub: string, seq: number, unreadCap: number): Promise<ReadMark> {
    return this.#writes.read(channelId, sub, seq, unreadCap);
  }

  async receipts(channelId: string, after: string | undefined, limit: number): Promise<Receipt[]> {
    const rows = await this.#db.query<{ sub: string; last_read: string }>(
      'SELECT sub, last_read FROM chat_members WHERE channel_id = $1 AND sub > $2 ORDER BY sub LIMIT $3',
      [channelId, after ?? '', limit],
    );
    return rows.map((r) => ({ sub: r.sub, lastRead: Number(r.last_read) }));
  }

  // ── attachments ─────────────────────────────────────────────────────────

  async putAttachment(a: StoredAttachment, opts: { quotaBytes?: number | undefined } = {}): Promise<void> {
    this.#writes.open();
    const quota = opts.quotaBytes;
    await this.#db.tx(async (tx) => {
      if (quota !== undefined) {
        // one uploader's uploads on every node take turns from here to COMMIT: the sum is final
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`moim-attachment-quota:${a.uploader}`]);
        checkAttachmentQuota(await attachmentBytes(tx, a.uploader), a.size, quota);
      }
      await tx.query(
        `INSERT INTO chat_attachments (${ATTACHMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        attachmentValues(a),
      );
    });
  }

  async attachmentBytes(uploader: string): Promise<number> {
    return attachmentBytes(this.#db, uploader);
  }

  async getAttachment(id: string): Promise<StoredAttachment | undefined> {
    const r = await this.#db.one<AttachmentRow>(`SELECT ${ATTACHMENT_COLS} FROM chat_attachments WHERE id = $1`, [id]);
    return r ? toAttachment(r) : undefined;
  }

  /** Commit what is queued, then refuse writes (the database is the caller's to close). */
  async close(): Promise<void> {
    if (this.#writes.closed) return;
    await this.#writes.close();
  }
}
