/**
 * Chat channels and their members: my channels with unread counts, the site channel everyone at a
 * site is in, public channel listing, creating channels, joining and leaving, member changes,
 * channel policies, direct messages, and the access check of `chat:subscribe`. Messages are in
 * ChatMessages.ts; ChatService is the facade the rest of the server uses.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Channel, type ChannelPolicy, MoimError, type MyChannel } from '@moim/protocol';
import type { NewChannel, StoredChannel } from '../storage/ChatStore.ts';
import type { ChatAccess } from './ChatAccess.ts';
import {
  type ChatActor,
  type ChatDeps,
  orgChannelId,
  siteChannelId,
  teamChannelId,
  toChannel,
  UNREAD_CAP,
} from './model.ts';

const DM_MAX = 8;
/** Team channels made from one token's teams (the token may list up to 50). */
const TEAM_CHANNELS_MAX = 20;
/** Rows a search of the public channels reads at most per request (the rest is the next page). */
const SEARCH_SCAN_MAX = 2000;

/** Text compared without case or width (ｋｉｍ = kim) and in one Unicode form. */
function searchKey(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

export interface NewChannelInput {
  name: string;
  kind: 'public' | 'private';
  topic?: string | undefined;
  members?: readonly string[] | undefined;
  policy?: ChannelPolicy | undefined;
}

export class ChatChannels {
  readonly #d: ChatDeps;
  readonly #access: ChatAccess;
  /** People already made members of their site channel (saves a write per call). */
  readonly #siteJoined = new Set<string>();

  constructor(deps: ChatDeps, access: ChatAccess) {
    this.#d = deps;
    this.#access = access;
  }

  /** My channels with unread counts; my site's channel is created and joined on first use. */
  async myChannels(me: ChatActor): Promise<MyChannel[]> {
    await this.ensureSiteChannel(me).catch((err: unknown) =>
      this.#d.log.warn({ err, sub: me.sub, site: me.site }, 'chat: could not join the site channel'),
    );
    await this.#ensureOrgAndTeamChannels(me).catch((err: unknown) =>
      this.#d.log.warn({ err, sub: me.sub }, 'chat: could not join the organisation or team channels'),
    );
    const rows = await this.#d.store.myChannels(me.sub, me.org, UNREAD_CAP);
    return rows.map((r) => ({ ...toChannel(r.channel), role: r.role, lastRead: r.lastRead, unread: r.unread }));
  }

  /** The channel of the person's site (`site-<site>`), created on first use, with the person in it. */
  async ensureSiteChannel(me: ChatActor): Promise<StoredChannel> {
    const id = siteChannelId(me.org, me.site);
    const key = JSON.stringify([me.org, me.sub, id]);
    if (this.#siteJoined.has(key)) {
      const c = await this.#d.store.getChannel(id);
      if (c) return c;
    }
    // site channels hold everyone at the site: the per-channel member limit does not apply
    const channel = await this.#access.wrap(
      this.#d.store.ensureChannel(
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

  /**
   * The organisation's channel everyone is in, and a private channel per team of the token
   * (created and joined on first use, like the site channel).
   */
  async #ensureOrgAndTeamChannels(me: ChatActor): Promise<void> {
    const wanted: Array<Omit<NewChannel, 'members' | 'org' | 'createdBy'>> = [
      { id: orgChannelId(me.org), kind: 'public', name: 'everyone', topic: null },
      ...[...new Set(me.teams ?? [])].slice(0, TEAM_CHANNELS_MAX).map((team) => ({
        id: teamChannelId(me.org, team),
        kind: 'private' as const,
        name: team.slice(0, 80),
        topic: null,
      })),
    ];
    for (const c of wanted) {
      const key = JSON.stringify([me.org, me.sub, c.id]);
      if (this.#siteJoined.has(key)) continue;
      await this.#access.wrap(
        this.#d.store.ensureChannel(
          { ...c, org: me.org, createdBy: 'system', members: [{ sub: me.sub, role: 'member' }] },
          Number.MAX_SAFE_INTEGER,
        ),
      );
      if (this.#siteJoined.size > 100_000) this.#siteJoined.clear();
      this.#siteJoined.add(key);
    }
  }

  /** Public and site channels, by id; with `q`, those whose name or topic contains it. */
  async publicChannels(
    me: ChatActor,
    after: string | undefined,
    limit: number,
    q?: string,
  ): Promise<{ channels: Channel[]; hasMore: boolean }> {
    const needle = q ? searchKey(q) : '';
    if (!needle) {
      const rows = await this.#d.store.publicChannels(me.org, after, limit + 1);
      return { channels: rows.slice(0, limit).map(toChannel), hasMore: rows.length > limit };
    }
    // a bounded scan: a page of matches, or as many rows as one request may read
    const found: StoredChannel[] = [];
    let cursor = after;
    let scanned = 0;
    const page = 200;
    for (;;) {
      const rows = await this.#d.store.publicChannels(me.org, cursor, page);
      for (const r of rows) {
        cursor = r.id;
        scanned++;
        if (searchKey(`${r.name}\n${r.topic ?? ''}\n${r.site ?? ''}`).includes(needle)) found.push(r);
        if (found.length > limit) return { channels: found.slice(0, limit).map(toChannel), hasMore: true };
      }
      if (rows.length < page) return { channels: found.map(toChannel), hasMore: false };
      if (scanned >= SEARCH_SCAN_MAX) return { channels: found.map(toChannel), hasMore: true };
    }
  }

  async createChannel(me: ChatActor, input: NewChannelInput): Promise<Channel> {
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
    const channel = await this.#access.wrap(this.#d.store.createChannel(c, this.#d.limits.maxMembers));
    await this.#d.audit.append({
      actor: me.sub,
      org: me.org,
      action: 'chat.channel.create',
      target: channel.id,
      detail: { kind: channel.kind, name: channel.name, members: others.length + 1, policy: channel.policy },
    });
    const view = toChannel(channel);
    this.#d.bus.toPeople(me.org, others, 'chat:channel', { channel: view, change: 'joined' });
    return view;
  }

  async getChannel(
    me: ChatActor,
    channelId: string,
  ): Promise<{ channel: Channel; member: boolean; role: 'owner' | 'member' | null }> {
    const { channel, member } = await this.#access.readable(me, channelId);
    return { channel: toChannel(channel), member: member !== undefined, role: member?.role ?? null };
  }

  /** Join a public or site channel. */
  async join(me: ChatActor, channelId: string): Promise<Channel> {
    const { channel, member } = await this.#access.visible(me, channelId);
    if (channel.kind !== 'public' && channel.kind !== 'site')
      throw new MoimError('NOT_A_MEMBER', 'private channels and direct messages are joined by invitation');
    if (member) return toChannel(channel);
    const limit = channel.kind === 'site' ? Number.MAX_SAFE_INTEGER : this.#d.limits.maxMembers;
    await this.#access.wrap(this.#d.store.addMembers(channelId, [me.sub], 'member', limit));
    await this.#d.audit.append({ actor: me.sub, org: me.org, action: 'chat.channel.join', target: channelId });
    return toChannel((await this.#d.store.getChannel(channelId)) ?? channel);
  }

  async leave(me: ChatActor, channelId: string): Promise<void> {
    const { channel, member } = await this.#access.visible(me, channelId);
    if (!member) throw new MoimError('NOT_A_MEMBER', 'not a member of this channel');
    if (channel.kind === 'dm') throw new MoimError('FORBIDDEN', 'a direct message cannot be left');
    if (channel.kind === 'site' && channel.site === me.site)
      throw new MoimError('FORBIDDEN', 'everyone is a member of their own site channel');
    if (channelId === orgChannelId(me.org))
      throw new MoimError('FORBIDDEN', 'everyone is a member of the organisation’s channel');
    if ((me.teams ?? []).some((team) => teamChannelId(me.org, team) === channelId))
      throw new MoimError('FORBIDDEN', 'team channels follow the teams of the sign-in');
    await this.#d.store.removeMembers(channelId, [me.sub]);
    if (channel.kind === 'private') this.#d.bus.evict(channel.org, me.sub, channelId);
    await this.#d.audit.append({ actor: me.sub, org: me.org, action: 'chat.channel.leave', target: channelId });
    this.#d.bus.toPeople(channel.org, [me.sub], 'chat:channel', { channel: toChannel(channel), change: 'left' });
  }

  async updateMembers(
    me: ChatActor,
    channelId: string,
    add: readonly string[],
    remove: readonly string[],
  ): Promise<{ added: string[]; removed: string[]; memberCount: number }> {
    const { channel, member } = await this.#access.visible(me, channelId);
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
      ? await this.#access.wrap(this.#d.store.addMembers(channelId, add, 'member', this.#d.limits.maxMembers))
      : [];
    const removed = remove.length ? await this.#d.store.removeMembers(channelId, remove) : [];
    const after = (await this.#d.store.getChannel(channelId)) ?? channel;
    if (added.length || removed.length)
      await this.#d.audit.append({
        actor: me.sub,
        org: me.org,
        action: 'chat.members.update',
        target: channelId,
        detail: { added, removed },
      });
    const view = toChannel(after);
    this.#d.bus.toPeople(channel.org, added, 'chat:channel', { channel: view, change: 'joined' });
    for (const sub of removed) if (channel.kind === 'private') this.#d.bus.evict(channel.org, sub, channelId);
    this.#d.bus.toPeople(channel.org, removed, 'chat:channel', { channel: view, change: 'left' });
    return { added, removed, memberCount: after.memberCount };
  }

  async listMembers(me: ChatActor, channelId: string, after: string | undefined, limit: number) {
    await this.#access.readable(me, channelId);
    const rows = await this.#d.store.listMembers(channelId, after, limit + 1);
    return {
      members: rows.slice(0, limit).map((m) => ({ sub: m.sub, role: m.role, joinedAt: m.joinedAt })),
      hasMore: rows.length > limit,
    };
  }

  async setPolicy(me: ChatActor, channelId: string, policy: ChannelPolicy): Promise<Channel> {
    const { channel, member } = await this.#access.visible(me, channelId);
    if (!me.isAdmin && member?.role !== 'owner')
      throw new MoimError('FORBIDDEN', 'only owners and admins change a channel policy');
    const updated = await this.#access.wrap(this.#d.store.setPolicy(channelId, policy));
    await this.#d.audit.append({
      actor: me.sub,
      org: me.org,
      action: 'chat.policy.set',
      target: channelId,
      detail: { before: channel.policy, after: policy },
    });
    const view = toChannel(updated);
    this.#d.bus.toChannel(channelId, 'chat:channel', { channel: view, change: 'policy' });
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
    const existing = await this.#d.store.getChannel(id);
    if (existing) return toChannel(existing);
    const channel = await this.#access.wrap(
      this.#d.store.ensureChannel(
        {
          id,
          org: me.org,
          kind: 'dm',
          name: members.join(', ').slice(0, 80),
          createdBy: me.sub,
          members: members.map((sub) => ({ sub, role: 'member' as const })),
        },
        Math.max(this.#d.limits.maxMembers, DM_MAX),
      ),
    );
    const view = toChannel(channel);
    this.#d.bus.toPeople(
      me.org,
      members.filter((s) => s !== me.sub),
      'chat:channel',
      { channel: view, change: 'joined' },
    );
    return view;
  }

  /** Access check for `chat:subscribe`; the caller joins the room once this resolved. */
  async subscribable(me: ChatActor, channelId: string): Promise<{ lastSeq: number }> {
    const { channel } = await this.#access.readable(me, channelId);
    return { lastSeq: channel.lastSeq };
  }
}
