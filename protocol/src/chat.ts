import { z } from 'zod';

/**
 * Chat: channels (public, private, one per site), direct messages, history, receipts.
 *
 * ## Ordering and delivery contract
 * - Every message in a channel has a `seq` assigned by the server: 1, 2, 3… with no gaps for
 *   stored messages. It is the order of the channel.
 * - `chat:send` carries a client-generated `clientMsgId`. The acknowledgement comes only after the
 *   message is durably stored. Resending the same `clientMsgId` (e.g. after a lost ack) returns
 *   the already stored message (`duplicate: true`) and never stores it twice.
 * - Live messages arrive as `chat:message` on every connection subscribed to the channel
 *   (`chat:subscribe`); edits, deletes and reaction changes as `chat:updated` (the whole message).
 *
 * ## Catch-up after a reconnect (nothing is missed)
 * 1. `chat:subscribe` to the channel first (live messages start arriving; buffer them);
 * 2. then `chat:history { after: lastSeqSeen }` repeatedly while `hasMore`;
 * 3. merge by `seq`, dropping duplicates (a message may come both live and in history).
 * Edits, deletes and reactions made while offline are in the fetched history for the fetched
 * range; a client showing older messages refetches that range.
 *
 * ## Access
 * Public and site channels: anyone in the organisation may read and subscribe; only members
 * post (`chat:join` a public channel first; everyone is a member of their own site's channel).
 * Private channels and direct messages: members only, otherwise `NOT_A_MEMBER`; a member who is
 * removed stops receiving the channel's events at once.
 *
 * ## Attachments (HTTP)
 * `POST /chat/channels/:id/attachments` with the raw file as the body, `Content-Type` its MIME
 * type, the file name in `X-Filename` (URI-encoded) or `?filename=`, and `Authorization: Bearer`.
 * Answers `{ attachment }`; pass its id in `chat:send { attachments }`. Downloads go through
 * `chat:attachment:link`, a short-lived signed URL; a channel whose policy sets
 * `downloadsAllowed: false` refuses both (`POLICY_FORBIDS`).
 */

export const CHANNEL_KINDS = ['public', 'private', 'dm', 'site'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const CHAT_LIMITS = {
  /** Hard bound of the schema; the configured limit (MOIM_CHAT_MAX_MESSAGE_CHARS) is usually lower. */
  textChars: 1_000_000,
  channelName: 80,
  topic: 500,
  mentions: 50,
  attachments: 10,
  /** People in a direct message, me included. */
  dmMembers: 8,
  historyPage: 200,
  membersPage: 500,
  membersPerCall: 500,
  emojiChars: 32,
  fileName: 255,
} as const;

const channelId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:~-]+$/, 'channel ids are letters, digits and . _ : ~ -');
const personId = z.string().min(1).max(128);
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const cursor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const clientMsgId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w-]+$/, 'client message ids are letters, digits, _ and -');
const attachmentId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w-]+$/);
const policy = z.object({ downloadsAllowed: z.boolean() }).strict();

/** Client→server requests of this area: event name → zod schema of its payload. */
export const chatRequests = {
  /** The channels I am a member of, with unread counts (my site's channel is created and joined here). */
  'chat:channels': z.object({}).strict(),
  /** Public and site channels of my organisation (to browse and join). */
  'chat:channels:public': z
    .object({
      after: z.string().max(128).optional(),
      limit: z.number().int().min(1).max(500).default(100),
      /** Only channels whose name or topic contains this (case and width of letters ignored). */
      q: z.string().trim().max(80).optional(),
    })
    .strict(),
  'chat:channel:create': z
    .object({
      name: z.string().trim().min(1).max(CHAT_LIMITS.channelName),
      kind: z.enum(['public', 'private']),
      topic: z.string().max(CHAT_LIMITS.topic).optional(),
      members: z.array(personId).max(CHAT_LIMITS.membersPerCall).optional(),
      policy: policy.optional(),
    })
    .strict(),
  'chat:channel:get': z.object({ channelId }).strict(),
  /** Join a public or site channel. */
  'chat:join': z.object({ channelId }).strict(),
  'chat:leave': z.object({ channelId }).strict(),
  /** Add or remove members (private channels: owners and admins; anyone may add to public channels). */
  'chat:members:update': z
    .object({
      channelId,
      add: z.array(personId).max(CHAT_LIMITS.membersPerCall).optional(),
      remove: z.array(personId).max(CHAT_LIMITS.membersPerCall).optional(),
    })
    .strict(),
  'chat:members:list': z
    .object({
      channelId,
      after: personId.optional(),
      limit: z.number().int().min(1).max(CHAT_LIMITS.membersPage).default(200),
    })
    .strict(),
  /** Change a channel's policy (owners and admins). */
  'chat:policy:set': z.object({ channelId, policy }).strict(),
  /** Open (or find) the direct message with these people; the same set always gives the same channel. */
  'chat:dm:open': z
    .object({
      people: z
        .array(personId)
        .min(1)
        .max(CHAT_LIMITS.dmMembers - 1),
    })
    .strict(),
  /** Receive this channel's live events; answers the channel's last seq (see the catch-up contract). */
  'chat:subscribe': z.object({ channelId }).strict(),
  'chat:unsubscribe': z.object({ channelId }).strict(),
  'chat:send': z
    .object({
      channelId,
      clientMsgId,
      text: z.string().max(CHAT_LIMITS.textChars),
      /** Reply in the thread of this message. */
      threadRoot: seq.optional(),
      mentions: z.array(personId).max(CHAT_LIMITS.mentions).optional(),
      attachments: z.array(attachmentId).max(CHAT_LIMITS.attachments).optional(),
    })
    .strict(),
  /** A page of history: `before` (older, newest first then returned ascending), `after` (newer), or the latest. */
  'chat:history': z
    .object({
      channelId,
      before: seq.optional(),
      after: cursor.optional(),
      /** Only the replies of this thread. */
      threadRoot: seq.optional(),
      limit: z.number().int().min(1).max(CHAT_LIMITS.historyPage).default(50),
    })
    .strict()
    .refine((v) => v.before === undefined || v.after === undefined, 'give before or after, not both'),
  'chat:edit': z.object({ channelId, seq, text: z.string().max(CHAT_LIMITS.textChars) }).strict(),
  'chat:delete': z.object({ channelId, seq }).strict(),
  'chat:react': z
    .object({ channelId, seq, emoji: z.string().min(1).max(CHAT_LIMITS.emojiChars), on: z.boolean().default(true) })
    .strict(),
  /** Typing indicator (ephemeral, never stored; throttled per person and channel). */
  'chat:typing': z.object({ channelId, typing: z.boolean().default(true) }).strict(),
  /** Read receipt: I have read up to `seq`. */
  'chat:read': z.object({ channelId, seq: cursor }).strict(),
  /** How far each member has read. */
  'chat:receipts': z
    .object({ channelId, after: personId.optional(), limit: z.number().int().min(1).max(500).default(200) })
    .strict(),
  /** A short-lived download link for an attachment (refused with POLICY_FORBIDS where downloads are off). */
  'chat:attachment:link': z.object({ channelId, attachmentId }).strict(),
} as const satisfies Record<string, z.ZodType>;

