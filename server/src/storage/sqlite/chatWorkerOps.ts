/**
 * The chat writes that go through the group commit (message appends and read receipts), as one
 * transaction over a batch. Shared by the worker thread (chatWriteWorker.ts, its own connection)
 * and the in-thread fallback of SqliteChatStore (in-memory databases). Dependency-free on purpose:
 * type imports and node:sqlite statements only, so the worker loads nothing else.
 *
 * Per-channel seq comes from the counter row bumped in the same transaction as the insert: a
 * batch that fails is rolled back whole, counters included, so a failure leaves no seq hole.
 */

import type { StatementSync } from 'node:sqlite';
import type { AttachmentRef, ChatMessage } from '@moim/protocol';
import type { NewMessage } from '../ChatStore.ts';

export type ChatWriteOp =
  | { kind: 'append'; message: NewMessage }
  | { kind: 'read'; channelId: string; sub: string; seq: number; unreadCap: number };

export type ChatRefusal = {
  reason: 'channel-not-found' | 'message-not-found' | 'thread-root-invalid';
  message: string;
};

export type ChatWriteResult =
  | { append: { message: ChatMessage; duplicate: boolean } }
  | { read: { lastRead: number; unread: number } }
  | { refused: ChatRefusal };

/** The batch as the worker receives it, and its answer (`error`: the transaction was rolled back). */
export interface ChatWriteRequest {
  id: number;
  ops: ChatWriteOp[];
}
export type ChatWriteReply = { id: number; results: ChatWriteResult[] } | { id: number; error: string };

/** What the ops need of a connection. */
export interface ChatWriteDb {
  stmt(sql: string): StatementSync;
  exec(sql: string): void;
}

export const MESSAGE_COLS =
  'channel_id, seq, client_id, sender, text, created_at, edited_at, deleted_at, thread_root, reply_count, mentions, attachments';

export interface MessageRow {
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

class Refused extends Error {
  readonly refusal: ChatRefusal;
  constructor(reason: ChatRefusal['reason'], message: string) {
    super(message);
    this.refusal = { reason, message };
  }
}

/**
 * Apply a batch in one transaction (BEGIN IMMEDIATE … COMMIT). A refused op (unknown channel,
 * bad thread root) writes nothing and answers `refused`; any other error rolls the whole batch
 * back and is thrown. `reactions` of a duplicate are not loaded (the sender only needs its seq).
 */
export function applyChatWrites(db: ChatWriteDb, ops: readonly ChatWriteOp[]): ChatWriteResult[] {
  const results: ChatWriteResult[] = [];
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const op of ops) {
      try {
        results.push(op.kind === 'append' ? { append: appendOne(db, op.message) } : { read: readOne(db, op) });
      } catch (err) {
        // each op checks everything before it writes, so a refusal leaves nothing behind
        if (!(err instanceof Refused)) throw err;
        results.push({ refused: err.refusal });
      }
    }
    db.exec('COMMIT');
  } catch (err) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // the failed COMMIT may have rolled back already
    }
    throw err;
  }
  return results;
}

function appendOne(db: ChatWriteDb, m: NewMessage): { message: ChatMessage; duplicate: boolean } {
  const existing = db
    .stmt(`SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = ? AND sender = ? AND client_id = ?`)
    .get(m.channelId, m.sender, m.clientMsgId) as MessageRow | undefined;
  if (existing) return { message: rowToMessage(existing), duplicate: true };
  let root: number | null = null;
  if (m.threadRoot !== null) {
    const r = db
      .stmt('SELECT seq, thread_root FROM chat_messages WHERE channel_id = ? AND seq = ?')
      .get(m.channelId, m.threadRoot) as { seq: number; thread_root: number | null } | undefined;
    if (!r) throw new Refused('thread-root-invalid', `no message ${m.threadRoot} to reply to`);
    root = r.thread_root ?? r.seq; // a reply to a reply joins the same thread
  }
  const counter = db
    .stmt('UPDATE chat_channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq')
    .get(m.channelId) as { last_seq: number } | undefined;
  if (!counter) throw new Refused('channel-not-found', `no channel ${m.channelId}`);
  const seq = counter.last_seq;
  const createdAt = Date.now();
  db.stmt(
    `INSERT INTO chat_messages (channel_id, seq, client_id, sender, text, created_at, thread_root, mentions, attachments)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
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
    db.stmt('UPDATE chat_messages SET reply_count = reply_count + 1 WHERE channel_id = ? AND seq = ?').run(
      m.channelId,
      root,
    );
  // my own message is read by me
  db.stmt('UPDATE chat_members SET last_read = ? WHERE channel_id = ? AND sub = ? AND last_read < ?').run(
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

function readOne(
  db: ChatWriteDb,
  op: { channelId: string; sub: string; seq: number; unreadCap: number },
): { lastRead: number; unread: number } {
  const row = db
    .stmt(
      `UPDATE chat_members SET last_read = MAX(last_read, MIN(?, (SELECT last_seq FROM chat_channels WHERE id = ?)))
       WHERE channel_id = ? AND sub = ? RETURNING last_read`,
    )
    .get(op.seq, op.channelId, op.channelId, op.sub) as { last_read: number } | undefined;
  if (!row) throw new Refused('channel-not-found', `${op.sub} is not in ${op.channelId}`);
  const unread = db
    .stmt(
      'SELECT COUNT(*) AS n FROM chat_messages WHERE channel_id = ? AND seq > ? AND seq <= ? AND sender <> ? AND deleted_at IS NULL',
    )
    .get(op.channelId, row.last_read, row.last_read + op.unreadCap, op.sub) as { n: number } | undefined;
  return { lastRead: row.last_read, unread: unread?.n ?? 0 };
}

/** A row without its reactions (SqliteChatStore adds them for history pages). */
export function rowToMessage(r: MessageRow): ChatMessage {
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
    reactions: [],
  };
}
