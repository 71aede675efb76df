/**
 * The chat writes that go through the group commit (message appends and read receipts), the part
 * both backends share: the ops and their results, how an op is refused (it writes nothing and
 * answers `refused`; any other error fails the whole batch) and the senders' read markers a batch
 * moves. The batches themselves are sqlite/chatWorkerOps.ts and postgres/pgChatWrites.ts.
 * Dependency-free (type imports only): the SQLite write worker loads it.
 */
import type { ChatMessage } from '@moim/protocol';
import type { NewMessage } from './ChatStore.ts';

export type ChatWriteOp =
  | { kind: 'append'; message: NewMessage }
  | { kind: 'read'; channelId: string; sub: string; seq: number; unreadCap: number };

export type ChatRefusal = {
  reason: 'channel-not-found' | 'message-not-found' | 'thread-root-invalid';
  message: string;
};

/**
 * `append`: the stored message's seq, time and thread (the rest is what was sent, so it does not
 * travel back from the worker); `duplicate`: the message stored earlier under that client id.
 */
export type ChatWriteResult =
  | { append: { seq: number; createdAt: number; threadRoot: number | null } }
  | { duplicate: ChatMessage }
  | { read: { lastRead: number; unread: number } }
  | { refused: ChatRefusal };

/** Thrown by an op that checked something before writing anything: answered as `refused`. */
export class Refused extends Error {
  readonly refusal: ChatRefusal;
  constructor(reason: ChatRefusal['reason'], message: string) {
    super(message);
    this.refusal = { reason, message };
  }
}

/** The result of an op that threw: `refused` for a refusal; any other error is thrown on. */
export function refusedResult(err: unknown): ChatWriteResult {
  // each op checks everything before it writes, so a refusal leaves nothing behind
  if (!(err instanceof Refused)) throw err;
  return { refused: err.refusal };
}

/** The channel an op writes to. */
export const opChannel = (op: ChatWriteOp): string => (op.kind === 'append' ? op.message.channelId : op.channelId);

/** Per batch, `channel\nsub` → the highest seq the person sent in it: my own message is read by me. */
export type SentMarks = Map<string, { channelId: string; sub: string; seq: number }>;

/** Remember that the message's sender has read up to `seq`. */
export function markSent(marks: SentMarks, m: NewMessage, seq: number): void {
  marks.set(`${m.channelId}\n${m.sender}`, { channelId: m.channelId, sub: m.sender, seq });
}

/** Take the marks to write now (of one channel, or all), removing them from `marks`. */
export function takeMarks(
  marks: SentMarks,
  channelId?: string,
): Array<{ channelId: string; sub: string; seq: number }> {
  const out: Array<{ channelId: string; sub: string; seq: number }> = [];
  for (const [key, m] of marks) {
    if (channelId !== undefined && m.channelId !== channelId) continue;
    out.push(m);
    marks.delete(key);
  }
  return out;
}
