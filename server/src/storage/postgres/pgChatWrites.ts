/**
 * The chat writes that go through PgChatStore's group commit (message appends and read receipts),
 * as one transaction over a batch: the PostgreSQL twin of sqlite/chatWorkerOps.ts, with the same
 * ops and results (../chatWrites.ts: refusals per op, a duplicate client id answered with the
 * stored message).
 *
 * Several nodes append to the same channel at once, so the batch first locks the rows of every
 * channel it touches, in id order (FOR UPDATE; a fixed order means two batches never wait on each
 * other in a cycle). Each message then takes its seq from the channel row,
 * `UPDATE … SET last_seq = last_seq + 1 RETURNING last_seq`, in the same transaction as its
 * INSERT: seqs stay dense across nodes, and a batch that fails rolls back with its counters, so a
 * failure leaves no hole. While a batch holds a channel's lock, no other transaction can insert
 * into that channel, so the duplicate check it makes is final; should an INSERT still meet a
 * stored (channel, sender, client id) (`ON CONFLICT DO NOTHING` inserts nothing), the counter is
 * moved back under the same lock and the stored message answered.
 */
import type { ChatMessage } from '@moim/protocol';
import type { NewMessage } from '../ChatStore.ts';
import { MESSAGE_COLS, type MessageRow, messageValues, rowToMessage } from '../chatRecords.ts';
import {
  type ChatWriteOp,
  type ChatWriteResult,
  markSent,
  opChannel,
  Refused,
  refusedResult,
  type SentMarks,
  takeMarks,
} from '../chatWrites.ts';
import type { PgQueryable } from './pgChatSql.ts';

/** Per batch: the channels locked (those that exist) and the read markers own messages move. */
interface Batch {
  channels: Set<string>;
  marks: SentMarks;
}

/**
 * Apply a batch inside the caller's transaction (PgDb.tx, which may run this again from the start
 * after a deadlock or serialization failure: it keeps no state between runs). A refused op
 * (unknown channel, bad thread root, not a member) writes nothing and answers `refused`; any other
 * error is thrown and fails the whole batch.
 */
export async function applyPgChatWrites(q: PgQueryable, ops: readonly ChatWriteOp[]): Promise<ChatWriteResult[]> {
  const ids = [...new Set(ops.map(opChannel))];
  const locked = await q.query<{ id: string }>(
    'SELECT id FROM chat_channels WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  const batch: Batch = { channels: new Set(locked.map((r) => r.id)), marks: new Map() };
  const results: ChatWriteResult[] = [];
  for (const op of ops) {
    try {
      if (op.kind === 'append') results.push(await appendOne(q, batch, op.message));
      else {
        await settleMarks(q, batch, op.channelId); // the receipt counts from the marker
        results.push({ read: await readOne(q, batch, op) });
      }
    } catch (err) {
      results.push(refusedResult(err));
    }
  }
  await settleMarks(q, batch);
  return results;
}

/** Write the senders' read markers (of one channel, or all): my own message is read by me. */
async function settleMarks(q: PgQueryable, batch: Batch, channelId?: string): Promise<void> {
  for (const m of takeMarks(batch.marks, channelId))
    await q.query('UPDATE chat_members SET last_read = $3 WHERE channel_id = $1 AND sub = $2 AND last_read < $3', [
      m.channelId,
      m.sub,
      m.seq,
    ]);
}

async function appendOne(q: PgQueryable, batch: Batch, m: NewMessage): Promise<ChatWriteResult> {
  if (!batch.channels.has(m.channelId)) throw new Refused('channel-not-found', `no channel ${m.channelId}`);
  let root: number | null = null;
  if (m.threadRoot !== null) {
    const r = await q.one<{ seq: string; thread_root: string | null }>(
      'SELECT seq, thread_root FROM chat_messages WHERE channel_id = $1 AND seq = $2',
      [m.channelId, m.threadRoot],
    );
    if (!r) {
      const stored = await storedMessage(q, m);
      if (stored) return { duplicate: stored };
      throw new Refused('thread-root-invalid', `no message ${m.threadRoot} to reply to`);
    }
    root = Number(r.thread_root ?? r.seq); // a reply to a reply joins the same thread
  }
  const bumped = await q.one<{ last_seq: string }>(
    'UPDATE chat_channels SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq',
    [m.channelId],
  );
  if (!bumped) throw new Error(`channel ${m.channelId} vanished while locked`);
  const seq = Number(bumped.last_seq);
  const createdAt = Date.now();
  // a known (channel, sender, client id) inserts nothing: the resend gets the stored message
  const inserted = await q.query(
    `INSERT INTO chat_messages (channel_id, seq, client_id, sender, text, created_at, thread_root, mentions, attachments)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (channel_id, sender, client_id) DO NOTHING RETURNING seq`,
    messageValues(m, seq, createdAt, root),
  );
  if (inserted.length === 0) {
    // we hold the channel's lock, so nobody moved the counter since: give the seq back
    await q.query('UPDATE chat_channels SET last_seq = last_seq - 1 WHERE id = $1', [m.channelId]);
    const stored = await storedMessage(q, m);
    if (!stored) throw new Error(`message ${m.clientMsgId} of ${m.sender} vanished`);
    return { duplicate: stored };
  }
  if (root !== null)
    await q.query('UPDATE chat_messages SET reply_count = reply_count + 1 WHERE channel_id = $1 AND seq = $2', [
      m.channelId,
      root,
    ]);
  markSent(batch.marks, m, seq);
  return { append: { seq, createdAt, threadRoot: root } };
}

/** The message stored under the message's (channel, sender, client id), without its reactions. */
async function storedMessage(q: PgQueryable, m: NewMessage): Promise<ChatMessage | undefined> {
  const row = await q.one<MessageRow>(
    `SELECT ${MESSAGE_COLS} FROM chat_messages WHERE channel_id = $1 AND sender = $2 AND client_id = $3`,
    [m.channelId, m.sender, m.clientMsgId],
  );
  return row ? rowToMessage(row) : undefined;
}

/**
 * Move the marker forward (never back, never past the channel's last message) and count the
 * unread messages of others after it, capped, in one statement.
 */
async function readOne(
  q: PgQueryable,
  batch: Batch,
  op: { channelId: string; sub: string; seq: number; unreadCap: number },
): Promise<{ lastRead: number; unread: number }> {
  if (!batch.channels.has(op.channelId)) throw new Refused('channel-not-found', `no channel ${op.channelId}`);
  const row = await q.one<{ last_read: string; unread: number }>(
    `WITH moved AS (
       UPDATE chat_members
          SET last_read = GREATEST(last_read, LEAST($3::bigint, (SELECT last_seq FROM chat_channels WHERE id = $1)))
        WHERE channel_id = $1 AND sub = $2 RETURNING last_read)
     SELECT moved.last_read,
            (SELECT COUNT(*)::int FROM chat_messages x
              WHERE x.channel_id = $1 AND x.seq > moved.last_read AND x.seq <= moved.last_read + $4
                AND x.sender <> $2 AND x.deleted_at IS NULL) AS unread
       FROM moved`,
    [op.channelId, op.sub, op.seq, op.unreadCap],
  );
  if (!row) throw new Refused('channel-not-found', `${op.sub} is not in ${op.channelId}`);
  return { lastRead: Number(row.last_read), unread: row.unread };
}
