/**
 * Chat messages: sending (rate limit, size, attachments, idempotent client ids, mentions), history
 * pages, edits, deletes, reactions, typing indicators, read receipts and unread counts, and the
 * wait for in-flight sends on close. Channels and members are in ChatChannels.ts; ChatService is
 * the facade the rest of the server uses.
 */
import { type AttachmentRef, type ChatMessage, MoimError } from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';
import { KeyedRateLimiter } from '../lib/RateLimiter.ts';
import type { HistoryQuery, StoredMessage } from '../storage/ChatStore.ts';
import type { ChatAccess } from './ChatAccess.ts';
import { type ChatActor, type ChatDeps, countChars, toMessage, UNREAD_CAP } from './model.ts';

const EXCERPT_CHARS = 140;
/** Anything but white space (a blank message needs an attachment). */
const NON_BLANK = /\S/;

export interface SendInput {
  channelId: string;
  clientMsgId: string;
  text: string;
  threadRoot?: number | undefined;
  mentions?: readonly string[] | undefined;
  attachments?: readonly string[] | undefined;
}

export class ChatMessages {
  readonly #d: ChatDeps;
  readonly #access: ChatAccess;
  readonly #sendLimiter: KeyedRateLimiter;
  readonly #typingIntervalMs: number;
  readonly #typing = new Map<string, { at: number; typing: boolean }>();
  #sending = 0;
  #sent: Array<() => void> = [];
  #closed = false;

  /** `typingIntervalMs`: typing indicators per person and channel at most this often. */
  constructor(deps: ChatDeps, access: ChatAccess, typingIntervalMs: number) {
    this.#d = deps;
    this.#access = access;
    this.#sendLimiter = new KeyedRateLimiter(deps.limits.messagesPerSec, deps.limits.messagesPerSec * 3);
    this.#typingIntervalMs = typingIntervalMs;
  }

