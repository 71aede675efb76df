/**
 * The chat store's SQL on PostgreSQL, apart from the store's group commit: the statements used
 * inside transactions and the reads that join tables. Rows and records are ../chatRecords.ts
 * (shared with SQLite; BIGINT arrives as text and the mappers make it a number). Mirrors
 * sqlite/chatSql.ts.
 */
import {
  type ChannelAccess,
  ChatStoreError,
  type MemberRole,
  type MyChannelRow,
  type NewChannel,
  type StoredChannel,
  type StoredMessage,
} from '../ChatStore.ts';
import { groupReactions } from '../chatReactions.ts';
import {
  CHANNEL_COLS,
  type ChannelRow,
  channelValues,
  type MemberRow,
  type MessageRow,
  prefixed,
  rowToMessage,
  seqRange,
  toChannel,
  toMember,
  withReactions,
} from '../chatRecords.ts';
import type { SqlInt } from '../sqlRows.ts';
import type { PgTx } from './PgDb.ts';

/** What the statements need: a PgDb or a transaction's connection. */
export type PgQueryable = Pick<PgTx, 'query' | 'one'>;

/** Insert the channel unless its id is taken; true when inserted. */
export async function insertChannel(q: PgQueryable, c: NewChannel): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO chat_channels (id, org, kind, name, topic, site, created_by, created_at, downloads_allowed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [...channelValues(c, Date.now()), c.policy?.downloadsAllowed ?? true],
  );
  return rows.length > 0;
}

/**
 * Inside a transaction: lock the channel's row (FOR UPDATE: memberships of a channel change one
 * transaction at a time, on every node) and return its counters; undefined when there is none.
 */
export async function lockChannel(
  q: PgQueryable,
  channelId: string,
): Promise<{ member_count: number; last_seq: SqlInt } | undefined> {
  return q.one<{ member_count: number; last_seq: SqlInt }>(
    'SELECT member_count, last_seq FROM chat_channels WHERE id = $1 FOR UPDATE',
    [channelId],
  );
}

/** Inside a transaction: add the members not yet in, checking the limit (`channel-not-found` without a channel). */
export async function addMembersTx(
  q: PgQueryable,
  channelId: string,
  members: ReadonlyArray<{ sub: string; role: MemberRole }>,
  maxMembers: number,
): Promise<string[]> {
  const ch = await lockChannel(q, channelId);
  if (!ch) throw new ChatStoreError('channel-not-found', `no channel ${channelId}`);
  const subs = [...new Set(members.map((m) => m.sub))];
  const present = new Set(
    (
      await q.query<{ sub: string }>('SELECT sub FROM chat_members WHERE channel_id = $1 AND sub = ANY($2::text[])', [
        channelId,
        subs,
      ])
    ).map((r) => r.sub),
  );
  const fresh = new Map<string, MemberRole>();
  for (const m of members) if (!fresh.has(m.sub) && !present.has(m.sub)) fresh.set(m.sub, m.role);
  if (fresh.size === 0) return [];
  if (Number(ch.member_count) + fresh.size > maxMembers)
    throw new ChatStoreError('channel-full', `a channel holds at most ${maxMembers} members`);
  await q.query(
    `INSERT INTO chat_members (channel_id, sub, role, joined_at, last_read)
     SELECT $1, t.sub, t.role, $4, $5 FROM unnest($2::text[], $3::text[]) AS t(sub, role)`,
    [channelId, [...fresh.keys()], [...fresh.values()], Date.now(), ch.last_seq],
  );
  await q.query('UPDATE chat_channels SET member_count = member_count + $2 WHERE id = $1', [channelId, fresh.size]);
  return [...fresh.keys()];
}

export async function channelRow(q: PgQueryable, id: string): Promise<StoredChannel | undefined> {
  const r = await q.one<ChannelRow>(`SELECT ${CHANNEL_COLS} FROM chat_channels WHERE id = $1`, [id]);
  return r ? toChannel(r) : undefined;
}

/** The channel and the person's membership in one read. */
export async function accessRow(q: PgQueryable, channelId: string, sub: string): Promise<ChannelAccess | undefined> {
  const r = await q.one<ChannelRow & { m_sub: string | null } & Omit<MemberRow, 'sub'>>(
    `SELECT ${prefixed('c', CHANNEL_COLS)}, m.sub AS m_sub, m.role, m.joined_at, m.last_read
       FROM chat_channels c LEFT JOIN chat_members m ON m.channel_id = c.id AND m.sub = $2
      WHERE c.id = $1`,
    [channelId, sub],
  );
  if (!r) return undefined;
  return { channel: toChannel(r), member: r.m_sub === null ? undefined : toMember({ ...r, sub: r.m_sub }) };
}

/** The person's channels of an org with their unread counts (capped at `unreadCap`). */
export async function myChannelRows(
  q: PgQueryable,
  sub: string,
  org: string,
  unreadCap: number,
): Promise<MyChannelRow[]> {
  const rows = await q.query<ChannelRow & { role: MemberRole; m_last_read: SqlInt; unread: number }>(
    `SELECT ${prefixed('c', CHANNEL_COLS)}, m.role, m.last_read AS m_last_read,
       (SELECT COUNT(*)::int FROM chat_messages x
         WHERE x.channel_id = c.id AND x.seq > m.last_read AND x.seq <= m.last_read + $1
           AND x.sender <> m.sub AND x.deleted_at IS NULL) AS unread
     FROM chat_members m JOIN chat_channels c ON c.id = m.channel_id
     WHERE m.sub = $2 AND c.org = $3
     ORDER BY c.kind, c.name, c.id`,
    [unreadCap, sub, org],
  );
  return rows.map((r) => ({ channel: toChannel(r), role: r.role, lastRead: Number(r.m_last_read), unread: r.unread }));
}

export async function attachmentBytes(q: PgQueryable, uploader: string): Promise<number> {
  const r = await q.one<{ bytes: SqlInt }>(
    'SELECT COALESCE(SUM(size), 0) AS bytes FROM chat_attachments WHERE uploader = $1',
    [uploader],
  );
  return Number(r?.bytes ?? 0);
}

/** Rows → messages with their reactions (one query for the whole page). */
export async function hydrate(q: PgQueryable, rows: MessageRow[]): Promise<StoredMessage[]> {
  if (rows.length === 0) return [];
  const reactions = groupReactions(
    (
      await q.query<{ seq: SqlInt; emoji: string; sub: string }>(
        `SELECT seq, emoji, sub FROM chat_reactions WHERE channel_id = $1 AND seq BETWEEN $2 AND $3
         ORDER BY seq, at, emoji, sub`,
        seqRange(rows),
      )
    ).map((r) => ({ seq: Number(r.seq), emoji: r.emoji, sub: r.sub })),
  );
  return withReactions(rows.map(rowToMessage), reactions);
}
