import type { AttachmentRef, ChannelKind, ChannelPolicy } from '@moim/protocol';
import {
  type ChatStore,
  ChatStoreError,
  type MemberRole,
  type MyChannelRow,
  type NewChannel,
  type NewMessage,
  type StoredAttachment,
  type StoredChannel,
  type StoredMember,
  type StoredMessage,
  type StoredReaction,
} from '../ChatStore.ts';
import type { SqliteDb } from './SqliteDb.ts';

interface ChannelRow {
  id: string;
  org: string;
  kind: ChannelKind;
  name: string;
  topic: string | null;
  site: string | null;
  created_by: string;
  created_at: number;
  downloads_allowed: number;
  last_seq: number;
  member_count: number;
}

interface MessageRow {
  channel_id: string;
  seq: number;
  client_id: string;
  sender: string;
  text: string;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  thread_root: number | null;
  reply_count: number;
  mentions: string | null;
  attachments: string | null;
}

interface MemberRow {
  sub: string;
  role: MemberRole;
  joined_at: number;
  last_read: number;
}

interface AttachmentRow {
  id: string;
  channel_id: string;
  uploader: string;
  name: string;
  type: string;
  size: number;
  sha256: string;
  blob_key: string;
  created_at: number;
}

const CHANNEL_COLS =
  'id, org, kind, name, topic, site, created_by, created_at, downloads_allowed, last_seq, member_count';
const MESSAGE_COLS =
  'channel_id, seq, client_id, sender, text, created_at, edited_at, deleted_at, thread_root, reply_count, mentions, attachments';
const REACTION_PEOPLE = 50;

interface Pending {
  message: NewMessage;
  resolve: (r: { message: StoredMessage; duplicate: boolean }) => void;
  reject: (err: unknown) => void;
}

export interface SqliteChatStoreOptions {
  /** Most messages committed in one transaction. @default 512 */
  maxBatch?: number;
}

/**
 * Chat on SQLite. Message inserts use a group commit: sends arriving in the same turn of the
 * event loop (and while the previous commit was fsyncing) are written in one transaction, and
 * each promise resolves only after that COMMIT returned (durable with synchronous=FULL). One
 * fsync then serves many messages, so durability does not cap throughput.
 */
export class SqliteChatStore implements ChatStore {
  readonly #db: SqliteDb;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #scheduled = false;
  #closed = false;

  constructor(db: SqliteDb, opts: SqliteChatStoreOptions = {}) {
    this.#db = db;
    this.#maxBatch = opts.maxBatch ?? 512;
  }

  // ── channels and members ────────────────────────────────────────────────

