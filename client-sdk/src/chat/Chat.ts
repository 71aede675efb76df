/**
 * The SDK's chat (`client.chat`): channels and direct messages, the messages of subscribed
 * channels (merged by seq, caught up after a reconnect), sends with their pending state, edits,
 * reactions, threads, typing, receipts and unread counts. Kept apart: catch-up (catchUp.ts),
 * chat attachments (attachments.ts), types (types.ts).
 */
import type { AttachmentRef, Channel, ChatMessage, ChatResponses, MyChannel, RequestInput } from '@moim/protocol';
import { MoimError, TypedEmitter } from '@moim/protocol/client';
import { getLogger, LoggerNames } from '../logger.ts';
import { type MoimClient, toMoimError } from '../MoimClient.ts';
import { randomId } from '../token.ts';
import { attachmentLink, uploadAttachment } from './attachments.ts';
import { catchUp } from './catchUp.ts';
import { type ChannelState, type ChatEvents, newChannelState, type PendingMessage, type SendOptions } from './types.ts';

export type { ChatEvents, PendingMessage } from './types.ts';

const log = getLogger(LoggerNames.Chat);

const TYPING_RESEND_MS = 3000;
const TYPING_EXPIRES_MS = 6000;

/**
 * Chat: channels, direct messages, history, edits, reactions, threads, typing, receipts and
 * attachments. Subscribed channels catch up after a reconnect without gaps or duplicates
 * (subscribe first, then fetch everything after the last seq seen, merge by seq), and sends are
 * retried with the same client message id, which the server stores once.
 */
export class Chat extends TypedEmitter<ChatEvents> {
  readonly #client: MoimClient;
  readonly #state = new Map<string, ChannelState>();
  readonly #channels = new Map<string, MyChannel>();
  readonly #pending = new Map<string, PendingMessage>();
  readonly #typingSent = new Map<string, number>();
  /**
   * Per channel, the last seq the server's unread count covered (from the channel list, or when the
   * channel arrived), and the later seqs this client counted itself: a message is counted once,
   * whether it came live, in a first page of history, or before or after the list's answer.
   */
  readonly #base = new Map<string, number>();
  readonly #counted = new Map<string, Set<number>>();
  /** Channel the person is looking at: its messages do not count as unread. */
  activeChannel: string | null = null;

