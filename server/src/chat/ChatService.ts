/**
 * The chat service's facade: what the gateway handlers, the attachments and app.ts call. It builds
 * the parts and passes each call on: channels and members (ChatChannels.ts), messages, typing and
 * receipts (ChatMessages.ts), access checks and store-error mapping (ChatAccess.ts), the shared
 * types and wire mappings (model.ts).
 */
import { randomUUID } from 'node:crypto';
import { type Channel, type ChannelPolicy, type ChatMessage, type MyChannel, SYSTEM_SUB } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { ChatStore, HistoryQuery, StoredChannel } from '../storage/ChatStore.ts';
import { ChatAccess } from './ChatAccess.ts';
import type { ChatBus } from './ChatBus.ts';
import { ChatChannels, type NewChannelInput } from './ChatChannels.ts';
import { ChatMessages, type SendInput } from './ChatMessages.ts';
import type { ChatActor, ChatLimits } from './model.ts';

export type { ChatActor, ChatLimits } from './model.ts';
export { siteChannelId, toChannel } from './model.ts';

/** The `sub` (and name) of moim's system account, the sender of notices. */
export const SYSTEM_SENDER = SYSTEM_SUB;

export interface ChatServiceOptions {
  store: ChatStore;
  bus: ChatBus;
  audit: AuditStore;
  log: Logger;
  limits: ChatLimits;
  /** Typing indicators per person and channel at most this often. @default 1000 */
  typingIntervalMs?: number;
}

/**
 * Chat: channels, direct messages, messages with seq order and idempotent client ids, history,
 * edits, reactions, threads, mentions, typing, receipts. Everything durable goes through the
 * ChatStore; live events through the ChatBus. Access rules are in @moim/protocol chat.ts.
 */
export class ChatService {
  readonly #access: ChatAccess;
  readonly #channels: ChatChannels;
  readonly #messages: ChatMessages;

  constructor(opts: ChatServiceOptions) {
    const deps = { store: opts.store, bus: opts.bus, audit: opts.audit, log: opts.log, limits: opts.limits };
    this.#access = new ChatAccess(opts.store, opts.log);
    this.#channels = new ChatChannels(deps, this.#access);
    this.#messages = new ChatMessages(deps, this.#access, opts.typingIntervalMs ?? 1000);
  }

  // ── channels ──────────────────────────────────────────────────────────────

  /** My channels with unread counts; my site's channel is created and joined on first use. */
  myChannels(me: ChatActor): Promise<MyChannel[]> {
    return this.#channels.myChannels(me);
  }

  /** The channel of the person's site (`site-<site>`), created on first use, with the person in it. */
  ensureSiteChannel(me: ChatActor): Promise<StoredChannel> {
    return this.#channels.ensureSiteChannel(me);
  }

  publicChannels(
    me: ChatActor,
    after: string | undefined,
    limit: number,
    q?: string,
  ): Promise<{ channels: Channel[]; hasMore: boolean }> {
    return this.#channels.publicChannels(me, after, limit, q);
  }

  createChannel(me: ChatActor, input: NewChannelInput): Promise<Channel> {
    return this.#channels.createChannel(me, input);
  }

  getChannel(
    me: ChatActor,
    channelId: string,
  ): Promise<{ channel: Channel; member: boolean; role: 'owner' | 'member' | null }> {
    return this.#channels.getChannel(me, channelId);
  }

  /** Join a public or site channel. */
  join(me: ChatActor, channelId: string): Promise<Channel> {
    return this.#channels.join(me, channelId);
  }

  leave(me: ChatActor, channelId: string): Promise<void> {
    return this.#channels.leave(me, channelId);
  }

  updateMembers(
    me: ChatActor,
    channelId: string,
    add: readonly string[],
    remove: readonly string[],
  ): Promise<{ added: string[]; removed: string[]; memberCount: number }> {
    return this.#channels.updateMembers(me, channelId, add, remove);
  }