  async createChannel(c: NewChannel, maxMembers: number): Promise<StoredChannel> {
    this.#open();
    return this.#db.tx(() => {
      if (this.#db.get('SELECT 1 AS x FROM chat_channels WHERE id = ?', c.id))
        throw new ChatStoreError('exists', `channel ${c.id} exists`);
      this.#insertChannel(c);
      this.#addMembersTx(c.id, c.members, maxMembers);
      return this.#channel(c.id)!;
    });
  }

  async ensureChannel(c: NewChannel, maxMembers: number): Promise<StoredChannel> {
    this.#open();
    const existing = this.#channel(c.id);
    if (existing && c.members.every((m) => this.#member(c.id, m.sub))) return existing;
    return this.#db.tx(() => {
      if (!this.#channel(c.id)) this.#insertChannel(c);
      this.#addMembersTx(c.id, c.members, maxMembers);
      return this.#channel(c.id)!;
    });
  }

  async getChannel(id: string): Promise<StoredChannel | undefined> {
    return this.#channel(id);
  }

  async access(
    channelId: string,
    sub: string,
  ): Promise<{ channel: StoredChannel; member: StoredMember | undefined } | undefined> {
    const channel = this.#channel(channelId);
    if (!channel) return undefined;
    return { channel, member: this.#member(channelId, sub) };
  }

  async myChannels(sub: string, org: string, unreadCap: number): Promise<MyChannelRow[]> {
    const rows = this.#db.all<ChannelRow & { role: MemberRole; last_read: number; unread: number }>(
      `SELECT ${CHANNEL_COLS.split(', ')
        .map((c) => `c.${c}`)
        .join(', ')}, m.role, m.last_read,
         (SELECT COUNT(*) FROM chat_messages x
           WHERE x.channel_id = c.id AND x.seq > m.last_read AND x.seq <= m.last_read + ?
             AND x.sender <> m.sub AND x.deleted_at IS NULL) AS unread
       FROM chat_members m JOIN chat_channels c ON c.id = m.channel_id
       WHERE m.sub = ? AND c.org = ?
       ORDER BY c.kind, c.name, c.id`,
      unreadCap,
      sub,
      org,
    );
    return rows.map((r) => ({ channel: toChannel(r), role: r.role, lastRead: r.last_read, unread: r.unread }));
  }

  async publicChannels(org: string, after: string | undefined, limit: number): Promise<StoredChannel[]> {
    return this.#db
      .all<ChannelRow>(
        `SELECT ${CHANNEL_COLS} FROM chat_channels WHERE org = ? AND kind IN ('public', 'site') AND id > ?
         ORDER BY id LIMIT ?`,
        org,
        after ?? '',
        limit,
      )
      .map(toChannel);
  }

  async addMembers(
    channelId: string,
    subs: readonly string[],
    role: MemberRole,
    maxMembers: number,
  ): Promise<string[]> {
    this.#open();
    return this.#db.tx(() => {
      if (!this.#channel(channelId)) throw new ChatStoreError('channel-not-found', `no channel ${channelId}`);
      return this.#addMembersTx(
        channelId,
        subs.map((sub) => ({ sub, role })),
        maxMembers,
      );
    });
  }

  async removeMembers(channelId: string, subs: readonly string[]): Promise<string[]> {
    this.#open();
    return this.#db.tx(() => {
      const removed: string[] = [];
      for (const sub of new Set(subs)) {
        if (this.#db.run('DELETE FROM chat_members WHERE channel_id = ? AND sub = ?', channelId, sub).changes > 0)
          removed.push(sub);
      }
      if (removed.length > 0)
        this.#db.run(
          'UPDATE chat_channels SET member_count = member_count - ? WHERE id = ?',
          removed.length,
          channelId,
        );
      return removed;
    });
  }

  async listMembers(channelId: string, after: string | undefined, limit: number): Promise<StoredMember[]> {
    return this.#db
      .all<MemberRow>(
        'SELECT sub, role, joined_at, last_read FROM chat_members WHERE channel_id = ? AND sub > ? ORDER BY sub LIMIT ?',
        channelId,
        after ?? '',
        limit,
      )
      .map(toMember);
  }

  async setPolicy(channelId: string, policy: ChannelPolicy): Promise<StoredChannel> {
    this.#open();
    const r = this.#db.run(
      'UPDATE chat_channels SET downloads_allowed = ? WHERE id = ?',
      policy.downloadsAllowed ? 1 : 0,
      channelId,
    );
    if (r.changes === 0) throw new ChatStoreError('channel-not-found', `no channel ${channelId}`);
    return this.#channel(channelId)!;
  }

  // ── messages ────────────────────────────────────────────────────────────

  appendMessage(message: NewMessage): Promise<{ message: StoredMessage; duplicate: boolean }> {
    if (this.#closed) return Promise.reject(new Error('chat store is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  async getMessage(channelId: string, seq: number): Promise<StoredMessage | undefined> {
    const row = this.#db.get<MessageRow>(
      `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = ? AND seq = ?`,
      channelId,
      seq,
    );
    return row ? this.#hydrate([row])[0] : undefined;
  }

  async history(q: {
    channelId: string;
    before?: number | undefined;
    after?: number | undefined;
    threadRoot?: number | undefined;
    limit: number;
  }): Promise<StoredMessage[]> {
    const thread = q.threadRoot === undefined ? '' : ' AND thread_root = ?';
    const threadArgs = q.threadRoot === undefined ? [] : [q.threadRoot];
    let rows: MessageRow[];
    if (q.after !== undefined) {
      rows = this.#db.all<MessageRow>(
        `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = ? AND seq > ?${thread} ORDER BY seq LIMIT ?`,
        q.channelId,
        q.after,
        ...threadArgs,
        q.limit,
      );
    } else {
      rows = this.#db
        .all<MessageRow>(
          `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = ? AND seq < ?${thread} ORDER BY seq DESC LIMIT ?`,
          q.channelId,
          q.before ?? Number.MAX_SAFE_INTEGER,
          ...threadArgs,
          q.limit,
        )
        .reverse();
    }
    return this.#hydrate(rows);
  }

  async editMessage(channelId: string, seq: number, text: string): Promise<StoredMessage> {
    this.#open();
    const r = this.#db.run(
      'UPDATE chat_messages SET text = ?, edited_at = ? WHERE channel_id = ? AND seq = ? AND deleted_at IS NULL',
      text,
      Date.now(),
      channelId,
      seq,
    );
    if (r.changes === 0) throw new ChatStoreError('message-not-found', `no message ${seq} in ${channelId}`);
    return (await this.getMessage(channelId, seq))!;
  }

  async deleteMessage(channelId: string, seq: number): Promise<StoredMessage> {
    this.#open();
    this.#db.tx(() => {
      const r = this.#db.run(
        `UPDATE chat_messages SET text = '', mentions = NULL, attachments = NULL, deleted_at = ?
         WHERE channel_id = ? AND seq = ? AND deleted_at IS NULL`,
        Date.now(),
        channelId,
        seq,
      );
      if (r.changes === 0) throw new ChatStoreError('message-not-found', `no message ${seq} in ${channelId}`);
      this.#db.run('DELETE FROM chat_reactions WHERE channel_id = ? AND seq = ?', channelId, seq);
    });
    return (await this.getMessage(channelId, seq))!;
  }

  async react(channelId: string, seq: number, sub: string, emoji: string, on: boolean): Promise<StoredMessage> {
    this.#open();
    const live = this.#db.get<{ x: number }>(
      'SELECT 1 AS x FROM chat_messages WHERE channel_id = ? AND seq = ? AND deleted_at IS NULL',
      channelId,
      seq,
    );
    if (!live) throw new ChatStoreError('message-not-found', `no message ${seq} in ${channelId}`);
    if (on)
      this.#db.run(
        'INSERT OR IGNORE INTO chat_reactions (channel_id, seq, emoji, sub, at) VALUES (?, ?, ?, ?, ?)',
        channelId,
        seq,
        emoji,
        sub,
        Date.now(),
      );
    else
      this.#db.run(
        'DELETE FROM chat_reactions WHERE channel_id = ? AND seq = ? AND emoji = ? AND sub = ?',
        channelId,
        seq,
        emoji,
        sub,
      );
    return (await this.getMessage(channelId, seq))!;
  }

  async markRead(
    channelId: string,
    sub: string,
    seq: number,
    unreadCap: number,
  ): Promise<{ lastRead: number; unread: number }> {
    this.#open();
    const row = this.#db.get<{ last_read: number }>(
      `UPDATE chat_members SET last_read = MAX(last_read, MIN(?, (SELECT last_seq FROM chat_channels WHERE id = ?)))
       WHERE channel_id = ? AND sub = ? RETURNING last_read`,
      seq,
      channelId,
      channelId,
      sub,
    );
    if (!row) throw new ChatStoreError('channel-not-found', `${sub} is not in ${channelId}`);
    const unread = this.#db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM chat_messages WHERE channel_id = ? AND seq > ? AND seq <= ? AND sender <> ? AND deleted_at IS NULL`,
      channelId,
      row.last_read,
      row.last_read + unreadCap,
      sub,
    );
    return { lastRead: row.last_read, unread: unread?.n ?? 0 };
  }

  async receipts(
    channelId: string,
    after: string | undefined,
    limit: number,
  ): Promise<Array<{ sub: string; lastRead: number }>> {
    return this.#db
      .all<{ sub: string; last_read: number }>(
        'SELECT sub, last_read FROM chat_members WHERE channel_id = ? AND sub > ? ORDER BY sub LIMIT ?',
        channelId,
        after ?? '',
        limit,
      )
      .map((r) => ({ sub: r.sub, lastRead: r.last_read }));
  }

  // ── attachments ─────────────────────────────────────────────────────────

  async putAttachment(a: StoredAttachment): Promise<void> {
    this.#open();
    this.#db.run(
      `INSERT INTO chat_attachments (id, channel_id, uploader, name, type, size, sha256, blob_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.id,
      a.channelId,
      a.uploader,
      a.name,
      a.type,
      a.size,
      a.sha256,
      a.blobKey,
      a.createdAt,
    );
  }

  async getAttachment(id: string): Promise<StoredAttachment | undefined> {
    const r = this.#db.get<AttachmentRow>(
      'SELECT id, channel_id, uploader, name, type, size, sha256, blob_key, created_at FROM chat_attachments WHERE id = ?',
      id,
    );
    if (!r) return undefined;
    return {
      id: r.id,
      channelId: r.channel_id,
      uploader: r.uploader,
      name: r.name,
      type: r.type,
      size: r.size,
      sha256: r.sha256,
      blobKey: r.blob_key,
      createdAt: r.created_at,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#queue.length > 0) this.#flush();
    this.#closed = true;
  }

  // ── internals ───────────────────────────────────────────────────────────

  #open(): void {
    if (this.#closed) throw new Error('chat store is closed');
  }

  /** Commit one batch of queued messages in one transaction, then settle each promise. */
  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue.splice(0, this.#maxBatch);
    if (this.#queue.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    if (batch.length === 0) return;
    const results: Array<{ ok: { message: StoredMessage; duplicate: boolean } } | { err: unknown }> = [];
    try {
      this.#db.tx(() => {
        for (const p of batch) {
          try {
            results.push({ ok: this.#insertOne(p.message) });
          } catch (err) {
            // #insertOne checks everything before it writes, so a refusal leaves nothing behind
            if (!(err instanceof ChatStoreError)) throw err;
            results.push({ err });
          }
        }
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if ('ok' in r) p.resolve(r.ok);
      else p.reject(r.err);
    });
  }

  #insertOne(m: NewMessage): { message: StoredMessage; duplicate: boolean } {
    const existing = this.#db.get<MessageRow>(
      `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = ? AND sender = ? AND client_id = ?`,
      m.channelId,
      m.sender,
      m.clientMsgId,
    );
    if (existing) return { message: this.#hydrate([existing])[0]!, duplicate: true };
    let root: number | null = null;
    if (m.threadRoot !== null) {
      const r = this.#db.get<{ seq: number; thread_root: number | null; deleted_at: number | null }>(
        'SELECT seq, thread_root, deleted_at FROM chat_messages WHERE channel_id = ? AND seq = ?',
        m.channelId,
        m.threadRoot,
      );
      if (!r) throw new ChatStoreError('thread-root-invalid', `no message ${m.threadRoot} to reply to`);
      root = r.thread_root ?? r.seq; // a reply to a reply joins the same thread
    }
    const counter = this.#db.get<{ last_seq: number }>(
      'UPDATE chat_channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq',
      m.channelId,
    );
    if (!counter) throw new ChatStoreError('channel-not-found', `no channel ${m.channelId}`);
    const seq = counter.last_seq;
    const createdAt = Date.now();
    this.#db.run(
      `INSERT INTO chat_messages (channel_id, seq, client_id, sender, text, created_at, thread_root, mentions, attachments)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      m.channelId,
      seq,
      m.clientMsgId,
      m.sender,
      m.text,
      createdAt,
      root,
      m.mentions.length ? JSON.stringify(m.mentions) : null,
      m.attachments.length ? JSON.stringify(m.attachments) : null,
    );
    if (root !== null)
      this.#db.run(
        'UPDATE chat_messages SET reply_count = reply_count + 1 WHERE channel_id = ? AND seq = ?',
        m.channelId,
        root,
      );
    // my own message is read by me
    this.#db.run(
      'UPDATE chat_members SET last_read = ? WHERE channel_id = ? AND sub = ? AND last_read < ?',
      seq,
      m.channelId,
      m.sender,
      seq,
    );
    return {
      message: {
        channelId: m.channelId,
        seq,
        clientMsgId: m.clientMsgId,
        sender: m.sender,
        text: m.text,
        createdAt,
        editedAt: null,
        deletedAt: null,
        threadRoot: root,
        replyCount: 0,
        mentions: [...m.mentions],
        attachments: [...m.attachments],
        reactions: [],
      },
      duplicate: false,
    };
  }

  #insertChannel(c: NewChannel): void {
    this.#db.run(
      `INSERT INTO chat_channels (id, org, kind, name, topic, site, created_by, created_at, downloads_allowed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      c.id,
      c.org,
      c.kind,
      c.name,
      c.topic ?? null,
      c.site ?? null,
      c.createdBy,
      Date.now(),
      (c.policy?.downloadsAllowed ?? true) ? 1 : 0,
    );
  }

  /** Inside a transaction: add the members not yet in, checking the limit. */
  #addMembersTx(
    channelId: string,
    members: ReadonlyArray<{ sub: string; role: MemberRole }>,
    maxMembers: number,
  ): string[] {
    const fresh = new Map<string, MemberRole>();
    for (const m of members) if (!fresh.has(m.sub) && !this.#member(channelId, m.sub)) fresh.set(m.sub, m.role);
    if (fresh.size === 0) return [];
    const ch = this.#db.get<{ member_count: number; last_seq: number }>(
      'SELECT member_count, last_seq FROM chat_channels WHERE id = ?',
      channelId,
    )!;
    if (ch.member_count + fresh.size > maxMembers)
      throw new ChatStoreError('channel-full', `a channel holds at most ${maxMembers} members`);
    const now = Date.now();
    for (const [sub, role] of fresh)
      this.#db.run(
        'INSERT INTO chat_members (channel_id, sub, role, joined_at, last_read) VALUES (?, ?, ?, ?, ?)',
        channelId,
        sub,
        role,
        now,
        ch.last_seq,
      );
    this.#db.run('UPDATE chat_channels SET member_count = member_count + ? WHERE id = ?', fresh.size, channelId);
    return [...fresh.keys()];
  }

  #channel(id: string): StoredChannel | undefined {
    const r = this.#db.get<ChannelRow>(`SELECT ${CHANNEL_COLS} FROM chat_channels WHERE id = ?`, id);
    return r ? toChannel(r) : undefined;
  }

  #member(channelId: string, sub: string): StoredMember | undefined {
    const r = this.#db.get<MemberRow>(
      'SELECT sub, role, joined_at, last_read FROM chat_members WHERE channel_id = ? AND sub = ?',
      channelId,
      sub,
    );
    return r ? toMember(r) : undefined;
  }

  /** Rows → messages with their reactions (one query for the whole page). */
  #hydrate(rows: MessageRow[]): StoredMessage[] {
    if (rows.length === 0) return [];
    const first = rows[0]!;
    const lo = Math.min(...rows.map((r) => r.seq));
    const hi = Math.max(...rows.map((r) => r.seq));
    const reactions = new Map<number, Map<string, string[]>>();
    for (const r of this.#db.all<{ seq: number; emoji: string; sub: string }>(
      'SELECT seq, emoji, sub FROM chat_reactions WHERE channel_id = ? AND seq BETWEEN ? AND ? ORDER BY seq, at, emoji, sub',
      first.channel_id,
      lo,
      hi,
    )) {
      let bySeq = reactions.get(r.seq);
      if (!bySeq) {
        bySeq = new Map();
        reactions.set(r.seq, bySeq);
      }
      let people = bySeq.get(r.emoji);
      if (!people) {
        people = [];
        bySeq.set(r.emoji, people);
      }
      people.push(r.sub);
    }
    return rows.map((r) => {
      const list: StoredReaction[] = [...(reactions.get(r.seq) ?? new Map<string, string[]>()).entries()].map(
        ([emoji, people]) => ({ emoji, count: people.length, people: people.slice(0, REACTION_PEOPLE) }),
      );
      return {
        channelId: r.channel_id,
        seq: r.seq,
        clientMsgId: r.client_id,
        sender: r.sender,
        text: r.text,
        createdAt: r.created_at,
        editedAt: r.edited_at,
        deletedAt: r.deleted_at,
        threadRoot: r.thread_root,
        replyCount: r.reply_count,
        mentions: r.mentions ? (JSON.parse(r.mentions) as string[]) : [],
        attachments: r.attachments ? (JSON.parse(r.attachments) as AttachmentRef[]) : [],
        reactions: list,
      };
    });
  }
}

function toChannel(r: ChannelRow): StoredChannel {
  return {
    id: r.id,
    org: r.org,
    kind: r.kind,
    name: r.name,
    topic: r.topic,
    site: r.site,
    createdBy: r.created_by,
    createdAt: r.created_at,
    policy: { downloadsAllowed: r.downloads_allowed === 1 },
    lastSeq: r.last_seq,
    memberCount: r.member_count,
  };
}

function toMember(r: MemberRow): StoredMember {
  return { sub: r.sub, role: r.role, joinedAt: r.joined_at, lastRead: r.last_read };
}