  constructor(client: MoimClient) {
    super();
    this.#client = client;
    client.onServer('chat:message', (m) => this.#onMessage(m));
    client.onServer('chat:updated', (m) => this.#onUpdated(m));
    client.onServer('chat:typing', (e) => this.#onTyping(e));
    client.onServer('chat:receipt', (e) => this.safeEmit('receipt', e));
    client.onServer('chat:mention', (e) => this.safeEmit('mention', e));
    client.onServer('chat:channel', ({ channel, change }) => {
      if (change === 'left') {
        this.#channels.delete(channel.id);
        const st = this.#state.get(channel.id);
        if (st) st.subscribed = false;
      } else {
        const known = this.#channels.get(channel.id);
        if (!known) this.#setBase(channel.id, channel.lastSeq);
        this.#channels.set(channel.id, {
          ...channel,
          role: known?.role ?? 'member',
          lastRead: known?.lastRead ?? 0,
          unread: known?.unread ?? 0,
        });
      }
      this.#emitChannels();
    });
    client.addRestorer('chat', () => this.#restore());
  }

  // ----------------------------------------------------------------------------- channels

  /** My channels with unread counts (cached; `channels` events follow changes). */
  async channels(): Promise<MyChannel[]> {
    const before = new Set(this.#channels.keys());
    const { channels } = await this.#client.request('chat:channels', {});
    // channels created, joined or opened while the list was on its way stay (the answer may predate them)
    const arrived = [...this.#channels.values()].filter((c) => !before.has(c.id));
    this.#channels.clear();
    for (const c of channels) {
      // what this client counted after the server's answer was computed stays counted
      const extra = [...(this.#counted.get(c.id) ?? [])].filter((seq) => seq > c.lastSeq);
      this.#setBase(c.id, c.lastSeq);
      this.#channels.set(
        c.id,
        extra.length ? { ...c, unread: c.unread + extra.length, lastSeq: Math.max(c.lastSeq, ...extra) } : c,
      );
    }
    for (const c of arrived) if (!this.#channels.has(c.id)) this.#channels.set(c.id, c);
    this.#emitChannels();
    return channels;
  }

  /** The last channel list fetched, kept current by events. */
  get myChannels(): MyChannel[] {
    return [...this.#channels.values()];
  }

  publicChannels(q: RequestInput<'chat:channels:public'> = {}): Promise<ChatResponses['chat:channels:public']> {
    return this.#client.request('chat:channels:public', q);
  }

  async createChannel(input: RequestInput<'chat:channel:create'>): Promise<Channel> {
    const ch = await this.#client.request('chat:channel:create', input);
    this.#setBase(ch.id, ch.lastSeq);
    this.#channels.set(ch.id, { ...ch, role: 'owner', lastRead: 0, unread: 0 });
    this.#emitChannels();
    return ch;
  }

  getChannel(channelId: string): Promise<ChatResponses['chat:channel:get']> {
    return this.#client.request('chat:channel:get', { channelId });
  }

  async join(channelId: string): Promise<Channel> {
    const ch = await this.#client.request('chat:join', { channelId });
    this.#setBase(ch.id, ch.lastSeq);
    this.#channels.set(ch.id, { ...ch, role: 'member', lastRead: 0, unread: 0 });
    this.#emitChannels();
    return ch;
  }

  async leave(channelId: string): Promise<void> {
    await this.#client.request('chat:leave', { channelId });
    this.#channels.delete(channelId);
    this.#state.delete(channelId);
    this.#emitChannels();
  }

  /** Open (or find) the direct message with these people. */
  async openDm(people: string[]): Promise<Channel> {
    const ch = await this.#client.request('chat:dm:open', { people });
    if (!this.#channels.has(ch.id)) {
      this.#setBase(ch.id, ch.lastSeq);
      this.#channels.set(ch.id, { ...ch, role: 'member', lastRead: 0, unread: 0 });
    }
    this.#emitChannels();
    return ch;
  }

  updateMembers(channelId: string, change: { add?: string[]; remove?: string[] }) {
    return this.#client.request('chat:members:update', { channelId, ...change });
  }

  members(channelId: string, q: { after?: string; limit?: number } = {}) {
    return this.#client.request('chat:members:list', { channelId, ...q });
  }

  setPolicy(channelId: string, policy: { downloadsAllowed: boolean }): Promise<Channel> {
    return this.#client.request('chat:policy:set', { channelId, policy });
  }

  // ----------------------------------------------------------------------------- messages

  /**
   * Receive a channel's live events and load it: the latest page the first time, everything
   * since the last seq seen afterwards. Resolves once the loaded timeline has no gap.
   */
  async subscribe(channelId: string): Promise<ChatMessage[]> {
    const st = this.#stateOf(channelId);
    const { lastSeq } = await this.#client.request('chat:subscribe', { channelId });
    st.subscribed = true;
    await this.#catchUp(st, lastSeq);
    return this.messages(channelId);
  }

  async unsubscribe(channelId: string): Promise<void> {
    const st = this.#state.get(channelId);
    if (st) st.subscribed = false;
    await this.#client.request('chat:unsubscribe', { channelId });
  }

  /** Loaded messages of a channel in order (thread replies included: filter on `threadRoot`). */
  messages(channelId: string): ChatMessage[] {
    const st = this.#state.get(channelId);
    return st ? [...st.messages.values()].sort((a, b) => a.seq - b.seq) : [];
  }

  /** Messages being sent in a channel. */
  pending(channelId: string): PendingMessage[] {
    return [...this.#pending.values()].filter((p) => p.channelId === channelId);
  }

  /** Whether older messages than those loaded exist. */
  hasOlder(channelId: string): boolean {
    return this.#state.get(channelId)?.hasOlder ?? true;
  }

  /** Load the page before the oldest loaded message. */
  async loadOlder(channelId: string, limit = 50): Promise<ChatMessage[]> {
    const st = this.#stateOf(channelId);
    if (st.oldest <= 1 && st.messages.size > 0) {
      st.hasOlder = false;
      return [];
    }
    const res = await this.#client.request('chat:history', {
      channelId,
      limit,
      ...(st.messages.size > 0 ? { before: st.oldest } : {}),
    });
    this.#merge(st, res.messages, false);
    st.hasOlder = res.hasMore;
    return res.messages;
  }

  /** The replies of one thread (loaded into the channel's messages too). */
  async thread(channelId: string, rootSeq: number): Promise<ChatMessage[]> {
    const st = this.#stateOf(channelId);
    const out: ChatMessage[] = [];
    let after = 0;
    for (;;) {
      const res = await this.#client.request('chat:history', { channelId, threadRoot: rootSeq, after, limit: 200 });
      this.#merge(st, res.messages, false);
      out.push(...res.messages);
      if (!res.hasMore || res.messages.length === 0) break;
      after = res.messages[res.messages.length - 1]!.seq;
    }
    return out;
  }

  /** A page of history (any direction), merged into what is loaded. */
  async history(q: RequestInput<'chat:history'>): Promise<ChatResponses['chat:history']> {
    const res = await this.#client.request('chat:history', q);
    this.#merge(this.#stateOf(q.channelId), res.messages, false);
    return res;
  }

  /**
   * Send a message. Acknowledged once the server stored it. A lost acknowledgement or a dropped
   * connection is retried with the same client message id, so it is stored exactly once.
   */
  async send(channelId: string, text: string, opts: SendOptions = {}): Promise<ChatMessage> {
    const clientMsgId = randomId(12);
    const pending: PendingMessage = {
      channelId,
      clientMsgId,
      text,
      threadRoot: opts.threadRoot ?? null,
      createdAt: Date.now(),
    };
    this.#pending.set(clientMsgId, pending);
    this.#emitPending(channelId);
    this.#typingSent.delete(channelId);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const { message } = await this.#client.request('chat:send', { channelId, clientMsgId, text, ...opts });
          this.#pending.delete(clientMsgId);
          this.#emitPending(channelId);
          const st = this.#state.get(channelId);
          if (st?.subscribed) this.#merge(st, [message], true);
          return message;
        } catch (err) {
          const retriable = err instanceof MoimError && (err.code === 'UNAVAILABLE' || err.code === 'RATE_LIMITED');
          if (!retriable || attempt >= 20 || this.#client.closed) throw err;
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
        }
      }
    } catch (err) {
      pending.error = err instanceof MoimError ? err : new MoimError('INTERNAL', String(err));
      this.#emitPending(channelId);
      throw err;
    }
  }

  /** Forget a failed pending message. */
  discard(clientMsgId: string): void {
    const p = this.#pending.get(clientMsgId);
    if (!p) return;
    this.#pending.delete(clientMsgId);
    this.#emitPending(p.channelId);
  }

  async edit(channelId: string, seq: number, text: string): Promise<ChatMessage> {
    const m = await this.#client.request('chat:edit', { channelId, seq, text });
    this.#onUpdated(m);
    return m;
  }

  async delete(channelId: string, seq: number): Promise<ChatMessage> {
    const m = await this.#client.request('chat:delete', { channelId, seq });
    this.#onUpdated(m);
    return m;
  }

  async react(channelId: string, seq: number, emoji: string, on = true): Promise<ChatMessage> {
    const m = await this.#client.request('chat:react', { channelId, seq, emoji, on });
    this.#onUpdated(m);
    return m;
  }

  /** Say that I am typing (sent at most every few seconds) or stopped. */
  typing(channelId: string, typing = true): void {
    const last = this.#typingSent.get(channelId);
    const now = Date.now();
    if (typing && last !== undefined && now - last < TYPING_RESEND_MS) return;
    if (!typing && last === undefined) return;
    if (typing) this.#typingSent.set(channelId, now);
    else this.#typingSent.delete(channelId);
    // best effort: a lost typing notice only delays the indicator, and the next one (or the message) corrects it
    this.#client
      .request('chat:typing', { channelId, typing })
      .catch((error: unknown) => log.debug('typing notice not sent', { channelId, typing, error }));
  }

  /** People typing in a channel now. */
  typingIn(channelId: string): string[] {
    return [...(this.#state.get(channelId)?.typing.keys() ?? [])];
  }

  /** Mark a channel read up to `seq` (default: the newest loaded message). */
  async read(channelId: string, seq?: number): Promise<void> {
    const upTo = seq ?? Math.max(0, ...this.messages(channelId).map((m) => m.seq));
    const ch = this.#channels.get(channelId);
    if (ch && ch.lastRead >= upTo && ch.unread === 0) return;
    const res = await this.#client.request('chat:read', { channelId, seq: upTo });
    if (ch) {
      ch.lastRead = res.lastRead;
      ch.unread = res.unread;
      this.#emitChannels();
    }
  }

  receipts(channelId: string, q: { after?: string; limit?: number } = {}) {
    return this.#client.request('chat:receipts', { channelId, ...q });
  }

  /** Upload a file to a channel; send its id in `send(…, { attachments: [id] })`. */
  upload(channelId: string, file: Blob, name: string): Promise<AttachmentRef> {
    return uploadAttachment(this.#client, channelId, file, name);
  }

  /** A short-lived download link (refused with POLICY_FORBIDS where the channel forbids downloads). */
  attachmentLink(channelId: string, attachmentId: string): Promise<{ url: string; expiresAt: number }> {
    return attachmentLink(this.#client, channelId, attachmentId);
  }

  // ----------------------------------------------------------------------------- internal

  #stateOf(channelId: string): ChannelState {
    let st = this.#state.get(channelId);
    if (!st) {
      st = newChannelState(channelId);
      this.#state.set(channelId, st);
    }
    return st;
  }

  /** Fetch everything after `through` (or the latest page the first time) up to at least `lastSeq`. */
  #catchUp(st: ChannelState, lastSeq: number): Promise<void> {
    return catchUp(this.#client, st, lastSeq, (messages, announce) => this.#merge(st, messages, announce));
  }

  /** Add messages, dropping those already loaded (by seq); `live` ones are announced. */
  #merge(st: ChannelState, messages: ChatMessage[], announce: boolean): void {
    // a root loaded in this same batch already carries the server's reply count
    const batch = new Set(messages.map((m) => m.seq));
    for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
      const known = st.messages.get(m.seq);
      st.messages.set(m.seq, m);
      st.oldest = Math.min(st.oldest, m.seq);
      if (known) {
        if (known.editedAt !== m.editedAt || known.deletedAt !== m.deletedAt || known.replyCount !== m.replyCount)
          this.safeEmit('updated', m);
        continue;
      }
      this.#pendingDone(m);
      // a message newer than the server's count is unread whether it came live or in a page of history
      this.#countUnread(m);
      if (announce) {
        this.safeEmit('message', m);
        // a live reply: its thread's root counts it at once (the server's count comes with the next load)
        const root = m.threadRoot !== null && !batch.has(m.threadRoot) ? st.messages.get(m.threadRoot) : undefined;
        if (root) {
          const counted = { ...root, replyCount: root.replyCount + 1 };
          st.messages.set(root.seq, counted);
          this.safeEmit('updated', counted);
        }
      }
    }
  }

  #onMessage(m: ChatMessage): void {
    const st = this.#state.get(m.channelId);
    if (!st?.subscribed) {
      this.#countUnread(m);
      return;
    }
    this.#clearTyping(st, m.sender);
    if (st.messages.has(m.seq)) return;
    // a gap before this message (missed events): fetch it before announcing anything
    if (m.seq > st.through + 1 && st.through > 0) {
      void this.#catchUp(st, m.seq).catch((err: unknown) => {
        // the gap stays (`through` did not move): the next message or the reconnect's catch-up retries it
        const error = toMoimError(err, 'UNAVAILABLE');
        log.warn('catching up a gap in a channel failed', { channelId: st.id, through: st.through, seq: m.seq, error });
        this.#client.safeEmit(
          'error',
          new MoimError(error.code, `catching up channel ${st.id} failed: ${error.message}`, { cause: err }),
        );
      });
      return;
    }
    this.#merge(st, [m], true);
    st.through = Math.max(st.through, m.seq);
  }

  #onUpdated(m: ChatMessage): void {
    const st = this.#state.get(m.channelId);
    if (st?.messages.has(m.seq)) st.messages.set(m.seq, m);
    this.safeEmit('updated', m);
  }