  listMembers(me: ChatActor, channelId: string, after: string | undefined, limit: number) {
    return this.#channels.listMembers(me, channelId, after, limit);
  }

  setPolicy(me: ChatActor, channelId: string, policy: ChannelPolicy): Promise<Channel> {
    return this.#channels.setPolicy(me, channelId, policy);
  }

  /** The direct message of me and these people; the same set always gives the same channel id. */
  openDm(me: ChatActor, people: readonly string[]): Promise<Channel> {
    return this.#channels.openDm(me, people);
  }

  /** Access check for `chat:subscribe`; the caller joins the room once this resolved. */
  subscribable(me: ChatActor, channelId: string): Promise<{ lastSeq: number }> {
    return this.#channels.subscribable(me, channelId);
  }

  // ── messages ──────────────────────────────────────────────────────────────

  send(me: ChatActor, input: SendInput): Promise<{ message: ChatMessage; duplicate: boolean }> {
    return this.#messages.send(me, input);
  }

  history(me: ChatActor, q: HistoryQuery): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
    return this.#messages.history(me, q);
  }

  edit(me: ChatActor, channelId: string, seq: number, text: string): Promise<ChatMessage> {
    return this.#messages.edit(me, channelId, seq, text);
  }

  delete(me: ChatActor, channelId: string, seq: number): Promise<ChatMessage> {
    return this.#messages.delete(me, channelId, seq);
  }

  react(me: ChatActor, channelId: string, seq: number, emoji: string, on: boolean): Promise<ChatMessage> {
    return this.#messages.react(me, channelId, seq, emoji, on);
  }

  /** Ephemeral; throttled per person and channel (state changes pass sooner than repeats). */
  typing(me: ChatActor, channelId: string, typing: boolean, exceptSocketId?: string): Promise<{ broadcast: boolean }> {
    return this.#messages.typing(me, channelId, typing, exceptSocketId);
  }

  read(me: ChatActor, channelId: string, seq: number): Promise<{ lastRead: number; unread: number }> {
    return this.#messages.read(me, channelId, seq);
  }

  receipts(me: ChatActor, channelId: string, after: string | undefined, limit: number) {
    return this.#messages.receipts(me, channelId, after, limit);
  }

  /**
   * A direct message from moim's system account (`SYSTEM_SENDER`) to one person, in the DM of
   * the two (opened on first use): how services such as telework approvals tell people things.
   */
  async systemMessage(org: string, to: string, text: string): Promise<ChatMessage> {
    const system: ChatActor = { sub: SYSTEM_SENDER, org, site: SYSTEM_SENDER, isAdmin: false };
    const dm = await this.#channels.openDm(system, [to]);
    const { message } = await this.#messages.send(
      system,
      { channelId: dm.id, clientMsgId: randomUUID(), text },
      { system: true },
    );
    return message;
  }

  /**
   * A notice in the DM of two people, in the name of `from` (not rate limited, as a system
   * notice): how calls leave "missed call" in the DM of the caller and the callee, where it
   * counts as unread for the callee.
   */
  async dmNotice(org: string, from: { sub: string; site: string }, to: string, text: string): Promise<ChatMessage> {
    const actor: ChatActor = { sub: from.sub, org, site: from.site, isAdmin: false };
    const dm = await this.#channels.openDm(actor, [to]);
    const { message } = await this.#messages.send(
      actor,
      { channelId: dm.id, clientMsgId: randomUUID(), text },
      { system: true },
    );
    return message;
  }

  // ── access (used by the attachment routes too) ────────────────────────────

  /** Read access: public and site channels for everyone in the org, the others for members. */
  readable(me: ChatActor, channelId: string) {
    return this.#access.readable(me, channelId);
  }

  /** Write access: members only. */
  writable(me: ChatActor, channelId: string) {
    return this.#access.writable(me, channelId);
  }

  /** Wait for in-flight sends, then refuse new ones. */
  close(): Promise<void> {
    return this.#messages.close();
  }
}
