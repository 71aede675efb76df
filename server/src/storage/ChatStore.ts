/**
 * Chat storage. Async and free of SQLite specifics so a PostgreSQL implementation fits
 * (`appendMessage` is `UPDATE chat_channels SET last_seq = last_seq + 1 … RETURNING last_seq`
 * plus an INSERT in one transaction there too; `ON CONFLICT DO NOTHING` for idempotency).
 */
import type { AttachmentRef, Channel, ChannelKind, ChannelPolicy, ChatMessage, Reaction } from '@moim/protocol';

/** A stored channel is what the wire carries (see `Channel` in @moim/protocol) and its organisation. */
export interface StoredChannel extends Channel {
  org: string;
}

export type MemberRole = 'owner' | 'member';

export interface StoredMember {
  sub: string;
  role: MemberRole;
  joinedAt: number;
  lastRead: number;
}

export interface NewChannel {
  id: string;
  org: string;
  kind: ChannelKind;
  name: string;
  topic?: string | null;
  site?: string | null;
  createdBy: string;
  policy?: ChannelPolicy;
  /** Members to add at creation (the creator first, as owner when `ownerIsCreator`). */
  members: ReadonlyArray<{ sub: string; role: MemberRole }>;
}

export interface NewMessage {
  channelId: string;
  clientMsgId: string;
  sender: string;
  text: string;
  threadRoot: number | null;
  mentions: readonly string[];
  attachments: readonly AttachmentRef[];
}

/** A stored message is exactly what the wire carries (see `ChatMessage` in @moim/protocol). */
export type StoredMessage = ChatMessage;
export type StoredReaction = Reaction;

export interface StoredAttachment extends AttachmentRef {
  channelId: string;
  uploader: string;
  sha256: string;
  blobKey: string;
  createdAt: number;
}

export interface MyChannelRow {
  channel: StoredChannel;
  role: MemberRole;
  lastRead: number;
  unread: number;
}

/** The channel and the person's membership in it (undefined: not a member). */
export interface ChannelAccess {
  channel: StoredChannel;
  member: StoredMember | undefined;
}

/** A person's read marker and how many messages of others are unread after it (capped). */
export interface ReadMark {
  lastRead: number;
  unread: number;
}

export interface Receipt {
  sub: string;
  lastRead: number;
}

/** Why a store call refused; the service maps it to a MoimError code. */
export class ChatStoreError extends Error {
  readonly reason:
    | 'channel-not-found'
    | 'message-not-found'
    | 'channel-full'
    | 'thread-root-invalid'
    | 'exists'
    | 'quota-exceeded';
  constructor(reason: ChatStoreError['reason'], message: string) {
    super(message);
    this.name = 'ChatStoreError';
    this.reason = reason;
  }
}

/** Refuse (`quota-exceeded`) an attachment of `size` bytes when `used` plus it would pass `quota`. */
export function checkAttachmentQuota(used: number, size: number, quota: number): void {
  if (used + size > quota)
    throw new ChatStoreError(
      'quota-exceeded',
      `your attachments use ${used} of ${quota} bytes; this one (${size} bytes) does not fit`,
    );
}

export interface ChatStore {
  /** Create a channel with its first members; `exists` if the id is taken (then nothing changes). */
  createChannel(c: NewChannel, maxMembers: number): Promise<StoredChannel>;
  /** Create the channel unless it exists; add `members` either way (idempotent). */
  ensureChannel(c: NewChannel, maxMembers: number): Promise<StoredChannel>;
  getChannel(id: string): Promise<StoredChannel | undefined>;
  /** The channel and the person's membership in one read. */
  access(channelId: string, sub: string): Promise<ChannelAccess | undefined>;
  /** Channels the person is a member of, with unread counts (capped). */
  myChannels(sub: string, org: string, unreadCap: number): Promise<MyChannelRow[]>;
  /** Public and site channels of an org, by id. */
  publicChannels(org: string, after: string | undefined, limit: number): Promise<StoredChannel[]>;
  /** Add members (already-members are skipped); `channel-full` if the count would pass `maxMembers`. */
  addMembers(channelId: string, subs: readonly string[], role: MemberRole, maxMembers: number): Promise<string[]>;
  removeMembers(channelId: string, subs: readonly string[]): Promise<string[]>;
  listMembers(channelId: string, after: string | undefined, limit: number): Promise<StoredMember[]>;
  setPolicy(channelId: string, policy: ChannelPolicy): Promise<StoredChannel>;

  /**
   * Store a message: the channel's counter row is bumped and the message inserted in one
   * transaction. A known (channel, sender, clientMsgId) returns the stored message with
   * `duplicate: true`. Resolves only once the message is durable.
   */
  appendMessage(m: NewMessage): Promise<{ message: StoredMessage; duplicate: boolean }>;
  getMessage(channelId: string, seq: number): Promise<StoredMessage | undefined>;
  history(q: {
    channelId: string;
    before?: number | undefined;
    after?: number | undefined;
    threadRoot?: number | undefined;
    limit: number;
  }): Promise<StoredMessage[]>;
  editMessage(channelId: string, seq: number, text: string): Promise<StoredMessage>;
  deleteMessage(channelId: string, seq: number): Promise<StoredMessage>;
  react(channelId: string, seq: number, sub: string, emoji: string, on: boolean): Promise<StoredMessage>;

  /** Move the person's read marker forward (never back); returns it with the unread count after it. */
  markRead(channelId: string, sub: string, seq: number, unreadCap: number): Promise<ReadMark>;
  receipts(channelId: string, after: string | undefined, limit: number): Promise<Receipt[]>;

  /**
   * Record an uploaded attachment. With `quotaBytes`, refuses (`quota-exceeded`, nothing stored)
   * when the uploader's attachments would then exceed it: the sum and the insert are one
   * transaction, so uploads finishing at the same time cannot together pass the quota.
   */
  putAttachment(a: StoredAttachment, opts?: { quotaBytes?: number | undefined }): Promise<void>;
  /** Bytes of every attachment the person uploaded (what the quota counts). */
  attachmentBytes(uploader: string): Promise<number>;
  getAttachment(id: string): Promise<StoredAttachment | undefined>;

  /** Commit whatever is queued (group commit) and stop accepting writes. */
  close(): Promise<void>;
}

/** A page of history asked for: by seq before or after a point, of the channel or one thread. */
export type HistoryQuery = Parameters<ChatStore['history']>[0];