  /** `system`: moim's own notices (not rate limited: they are not a person typing). */
  async send(
    me: ChatActor,
    input: SendInput,
    opts: { system?: boolean } = {},
  ): Promise<{ message: ChatMessage; duplicate: boolean }> {
    if (this.#closed) throw new MoimError('UNAVAILABLE', 'the server is shutting down');
    // per person: the same sub in another organisation is someone else
    if (opts.system !== true && !this.#sendLimiter.take(me.key ?? personKey(me.org, me.sub)))
      throw new MoimError('RATE_LIMITED', `at most ${this.#d.limits.messagesPerSec} messages per second`);
    if (input.text.length > this.#d.limits.maxMessageChars && countChars(input.text) > this.#d.limits.maxMessageChars)
      throw new MoimError('MESSAGE_TOO_LONG', `a message holds at most ${this.#d.limits.maxMessageChars} characters`);
    const attachmentIds = input.attachments?.length ? [...new Set(input.attachments)] : [];
    if (attachmentIds.length === 0 && !NON_BLANK.test(input.text))
      throw new MoimError('INVALID_PAYLOAD', 'a message needs text or an attachment');
    await this.#access.writable(me, input.channelId);
    const attachments: AttachmentRef[] = [];
    for (const id of attachmentIds) {
      const a = await this.#d.store.getAttachment(id);
      if (!a || a.channelId !== input.channelId)
        throw new MoimError('NOT_FOUND', `no attachment ${id} in this channel`);
      attachments.push({ id: a.id, name: a.name, type: a.type, size: a.size });
    }
    const mentions = input.mentions?.length ? [...new Set(input.mentions)].filter((s) => s !== me.sub) : [];
    // in flight until stored: close() waits for it (a counter, not a promise chain per message)
    this.#sending++;
    let stored: { message: StoredMessage; duplicate: boolean };
    try {
      stored = await this.#d.store.appendMessage({
        channelId: input.channelId,
        clientMsgId: input.clientMsgId,
        sender: me.sub,
        text: input.text,
        threadRoot: input.threadRoot ?? null,
        mentions,
        attachments,
      });
    } catch (err) {
      throw this.#access.storeError(err);
    } finally {
      if (--this.#sending === 0) for (const resolve of this.#sent.splice(0)) resolve();
    }
    const message = toMessage(stored.message);
    if (!stored.duplicate) {
      this.#d.bus.toChannel(input.channelId, 'chat:message', message);
      if (message.mentions.length) await this.#notifyMentions(me.org, message);
    }
    return { message, duplicate: stored.duplicate };
  }

  async history(me: ChatActor, q: HistoryQuery): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
    await this.#access.readable(me, q.channelId);
    const rows = await this.#d.store.history({ ...q, limit: q.limit + 1 });
    const more = rows.length > q.limit;
    // `before`/latest pages come ascending; the extra row is the oldest one
    const page = more ? (q.after !== undefined ? rows.slice(0, q.limit) : rows.slice(1)) : rows;
    return { messages: page.map(toMessage), hasMore: more };
  }

  async edit(me: ChatActor, channelId: string, seq: number, text: string): Promise<ChatMessage> {
    await this.#access.writable(me, channelId);
    if (countChars(text) > this.#d.limits.maxMessageChars)
      throw new MoimError('MESSAGE_TOO_LONG', `a message holds at most ${this.#d.limits.maxMessageChars} characters`);
    if (text.trim() === '') throw new MoimError('INVALID_PAYLOAD', 'use chat:delete to remove a message');
    const current = await this.#message(channelId, seq);
    if (current.sender !== me.sub) throw new MoimError('FORBIDDEN', 'only the sender edits a message');
    const message = toMessage(await this.#access.wrap(this.#d.store.editMessage(channelId, seq, text)));
    this.#d.bus.toChannel(channelId, 'chat:updated', message);
    return message;
  }

  async delete(me: ChatActor, channelId: string, seq: number): Promise<ChatMessage> {
    const { member } = await this.#access.writable(me, channelId);
    const current = await this.#message(channelId, seq);
    if (current.sender !== me.sub && member.role !== 'owner' && !me.isAdmin)
      throw new MoimError('FORBIDDEN', 'only the sender, channel owners and admins delete a message');
    const message = toMessage(await this.#access.wrap(this.#d.store.deleteMessage(channelId, seq)));
    if (current.sender !== me.sub)
      await this.#d.audit.append({
        actor: me.sub,
        org: me.org,
        action: 'chat.message.delete',
        target: channelId,
        detail: { seq, sender: current.sender },
      });
    this.#d.bus.toChannel(channelId, 'chat:updated', message);
    return message;
  }

  async react(me: ChatActor, channelId: string, seq: number, emoji: string, on: boolean): Promise<ChatMessage> {
    await this.#access.writable(me, channelId);
    const message = toMessage(await this.#access.wrap(this.#d.store.react(channelId, seq, me.sub, emoji, on)));
    this.#d.bus.toChannel(channelId, 'chat:updated', message);
    return message;
  }

  /** Ephemeral; throttled per person and channel (state changes pass sooner than repeats). */
  async typing(
    me: ChatActor,
    channelId: string,
    typing: boolean,
    exceptSocketId?: string,
  ): Promise<{ broadcast: boolean }> {
    const key = JSON.stringify([me.org, me.sub, channelId]);
    const now = performance.now();
    const last = this.#typing.get(key);
    const wait = last && last.typing === typing ? this.#typingIntervalMs : this.#typingIntervalMs / 10;
    if (last && now - last.at < wait) return { broadcast: false };
    await this.#access.writable(me, channelId);
    if (this.#typing.size > 100_000) this.#typing.clear();
    this.#typing.set(key, { at: now, typing });
    this.#d.bus.toChannel(channelId, 'chat:typing', { channelId, sub: me.sub, typing }, exceptSocketId);
    return { broadcast: true };
  }

  async read(me: ChatActor, channelId: string, seq: number): Promise<{ lastRead: number; unread: number }> {
    await this.#access.writable(me, channelId);
    const r = await this.#access.wrap(this.#d.store.markRead(channelId, me.sub, seq, UNREAD_CAP));
    this.#d.bus.toChannel(channelId, 'chat:receipt', { channelId, sub: me.sub, lastRead: r.lastRead });
    return r;
  }

  async receipts(me: ChatActor, channelId: string, after: string | undefined, limit: number) {
    await this.#access.readable(me, channelId);
    const rows = await this.#d.store.receipts(channelId, after, limit + 1);
    return { receipts: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  /** Wait for in-flight sends, then refuse new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sending > 0) await new Promise<void>((resolve) => this.#sent.push(resolve));
  }

  async #message(channelId: string, seq: number): Promise<StoredMessage> {
    const m = await this.#d.store.getMessage(channelId, seq);
    if (!m || m.deletedAt !== null) throw new MoimError('NOT_FOUND', `no message ${seq} in this channel`);
    return m;
  }

  async #notifyMentions(org: string, message: ChatMessage): Promise<void> {
    const notify: string[] = [];
    for (const sub of message.mentions) {
      const a = await this.#d.store.access(message.channelId, sub);
      if (a?.member) notify.push(sub);
    }
    const excerpt = message.text.length > EXCERPT_CHARS ? `${message.text.slice(0, EXCERPT_CHARS - 1)}…` : message.text;
    this.#d.bus.toPeople(org, notify, 'chat:mention', {
      channelId: message.channelId,
      seq: message.seq,
      sender: message.sender,
      excerpt,
    });
  }
}
