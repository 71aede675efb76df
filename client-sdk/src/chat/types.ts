/**
 * The types of the SDK's chat: the events `Chat` emits, messages on their way, and the state kept
 * per channel (loaded messages, catch-up position, who is typing).
 */
import type { ChatMessage, MyChannel, RequestInput } from '@moim/protocol';
import type { MoimError } from '@moim/protocol/client';

export interface ChatEvents {
  /** A new message in a subscribed channel (live or caught up after a reconnect; never twice). */
  message: (message: ChatMessage) => void;
  /** A message was edited, deleted, or its reactions or reply count changed. */
  updated: (message: ChatMessage) => void;
  /** Someone started or stopped typing in a subscribed channel. */
  typing: (e: { channelId: string; sub: string; typing: boolean }) => void;
  receipt: (e: { channelId: string; sub: string; lastRead: number }) => void;
  /** I was mentioned. */
  mention: (e: { channelId: string; seq: number; sender: string; excerpt: string }) => void;
  /** My channel list changed (joined, left, a policy changed) or an unread count moved. */
  channels: (channels: MyChannel[]) => void;
  /** Messages being sent (not yet acknowledged) changed for a channel. */
  pending: (e: { channelId: string; pending: PendingMessage[] }) => void;
}

/** A message on its way: shown greyed until the server has stored it. */
export interface PendingMessage {
  channelId: string;
  clientMsgId: string;
  text: string;
  threadRoot: number | null;
  createdAt: number;
  /** Set when sending failed for good (not a network problem). */
  error?: MoimError;
}

export interface ChannelState {
  id: string;
  subscribed: boolean;
  /** Every message loaded, by seq (timeline and thread replies). */
  messages: Map<number, ChatMessage>;
  /** Highest seq up to which nothing is missing (catch-up resumes after it). */
  through: number;
  /** Lowest seq loaded (older pages load before it). */
  oldest: number;
  hasOlder: boolean;
  typing: Map<string, ReturnType<typeof setTimeout>>;
  catchingUp: Promise<void> | undefined;
}

export type SendOptions = Omit<RequestInput<'chat:send'>, 'channelId' | 'clientMsgId' | 'text'>;

export function newChannelState(channelId: string): ChannelState {
  return {
    id: channelId,
    subscribed: false,
    messages: new Map(),
    through: 0,
    oldest: Number.POSITIVE_INFINITY,
    hasOlder: true,
    typing: new Map(),
    catchingUp: undefined,
  };
}
