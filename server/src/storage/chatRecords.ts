/**
 * The chat store's rows and records, the same on both backends: the column lists, the rows as a
 * driver returns them (SQLite integers as numbers and booleans as 0/1, PostgreSQL BIGINT as text
 * and BOOLEAN as booleans; each mapper takes either) and the records they become, and the message
 * an append stored. Dependency-free (type imports and sqlRows.ts only): the SQLite write worker
 * loads it.
 */
import type { AttachmentRef, ChatMessage } from '@moim/protocol';
import type {
  NewChannel,
  NewMessage,
  StoredAttachment,
  StoredChannel,
  StoredMember,
  StoredMessage,
} from './ChatStore.ts';
import { bool, int, intOrNull, type SqlBool, type SqlInt } from './sqlRows.ts';

export const CHANNEL_COLS =
  'id, org, kind, name, topic, site, created_by, created_at, downloads_allowed, last_seq, member_count';
export const MEMBER_COLS = 'sub, role, joined_at, last_read';
export const MESSAGE_COLS =
  'channel_id, seq, client_id, sender, text, created_at, edited_at, deleted_at, thread_root, reply_count, mentions, attachments';
export const ATTACHMENT_COLS = 'id, channel_id, uploader, name, type, size, sha256, blob_key, created_at';

/** `a, b` → `t.a, t.b` (columns of a joined table). */
export function prefixed(table: string, cols: string): string {
  return cols
    .split(', ')
    .map((c) => `${table}.${c}`)
    .join(', ');
}

export type ChannelRow = Pick<StoredChannel, 'id' | 'org' | 'kind' | 'name' | 'topic' | 'site'> & {
  created_by: string;
  created_at: SqlInt;
  downloads_allowed: SqlBool;
  last_seq: SqlInt;
  member_count: SqlInt;
};

export type MemberRow = Pick<StoredMember, 'sub' | 'role'> & { joined_at: SqlInt; last_read: SqlInt };

/** `mentions` and `attachments`: JSON text, NULL when empty. */
export type MessageRow = Pick<ChatMessage, 'sender' | 'text'> & {
  channel_id: string;
  seq: SqlInt;
  client_id: string;
  created_at: SqlInt;
  edited_at: SqlInt | null;
  deleted_at: SqlInt | null;
  thread_root: SqlInt | null;
  reply_count: SqlInt;
  mentions: string | null;
  attachments: string | null;
};

export type AttachmentRow = Pick<StoredAttachment, 'id' | 'uploader' | 'name' | 'type' | 'sha256'> & {
  channel_id: string;
  size: SqlInt;
  blob_key: string;
  created_at: SqlInt;
};

export function toChannel(r: ChannelRow): StoredChannel {
  return {
    id: r.id,
    org: r.org,
    kind: r.kind,
    name: r.name,
    topic: r.topic,
    site: r.site,
    createdBy: r.created_by,
    createdAt: int(r.created_at),
    policy: { downloadsAllowed: bool(r.downloads_allowed) },
    lastSeq: int(r.last_seq),
    memberCount: int(r.member_count),
  };
}

export function toMember(r: MemberRow): StoredMember {
  return { sub: r.sub, role: r.role, joinedAt: int(r.joined_at), lastRead: int(r.last_read) };
}

export function toAttachment(r: AttachmentRow): StoredAttachment {
  return {
    id: r.id,
    channelId: r.channel_id,
    uploader: r.uploader,
    name: r.name,
    type: r.type,
    size: int(r.size),
    sha256: r.sha256,
    blobKey: r.blob_key,
    createdAt: int(r.created_at),
  };
}

/**
 * The values of a new channel's INSERT (id, org, kind, name, topic, site, created_by, created_at),
 * without `downloads_allowed`, which each dialect spells its own way.
 */
export function channelValues(
  c: NewChannel,
  createdAt: number,
): [string, string, NewChannel['kind'], string, string | null, string | null, string, number] {
  return [c.id, c.org, c.kind, c.name, c.topic ?? null, c.site ?? null, c.createdBy, createdAt];
}

/** The values of an attachment's INSERT, in the order of `ATTACHMENT_COLS`. */
export function attachmentValues(
  a: StoredAttachment,
): [string, string, string, string, string, number, string, string, number] {
  return [a.id, a.channelId, a.uploader, a.name, a.type, a.size, a.sha256, a.blobKey, a.createdAt];
}

/** A row without its reactions (the stores' `hydrate` adds them for history pages). */
export function rowToMessage(r: MessageRow): ChatMessage {
  return {
    channelId: r.channel_id,
    seq: int(r.seq),
    clientMsgId: r.client_id,
    sender: r.sender,
    text: r.text,
    createdAt: int(r.created_at),
    editedAt: intOrNull(r.edited_at),
    deletedAt: intOrNull(r.deleted_at),
    threadRoot: intOrNull(r.thread_root),
    replyCount: int(r.reply_count),
    mentions: r.mentions ? (JSON.parse(r.mentions) as string[]) : [],
    attachments: r.attachments ? (JSON.parse(r.attachments) as AttachmentRef[]) : [],
    reactions: [],
  };
}

/** Messages with their reactions, from the reactions of their seq range (grouped by seq). */
export function withReactions(
  messages: ChatMessage[],
  reactions: ReadonlyMap<number, StoredMessage['reactions']>,
): StoredMessage[] {
  return messages.map((m) => ({ ...m, reactions: reactions.get(m.seq) ?? [] }));
}

/** The seq range a page of rows spans (the reactions query covers it): channel, lowest, highest. */
export function seqRange(rows: readonly MessageRow[]): [string, number, number] {
  const seqs = rows.map((r) => int(r.seq));
  return [rows[0]!.channel_id, Math.min(...seqs), Math.max(...seqs)];
}

/** A fresh append as stored: what was sent, with the seq, time and thread root the commit gave it. */
export function appendedMessage(
  m: NewMessage,
  stored: { seq: number; createdAt: number; threadRoot: number | null },
): StoredMessage {
  return {
    channelId: m.channelId,
    seq: stored.seq,
    clientMsgId: m.clientMsgId,
    sender: m.sender,
    text: m.text,
    createdAt: stored.createdAt,
    editedAt: null,
    deletedAt: null,
    threadRoot: stored.threadRoot,
    replyCount: 0,
    mentions: [...m.mentions],
    attachments: [...m.attachments],
    reactions: [],
  };
}

/** The values of a message's INSERT: channel, seq, client id, sender, text, time, thread root, mentions, attachments. */
export function messageValues(
  m: NewMessage,
  seq: number,
  createdAt: number,
  root: number | null,
): [string, number, string, string, string, number, number | null, string | null, string | null] {
  return [
    m.channelId,
    seq,
    m.clientMsgId,
    m.sender,
    m.text,
    createdAt,
    root,
    m.mentions.length ? JSON.stringify(m.mentions) : null,
    m.attachments.length ? JSON.stringify(m.attachments) : null,
  ];
}
