import { createHash, randomUUID } from 'node:crypto';
import {
  type AttachmentRef,
  type Channel,
  type ChannelPolicy,
  type ChatMessage,
  MoimError,
  type MyChannel,
} from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';
import { KeyedRateLimiter } from '../lib/RateLimiter.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import {
  type ChatStore,
  ChatStoreError,
  type NewChannel,
  type StoredChannel,
  type StoredMember,
  type StoredMessage,
} from '../storage/ChatStore.ts';
import type { ChatBus } from './ChatBus.ts';

/** The caller, from their verified token. */
export interface ChatActor {
  sub: string;
  org: string;
  site: string;
  isAdmin: boolean;
}

export interface ChatLimits {
  maxMessageChars: number;
  messagesPerSec: number;
  maxMembers: number;
}

export interface ChatServiceOptions {
  store: ChatStore;
  bus: ChatBus;
  audit: AuditStore;
  log: Logger;
  limits: ChatLimits;
  /** Typing indicators per person and channel at most this often. @default 1000 */
  typingIntervalMs?: number;
}

const UNREAD_CAP = 1000;
const DM_MAX = 8;
const EXCERPT_CHARS = 140;
/** Anything but white space (a blank message needs an attachment). */
const NON_BLANK = /\S/;

/**
 * Chat: channels, direct messages, messages with seq order and idempotent client ids, history,
 * edits, reactions, threads, mentions, typing, receipts. Everything durable goes through the
 * ChatStore; live events through the ChatBus. Access rules are in @moim/protocol chat.ts.
 */
export class ChatService {
  readonly #store: ChatStore;
  readonly #bus: ChatBus;
  readonly #audit: AuditStore;
  readonly #log: Logger;
  readonly #limits: ChatLimits;
  readonly #sendLimiter: KeyedRateLimiter;
  readonly #typingIntervalMs: number;
  readonly #typing = new Map<string, { at: number; typing: boolean }>();
  /** People already made members of their site channel (saves a write per call). */
  readonly #siteJoined = new Set<string>();
  #sending = 0;
  #sent: Array<() => void> = [];
  #closed = false;

  constructor(opts: ChatServiceOptions) {
    this.#store = opts.store;
    this.#bus = opts.bus;
    this.#audit = opts.audit;
    this.#log = opts.log;
    this.#limits = opts.limits;
    this.#sendLimiter = new KeyedRateLimiter(opts.limits.messagesPerSec, opts.limits.messagesPerSec * 3);
    this.#typingIntervalMs = opts.typingIntervalMs ?? 1000;
  }

  // ── channels ──────────────────────────────────────────────────────────────

  /** My channels with unread counts; my site's channel is created and joined on first use. */
  async myChannels(me: ChatActor): Promise<MyChannel[]> {
    await this.ensureSiteChannel(me).catch((err: unknown) =>
      this.#log.warn({ err, sub: me.sub, site: me.site }, 'chat: could not join the site channel'),
    );
    const rows = await this.#store.myChannels(me.sub, me.org, UNREAD_CAP);
    return rows.map((r) => ({ ...toChannel(r.channel), role: r.role, lastRead: r.lastRead, unread: r.unread }));
  }

