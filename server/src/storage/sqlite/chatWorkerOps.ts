/**
 * The chat writes that go through the group commit (message appends and read receipts), as one
 * transaction over a batch. Shared by the worker thread (chatWriteWorker.ts, its own connection)
 * and the in-thread fallback of SqliteChatStore (in-memory databases). Dependency-light on purpose:
 * type imports, node:sqlite statements and the dependency-free ../chatRecords.ts and
 * ../chatWrites.ts (what the PostgreSQL batch shares), so the worker loads nothing else.
 *
 * Per-channel seq comes from the counter row bumped in the same transaction as the insert: a
 * batch that fails is rolled back whole, counters included, so a failure leaves no seq hole.
 */
import type { StatementSync } from 'node:sqlite';
import type { NewMessage } from '../ChatStore.ts';
import { MESSAGE_COLS, type MessageRow, messageValues, rowToMessage } from '../chatRecords.ts';
import {
  type ChatWriteOp,
  type ChatWriteResult,
  markSent,
  Refused,
  refusedResult,
  type SentMarks,
  takeMarks,
} from '../chatWrites.ts';

/** The batch as the worker receives it, and its answer (`error`: the transaction was rolled back). */
export interface ChatWriteRequest {
  id: number;
  ops: ChatWriteOp[];
}
export type ChatWriteReply =
  | { id: number; results: ChatWriteResult[] }
  /** `errcode`: the SQLite result code, so the main thread can tell a full disk (STORAGE_FULL). */
  | { id: number; error: string; errcode?: number };

/** What the ops need of a connection. */
export interface ChatWriteDb {
  stmt(sql: string): StatementSync;
  exec(sql: string): void;
}

/** Per batch: each channel's counter and the read markers that own messages move. */
interface Pending {
  /** Next free seq - 1, per channel, as of this batch. */
  seqs: Map<string, number>;
  /** Channels whose counter row moved. */
  moved: Set<string>;
  marks: SentMarks;
}

/**
 * Apply a batch in one transaction (BEGIN IMMEDIATE … COMMIT). A refused op (unknown channel,
 * bad thread root) writes nothing and answers `refused`; any other error rolls the whole batch
 * back and is thrown. Each channel's counter is read once per batch and written once at the end
 * (with the senders' read markers), so a message costs one INSERT.
 */
export function applyChatWrites(db: ChatWriteDb, ops: readonly ChatWriteOp[]): ChatWriteResult[] {
  const results: ChatWriteResult[] = [];
  const pending: Pending = { seqs: new Map(), moved: new Set(), marks: new Map() };
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const op of ops) {
      try {
        if (op.kind === 'append') results.push(appendOne(db, pending, op.message));
        else {
          settle(db, pending, op.channelId); // the receipt reads the counter and the marker
          results.push({ read: readOne(db, op) });
        }
      } catch (err) {
        results.push(refusedResult(err));
      }
    }
    settle(db, pending);
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

/** Write the moved counters and senders' read markers (of one channel, or all). */
function settle(db: ChatWriteDb, p: Pending, channelId?: string): void {
  for (const id of p.moved) {
    if (channelId !== undefined && id !== channelId) continue;
    db.stmt('UPDATE chat_channels SET last_seq = ? WHERE id = ?').run(p.seqs.get(id)!, id);
    p.moved.delete(id);
  }
  for (const m of takeMarks(p.marks, channelId))
    db.stmt('UPDATE chat_members SET last_read = ? WHERE channel_id = ? AND sub = ? AND last_read < ?').run(
      m.seq,
      m.channelId,
      m.sub,
      m.seq,
    );
}

function appendOne(db: ChatWriteDb, p: Pending, m: NewMessage): ChatWriteResult {
  let last = p.seqs.get(m.channelId);
  if (last === undefined) {
    const row = db.stmt('SELECT last_seq FROM chat_channels WHERE id = ?').get(m.channelId) as
      | { last_seq: number }
      | undefined;
    if (!row) throw new Refused('channel-not-found', `no channel ${m.channelId}`);
    last = row.last_seq;
    p.seqs.set(m.channelId, last);
  }
  let root: number | null = null;
  if (m.threadRoot !== null) {
    const r = db
      .stmt('SELECT seq, thread_root FROM chat_messages WHERE channel_id = ? AND seq = ?')
      .get(m.channelId, m.threadRoot) as { seq: number; thread_root: number | null } | undefined;
    if (!r) {
      if (isDuplicate(db, m)) return duplicate(db, m);
      throw new Refused('thread-root-invalid', `no message ${m.threadRoot} to reply to`);
    }
    root = r.thread_root ?? r.seq; // a reply to a reply joins the same thread
  }
  const seq = last + 1;
  const createdAt = Date.now();
  // a known (channel, sender, client id) inserts nothing: the resend gets the stored message
  const inserted = db
    .stmt(
      `INSERT INTO chat_messages (channel_id, seq, client_id, sender, text, created_at, thread_root, mentions, attachments)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, sender, client_id) DO NOTHING`,
    )
    .run(...messageValues(m, seq, createdAt, root));
  if (Number(inserted.changes) === 0) return duplicate(db, m);
  p.seqs.set(m.channelId, seq);
  p.moved.add(m.channelId);
  if (root !== null)
    db.stmt('UPDATE chat_messages SET reply_count = reply_count + 1 WHERE channel_id = ? AND seq = ?').run(
      m.channelId,
      root,
    );
  markSent(p.marks, m, seq);
  return { append: { seq, createdAt, threadRoot: root } };
}

function isDuplicate(db: ChatWriteDb, m: NewMessage): boolean {
  return (
    db
      .stmt('SELECT 1 AS x FROM chat_messages WHERE channel_id = ? AND sender = ? AND client_id = ?')
      .get(m.channelId, m.sender, m.clientMsgId) !== undefined
  );
}

function duplicate(db: ChatWriteDb, m: NewMessage): ChatWriteResult {
  const row = db
    .stmt(`SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = ? AND sender = ? AND client_id = ?`)
    .get(m.channelId, m.sender, m.clientMsgId) as MessageRow | undefined;
  if (!row) throw new Error(`message ${m.clientMsgId} of ${m.sender} vanished`);
  return { duplicate: rowToMessage(row) };
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