export interface ChannelPolicy {
  /** false: attachments cannot be downloaded (data-leak prevention); the server refuses links and downloads. */
  downloadsAllowed: boolean;
}

export interface Channel {
  id: string;
  kind: ChannelKind;
  name: string;
  topic: string | null;
  /** For site channels: the site. */
  site: string | null;
  createdBy: string;
  createdAt: number;
  policy: ChannelPolicy;
  /** Seq of the newest message (0: none yet). */
  lastSeq: number;
  memberCount: number;
}

/** A channel as its member sees it in the channel list. */
export interface MyChannel extends Channel {
  role: 'owner' | 'member';
  lastRead: number;
  /** Messages by others after lastRead (counted up to 1000). */
  unread: number;
}

export interface AttachmentRef {
  id: string;
  name: string;
  type: string;
  size: number;
}

export interface Reaction {
  emoji: string;
  count: number;
  /** Who reacted (the first 50). */
  people: string[];
}

export interface ChatMessage {
  channelId: string;
  seq: number;
  clientMsgId: string;
  sender: string;
  /** Empty once deleted. */
  text: string;
  createdAt: number;
  editedAt: number | null;
  deletedAt: number | null;
  threadRoot: number | null;
  /** Replies in this message's thread. */
  replyCount: number;
  mentions: string[];
  attachments: AttachmentRef[];
  reactions: Reaction[];
}

/** Response data for each request above (the acknowledgement carries `{ data }`). */
export interface ChatResponses {
  'chat:channels': { channels: MyChannel[] };
  'chat:channels:public': { channels: Channel[]; hasMore: boolean };
  'chat:channel:create': Channel;
  'chat:channel:get': { channel: Channel; member: boolean; role: 'owner' | 'member' | null };
  'chat:join': Channel;
  'chat:leave': Record<string, never>;
  'chat:members:update': { added: string[]; removed: string[]; memberCount: number };
  'chat:members:list': {
    members: Array<{ sub: string; role: 'owner' | 'member'; joinedAt: number }>;
    hasMore: boolean;
  };
  'chat:policy:set': Channel;
  'chat:dm:open': Channel;
  'chat:subscribe': { lastSeq: number };
  'chat:unsubscribe': Record<string, never>;
  'chat:send': { message: ChatMessage; duplicate: boolean };
  'chat:history': { messages: ChatMessage[]; hasMore: boolean };
  'chat:edit': ChatMessage;
  'chat:delete': ChatMessage;
  'chat:react': ChatMessage;
  'chat:typing': { broadcast: boolean };
  'chat:read': { lastRead: number; unread: number };
  'chat:receipts': { receipts: Array<{ sub: string; lastRead: number }>; hasMore: boolean };
  'chat:attachment:link': { url: string; expiresAt: number };
}

/** Server→client events of this area. */
export interface ChatServerEvents {
  /** A new message in a subscribed channel. */
  'chat:message': (message: ChatMessage) => void;
  /** A message was edited, deleted, or its reactions changed. */
  'chat:updated': (message: ChatMessage) => void;
  'chat:typing': (event: { channelId: string; sub: string; typing: boolean }) => void;
  'chat:receipt': (event: { channelId: string; sub: string; lastRead: number }) => void;
  /** I was mentioned (sent to all my connections, subscribed to the channel or not). */
  'chat:mention': (event: { channelId: string; seq: number; sender: string; excerpt: string }) => void;
  /** My membership changed: added to a channel (`joined`) or removed (`left`), or its policy changed. */
  'chat:channel': (event: { channel: Channel; change: 'joined' | 'left' | 'policy' }) => void;
}