  #onTyping(e: { channelId: string; sub: string; typing: boolean }): void {
    if (e.sub === this.#client.me.sub) return;
    const st = this.#stateOf(e.channelId);
    if (e.typing) {
      clearTimeout(st.typing.get(e.sub));
      st.typing.set(
        e.sub,
        setTimeout(() => this.#clearTyping(st, e.sub), TYPING_EXPIRES_MS),
      );
      this.safeEmit('typing', e);
    } else this.#clearTyping(st, e.sub);
  }

  #clearTyping(st: ChannelState, sub: string): void {
    const timer = st.typing.get(sub);
    if (timer === undefined) return;
    clearTimeout(timer);
    st.typing.delete(sub);
    this.safeEmit('typing', { channelId: st.id, sub, typing: false });
  }

  #countUnread(m: ChatMessage): void {
    const ch = this.#channels.get(m.channelId);
    if (!ch) return;
    ch.lastSeq = Math.max(ch.lastSeq, m.seq);
    // already in the server's count
    if (m.seq <= (this.#base.get(m.channelId) ?? 0)) return;
    if (m.sender === this.#client.me.sub || this.activeChannel === m.channelId || m.seq <= ch.lastRead) return;
    let counted = this.#counted.get(m.channelId);
    if (!counted) {
      counted = new Set();
      this.#counted.set(m.channelId, counted);
    }
    if (counted.has(m.seq)) return;
    counted.add(m.seq);
    // bounded: the oldest counted seqs go first (the unread count itself stops at the server's cap)
    if (counted.size > 1000) counted.delete(counted.values().next().value!);
    ch.unread++;
    this.#emitChannels();
  }

  /** The server's unread count of a channel covers messages up to `lastSeq`. */
  #setBase(channelId: string, lastSeq: number): void {
    this.#base.set(channelId, lastSeq);
    const counted = this.#counted.get(channelId);
    if (counted) for (const seq of counted) if (seq <= lastSeq) counted.delete(seq);
  }

  #pendingDone(m: ChatMessage): void {
    if (!this.#pending.delete(m.clientMsgId)) return;
    this.#emitPending(m.channelId);
  }

  #emitPending(channelId: string): void {
    this.safeEmit('pending', { channelId, pending: this.pending(channelId) });
  }

  #emitChannels(): void {
    this.safeEmit('channels', this.myChannels);
  }

  async #restore(): Promise<void> {
    if (this.#channels.size > 0) await this.channels();
    for (const st of this.#state.values()) {
      if (!st.subscribed) continue;
      const { lastSeq } = await this.#client.request('chat:subscribe', { channelId: st.id });
      await this.#catchUp(st, lastSeq);
    }
  }
}
