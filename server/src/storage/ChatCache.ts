/**
 * The chat store's memory of channels and memberships, read on every message and receipt. Every
 * change to them goes through the store that owns the cache, which drops the entries first
 * (`forget`) and moves the counters a committed write changed (`sawSeq`, `sawRead`); a process
 * that is the only writer of its database (one node on SQLite) can therefore trust it. Bounded:
 * the oldest entries go first.
 */
import type { StoredChannel, StoredMember } from './ChatStore.ts';

/** Cached channels and memberships at most. */
const MAX_CACHED_CHANNELS = 20_000;
const MAX_CACHED_MEMBERS = 200_000;

export class ChatCache {
  /** Channel records by id (present channels only). */
  readonly #channels = new Map<string, StoredChannel>();
  /** Membership by `channel\nsub`; null: not a member. */
  readonly #members = new Map<string, StoredMember | null>();

  /** The channel, loaded with `load` when not cached. */
  channel(id: string, load: (id: string) => StoredChannel | undefined): StoredChannel | undefined {
    const cached = this.#channels.get(id);
    if (cached) return cached;
    const c = load(id);
    if (c) {
      if (this.#channels.size >= MAX_CACHED_CHANNELS) this.#channels.delete(this.#channels.keys().next().value!);
      this.#channels.set(id, c);
    }
    return c;
  }

  /** The membership (undefined: not a member), loaded with `load` when not cached. */
  member(
    channelId: string,
    sub: string,
    load: (channelId: string, sub: string) => StoredMember | undefined,
  ): StoredMember | undefined {
    const key = `${channelId}\n${sub}`;
    const cached = this.#members.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const m = load(channelId, sub);
    if (this.#members.size >= MAX_CACHED_MEMBERS) this.#members.delete(this.#members.keys().next().value!);
    this.#members.set(key, m ?? null);
    return m;
  }

  /** Drop the cached channel and these memberships (before a change to them). */
  forget(channelId: string, members: ReadonlyArray<{ sub: string }>): void {
    this.#channels.delete(channelId);
    for (const m of members) this.#members.delete(`${channelId}\n${m.sub}`);
  }

  /** A message with `seq` was committed to the channel. */
  sawSeq(channelId: string, seq: number): void {
    const c = this.#channels.get(channelId);
    if (c && c.lastSeq < seq) this.#channels.set(channelId, { ...c, lastSeq: seq });
  }

  /** The person's read marker moved to `lastRead` (never back). */
  sawRead(channelId: string, sub: string, lastRead: number): void {
    const key = `${channelId}\n${sub}`;
    const m = this.#members.get(key);
    if (m && m.lastRead < lastRead) this.#members.set(key, { ...m, lastRead });
  }
}