  /** The channel of the person's site (`site-<site>`), created on first use, with the person in it. */
  async ensureSiteChannel(me: ChatActor): Promise<StoredChannel> {
    const id = siteChannelId(me.org, me.site);
    const key = JSON.stringify([me.org, me.sub, id]);
    if (this.#siteJoined.has(key)) {
      const c = await this.#store.getChannel(id);
      if (c) return c;
    }
    // site channels hold everyone at the site: the per-channel member limit does not apply
    const channel = await this.#wrap(
      this.#store.ensureChannel(
        {
          id,
          org: me.org,
          kind: 'site',
          name: me.site,
          topic: `Everyone at ${me.site}`,
          site: me.site,
          createdBy: 'system',
          members: [{ sub: me.sub, role: 'member' }],
        },
        Number.MAX_SAFE_INTEGER,
      ),
    );
    if (this.#siteJoined.size > 100_000) this.#siteJoined.clear();
    this.#siteJoined.add(key);
    return channel;
  }

  async publicChannels(
    me: ChatActor,
    after: string | undefined,
    limit: number,
  ): Promise<{ channels: Channel[]; hasMore: boolean }> {
    const rows = await this.#store.publicChannels(me.org, after, limit + 1);
    return { channels: rows.slice(0, limit).map(toChannel), hasMore: rows.length > limit };
  }

  async createChannel(
    me: ChatActor,
    input: {
      name: string;
      kind: 'public' | 'private';
      topic?: string | undefined;
      members?: readonly string[] | undefined;
      policy?: ChannelPolicy | undefined;
    },
  ): Promise<Channel> {
    const others = [...new Set(input.members ?? [])].filter((s) => s !== me.sub);
    const c: NewChannel = {
      id: `ch-${randomUUID()}`,
      org: me.org,
      kind: input.kind,
      name: input.name,
      topic: input.topic ?? null,
      createdBy: me.sub,
      members: [{ sub: me.sub, role: 'owner' }, ...others.map((sub) => ({ sub, role: 'member' as const }))],
      ...(input.policy ? { policy: input.policy } : {}),
    };
    const channel = await this.#wrap(this.#store.createChannel(c, this.#limits.maxMembers));
    await this.#audit.append({
      actor: me.sub,
      action: 'chat.channel.create',
      target: channel.id,
      detail: { kind: channel.kind, name: channel.name, members: others.length + 1, policy: channel.policy },
    });
    const view = toChannel(channel);
    this.#bus.toPeople(me.org, others, 'chat:channel', { channel: view, change: 'joined' });
    return view;
  }

  async getChannel(
    me: ChatActor,
    channelId: string,
  ): Promise<{ channel: Channel; member: boolean; role: 'owner' | 'member' | null }> {
    const { channel, member } = await this.#readable(me, channelId);
    return { channel: toChannel(channel), member: member !== undefined, role: member?.role ?? null };
  }

  /** Join a public or site channel. */
  async join(me: ChatActor, channelId: string): Promise<Channel> {
    const { channel, member } = await this.#visible(me, channelId);
    if (channel.kind !== 'public' && channel.kind !== 'site')
      throw new MoimError('NOT_A_MEMBER', 'private channels and direct messages are joined by invitation');
    if (member) return toChannel(channel);
    const limit = channel.kind === 'site' ? Number.MAX_SAFE_INTEGER : this.#limits.maxMembers;
    await this.#wrap(this.#store.addMembers(channelId, [me.sub], 'member', limit));
    await this.#audit.append({ actor: me.sub, action: 'chat.channel.join', target: channelId });
    return toChannel((await this.#store.getChannel(channelId)) ?? channel);
  }

  async leave(me: ChatActor, channelId: string): Promise<void> {
    const { channel, member } = await this.#visible(me, channelId);
    if (!member) throw new MoimError('NOT_A_MEMBER', 'not a member of this channel');
    if (channel.kind === 'dm') throw new MoimError('FORBIDDEN', 'a direct message cannot be left');
    if (channel.kind === 'site' && channel.site === me.site)
      throw new MoimError('FORBIDDEN', 'everyone is a member of their own site channel');
    await this.#store.removeMembers(channelId, [me.sub]);
    if (channel.kind === 'private') this.#bus.evict(channel.org, me.sub, channelId);
    await this.#audit.append({ actor: me.sub, action: 'chat.channel.leave', target: channelId });
    this.#bus.toPeople(channel.org, [me.sub], 'chat:channel', { channel: toChannel(channel), change: 'left' });
  }

  async updateMembers(
    me: ChatActor,
    channelId: string,
    add: readonly string[],
    remove: readonly string[],
  ): Promise<{ added: string[]; removed: string[]; memberCount: number }> {
    const { channel, member } = await this.#visible(me, channelId);
    if (channel.kind === 'dm' || channel.kind === 'site')
      throw new MoimError(
        'FORBIDDEN',
        `members of ${channel.kind === 'dm' ? 'a direct message' : 'a site channel'} cannot be changed`,
      );
    const manager = me.isAdmin || member?.role === 'owner';
    if (!manager) {
      if (channel.kind === 'private' || !member)
        throw new MoimError('FORBIDDEN', 'only owners and admins change the members of this channel');
      if (remove.some((s) => s !== me.sub))
        throw new MoimError('FORBIDDEN', 'only owners and admins remove other members');
    }
    const added = add.length
      ? await this.#wrap(this.#store.addMembers(channelId, add, 'member', this.#limits.maxMembers))
      : [];
    const removed = remove.length ? await this.#store.removeMembers(channelId, remove) : [];
    const after = (await this.#store.getChannel(channelId)) ?? channel;
    if (added.length || removed.length)
      await this.#audit.append({
        actor: me.sub,
        action: 'chat.members.update',
        target: channelId,
        detail: { added, removed },
      });
    const view = toChannel(after);
    this.#bus.toPeople(channel.org, added, 'chat:channel', { channel: view, change: 'joined' });
    for (const sub of removed) if (channel.kind === 'private') this.#bus.evict(channel.org, sub, channelId);
    this.#bus.toPeople(channel.org, removed, 'chat:channel', { channel: view, change: 'left' });
    return { added, removed, memberCount: after.memberCount };
  }

  async listMembers(me: ChatActor, channelId: string, after: string | undefined, limit: number) {
    await this.#readable(me, channelId);
    const rows = await this.#store.listMembers(channelId, after, limit + 1);
    return {
      members: rows.slice(0, limit).map((m) => ({ sub: m.sub, role: m.role, joinedAt: m.joinedAt })),
      hasMore: rows.length > limit,
    };
  }

  async setPolicy(me: ChatActor, channelId: string, policy: ChannelPolicy): Promise<Channel> {
    const { channel, member } = await this.#visible(me, channelId);
    if (!me.isAdmin && member?.role !== 'owner')
      throw new MoimError('FORBIDDEN', 'only owners and admins change a channel policy');
    const updated = await this.#wrap(this.#store.setPolicy(channelId, policy));
    await this.#audit.append({
      actor: me.sub,
      action: 'chat.policy.set',
      target: channelId,
      detail: { before: channel.policy, after: policy },
    });
    const view = toChannel(updated);
    this.#bus.toChannel(channelId, 'chat:channel', { channel: view, change: 'policy' });
    return view;
  }

  /** The direct message of me and these people; the same set always gives the same channel id. */
  async openDm(me: ChatActor, people: readonly string[]): Promise<Channel> {
    const members = [...new Set([me.sub, ...people])].sort();
    if (members.length > DM_MAX) throw new MoimError('CHANNEL_FULL', `a direct message holds at most ${DM_MAX} people`);
    const id = `dm-${createHash('sha256')
      .update(JSON.stringify([me.org, members]))
      .digest('hex')
      .slice(0, 32)}`;
    const existing = await this.#store.getChannel(id);
    if (existing) return toChannel(existing);
    const channel = await this.#wrap(
      this.#store.ensureChannel(
        {
          id,
          org: me.org,
          kind: 'dm',
          name: members.join(', ').slice(0, 80),
          createdBy: me.sub,
          members: members.map((sub) => ({ sub, role: 'member' as const })),
        },
        Math.max(this.#limits.maxMembers, DM_MAX),
      ),
    );
    const view = toChannel(channel);
    this.#bus.toPeople(
      me.org,
      members.filter((s) => s !== me.sub),
      'chat:channel',
      { channel: view, change: 'joined' },
    );
    return view;
  }

  /** Access check for `chat:subscribe`; the caller joins the room once this resolved. */
  async subscribable(me: ChatActor, channelId: string): Promise<{ lastSeq: number }> {
    const { channel } = await this.#readable(me, channelId);
    return { lastSeq: channel.lastSeq };
  }

  // ── messages ──────────────────────────────────────────────────────────────

  async send(
    me: ChatActor,
    input: {
      channelId: string;
      clientMsgId: string;
      text: string;
      threadRoot?: number | undefined;
      mentions?: readonly string[] | undefined;
      attachments?: readonly string[] | undefined;
    },
  ): Promise<{ message: ChatMessage; duplicate: boolean }> {
    if (this.#closed) throw new MoimError('UNAVAILABLE', 'the server is shutting down');
    // per person: the same sub in another organisation is someone else
    if (!this.#sendLimiter.take(personKey(me.org, me.sub)))
      throw new MoimError('RATE_LIMITED', `at most ${this.#limits.messagesPerSec} messages per second`);
    if (input.text.length > this.#limits.maxMessageChars && countChars(input.text) > this.#limits.maxMessageChars)
      throw new MoimError('MESSAGE_TOO_LONG', `a message holds at most ${this.#limits.maxMessageChars} characters`);
    const attachmentIds = input.attachments?.length ? [...new Set(input.attachments)] : [];
    if (attachmentIds.length === 0 && !NON_BLANK.test(input.text))
      throw new MoimError('INVALID_PAYLOAD', 'a message needs text or an attachment');
    await this.#writable(me, input.channelId);
    const attachments: AttachmentRef[] = [];
    for (const id of attachmentIds) {
      const a = await this.#store.getAttachment(id);
      if (!a || a.channelId !== input.channelId)
        throw new MoimError('NOT_FOUND', `no attachment ${id} in this channel`);
      attachments.push({ id: a.id, name: a.name, type: a.type, size: a.size });
    }
    const mentions = input.mentions?.length ? [...new Set(input.mentions)].filter((s) => s !== me.sub) : [];
    // in flight until stored: close() waits for it (a counter, not a promise chain per message)
    this.#sending++;
    let stored: { message: StoredMessage; duplicate: boolean };
    try {
      stored = await this.#store.appendMessage({
        channelId: input.channelId,
        clientMsgId: input.clientMsgId,
        sender: me.sub,
        text: input.text,
        threadRoot: input.threadRoot ?? null,
        mentions,
        attachments,
      });
    } catch (err) {
      throw this.#storeError(err);
    } finally {
      if (--this.#sending === 0) for (const resolve of this.#sent.splice(0)) resolve();
    }
    const message = toMessage(stored.message);
    if (!stored.duplicate) {
      this.#bus.toChannel(input.channelId, 'chat:message', message);
      if (message.mentions.length) await this.#notifyMentions(me.org, message);
    }
    return { message, duplicate: stored.duplicate };
  }

  async history(
    me: ChatActor,
    q: {
      channelId: string;
      before?: number | undefined;
      after?: number | undefined;
      threadRoot?: number | undefined;
      limit: number;
    },
  ): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
    await this.#readable(me, q.channelId);
    const rows = await this.#store.history({ ...q, limit: q.limit + 1 });
    const more = rows.length > q.limit;
    // `before`/latest pages come ascending; the extra row is the oldest one
    const page = more ? (q.after !== undefined ? rows.slice(0, q.limit) : rows.slice(1)) : rows;
    return { messages: page.map(toMessage), hasMore: more };
  }

  async edit(me: ChatActor, channelId: string, seq: number, text: string): Promise<ChatMessage> {
    await this.#writable(me, channelId);
    if (countChars(text) > this.#limits.maxMessageChars)
      throw new MoimError('MESSAGE_TOO_LONG', `a message holds at most ${this.#limits.maxMessageChars} characters`);
    if (text.trim() === '') throw new MoimError('INVALID_PAYLOAD', 'use chat:delete to remove a message');
    const current = await this.#message(channelId, seq);
    if (current.sender !== me.sub) throw new MoimError('FORBIDDEN', 'only the sender edits a message');
    const message = toMessage(await this.#wrap(this.#store.editMessage(channelId, seq, text)));
    this.#bus.toChannel(channelId, 'chat:updated', message);
    return message;
  }

  async delete(me: ChatActor, channelId: string, seq: number): Promise<ChatMessage> {
    const { member } = await this.#writable(me, channelId);
    const current = await this.#message(channelId, seq);
    if (current.sender !== me.sub && member.role !== 'owner' && !me.isAdmin)
      throw new MoimError('FORBIDDEN', 'only the sender, channel owners and admins delete a message');
    const message = toMessage(await this.#wrap(this.#store.deleteMessage(channelId, seq)));
    if (current.sender !== me.sub)
      await this.#audit.append({
        actor: me.sub,
        action: 'chat.message.delete',
        target: channelId,
        detail: { seq, sender: current.sender },
      });
    this.#bus.toChannel(channelId, 'chat:updated', message);
    return message;
  }

  async react(me: ChatActor, channelId: string, seq: number, emoji: string, on: boolean): Promise<ChatMessage> {
    await this.#writable(me, channelId);
    const message = toMessage(await this.#wrap(this.#store.react(channelId, seq, me.sub, emoji, on)));
    this.#bus.toChannel(channelId, 'chat:updated', message);
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
    await this.#writable(me, channelId);
    if (this.#typing.size > 100_000) this.#typing.clear();
    this.#typing.set(key, { at: now, typing });
    this.#bus.toChannel(channelId, 'chat:typing', { channelId, sub: me.sub, typing }, exceptSocketId);
    return { broadcast: true };
  }

  async read(me: ChatActor, channelId: string, seq: number): Promise<{ lastRead: number; unread: number }> {
    await this.#writable(me, channelId);
    const r = await this.#wrap(this.#store.markRead(channelId, me.sub, seq, UNREAD_CAP));
    this.#bus.toChannel(channelId, 'chat:receipt', { channelId, sub: me.sub, lastRead: r.lastRead });
    return r;
  }

  async receipts(me: ChatActor, channelId: string, after: string | undefined, limit: number) {
    await this.#readable(me, channelId);
    const rows = await this.#store.receipts(channelId, after, limit + 1);
    return { receipts: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  // ── access (used by the attachment routes too) ────────────────────────────

  /** The channel if it exists in my organisation (NOT_FOUND otherwise: other orgs' ids are not revealed). */
  async #visible(
    me: ChatActor,
    channelId: string,
  ): Promise<{ channel: StoredChannel; member: StoredMember | undefined }> {
    const a = await this.#store.access(channelId, me.sub);
    if (!a || a.channel.org !== me.org) throw new MoimError('NOT_FOUND', `no channel ${channelId}`);
    return a;
  }

  /** Read access: public and site channels for everyone in the org, the others for members. */
  async #readable(
    me: ChatActor,
    channelId: string,
  ): Promise<{ channel: StoredChannel; member: StoredMember | undefined }> {
    const a = await this.#visible(me, channelId);
    if (!a.member && a.channel.kind !== 'public' && a.channel.kind !== 'site')
      throw new MoimError('NOT_A_MEMBER', 'this channel is for its members only');
    return a;
  }

  /** Write access: members only. */
  async #writable(me: ChatActor, channelId: string): Promise<{ channel: StoredChannel; member: StoredMember }> {
    const a = await this.#visible(me, channelId);
    if (!a.member) throw new MoimError('NOT_A_MEMBER', 'join the channel first');
    return { channel: a.channel, member: a.member };
  }

  readable(me: ChatActor, channelId: string) {
    return this.#readable(me, channelId);
  }

  writable(me: ChatActor, channelId: string) {
    return this.#writable(me, channelId);
  }

  /** Wait for in-flight sends, then refuse new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sending > 0) await new Promise<void>((resolve) => this.#sent.push(resolve));
  }

  async #message(channelId: string, seq: number): Promise<StoredMessage> {
    const m = await this.#store.getMessage(channelId, seq);
    if (!m || m.deletedAt !== null) throw new MoimError('NOT_FOUND', `no message ${seq} in this channel`);
    return m;
  }

  async #notifyMentions(org: string, message: ChatMessage): Promise<void> {
    const notify: string[] = [];
    for (const sub of message.mentions) {
      const a = await this.#store.access(message.channelId, sub);
      if (a?.member) notify.push(sub);
    }
    const excerpt = message.text.length > EXCERPT_CHARS ? `${message.text.slice(0, EXCERPT_CHARS - 1)}…` : message.text;
    this.#bus.toPeople(org, notify, 'chat:mention', {
      channelId: message.channelId,
      seq: message.seq,
      sender: message.sender,
      excerpt,
    });
  }

  /** Map store refusals to protocol codes. */
  async #wrap<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw this.#storeError(err);
    }
  }

  #storeError(err: unknown): MoimError {
    // the store already named the failure (STORAGE_FULL on a full disk): pass it on unchanged
    if (err instanceof MoimError) return err;
    if (!(err instanceof ChatStoreError)) {
      this.#log.error({ err }, 'chat store failed');
      return new MoimError('UNAVAILABLE', 'chat storage failed; retry', { cause: err });
    }
    switch (err.reason) {
      case 'channel-full':
        return new MoimError('CHANNEL_FULL', err.message);
      case 'exists':
        return new MoimError('CONFLICT', err.message);
      default:
        return new MoimError('NOT_FOUND', err.message);
    }
  }
}

/** `site-<site>` for the default organisation, with a short org hash otherwise. */
export function siteChannelId(org: string, site: string): string {
  if (org === 'default') return `site-${site}`;
  return `site-${site}-${createHash('sha256').update(org).digest('hex').slice(0, 8)}`;
}

function countChars(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function toChannel(c: StoredChannel): Channel {
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    topic: c.topic,
    site: c.site,
    createdBy: c.createdBy,
    createdAt: c.createdAt,
    policy: { ...c.policy },
    lastSeq: c.lastSeq,
    memberCount: c.memberCount,
  };
}

function toMessage(m: StoredMessage): ChatMessage {
  return m;
}
