/**
 * The chat store's SQL on one SQLite connection, apart from the store's caching and group commit:
 * the statements used inside transactions and the reads the store caches. Rows and records are
 * ../chatRecords.ts (shared with PostgreSQL).
 */
import {
  ChatStoreError,
  type MemberRole,
  type MyChannelRow,
  type NewChannel,
  type StoredChannel,
  type StoredMember,
  type StoredMessage,
} from '../ChatStore.ts';
import { groupReactions } from '../chatReactions.ts';
import {
  CHANNEL_COLS,
  type ChannelRow,
  channelValues,
  MEMBER_COLS,
  type MemberRow,
  type MessageRow,
  prefixed,
  rowToMessage,
  seqRange,
  toChannel,
  toMember,
  withReactions,
} from '../chatRecords.ts';
import type { SqliteDb } from './SqliteDb.ts';

export function insertChannel(db: SqliteDb, c: NewChannel): void {
  db.run(
    `INSERT INTO chat_channels (id, org, kind, name, topic, site, created_by, created_at, downloads_allowed)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ...channelValues(c, Date.now()),
    (c.policy?.downloadsAllowed ?? true) ? 1 : 0,
  );
}

/** Inside a transaction: add the members not yet in, checking the limit. */
export function addMembersTx(
  db: SqliteDb,
  channelId: string,
  members: ReadonlyArray<{ sub: string; role: MemberRole }>,
  maxMembers: number,
): string[] {
  const fresh = new Map<string, MemberRole>();
  for (const m of members) if (!fresh.has(m.sub) && !memberRow(db, channelId, m.sub)) fresh.set(m.sub, m.role);
  if (fresh.size === 0) return [];
  const ch = db.get<{ member_count: number; last_seq: number }>(
    'SELECT member_count, last_seq FROM chat_channels WHERE id = ?',
    channelId,
  )!;
  if (ch.member_count + fresh.size > maxMembers)
    throw new ChatStoreError('channel-full', `a channel holds at most ${maxMembers} members`);
  const now = Date.now();
  for (const [sub, role] of fresh)
    db.run(
      'INSERT INTO chat_members (channel_id, sub, role, joined_at, last_read) VALUES (?, ?, ?, ?, ?)',
      channelId,
      sub,
      role,
      now,
      ch.last_seq,
    );
  db.run('UPDATE chat_channels SET member_count = member_count + ? WHERE id = ?', fresh.size, channelId);
  return [...fresh.keys()];
}

export function channelRow(db: SqliteDb, id: string): StoredChannel | undefined {
  const r = db.get<ChannelRow>(`SELECT ${CHANNEL_COLS} FROM chat_channels WHERE id = ?`, id);
  return r ? toChannel(r) : undefined;
}

export function memberRow(db: SqliteDb, channelId: string, sub: string): StoredMember | undefined {
  const r = db.get<MemberRow>(
    `SELECT ${MEMBER_COLS} FROM chat_members WHERE channel_id = ? AND sub = ?`,
    channelId,
    sub,
  );
  return r ? toMember(r) : undefined;
}

export function attachmentBytes(db: SqliteDb, uploader: string): number {
  return (
    db.get<{ bytes: number | null }>('SELECT SUM(size) AS bytes FROM chat_attachments WHERE uploader = ?', uploader)
      ?.bytes ?? 0
  );
}

/** Rows → messages with their reactions (one query for the whole page). */
export function hydrate(db: SqliteDb, rows: MessageRow[]): StoredMessage[] {
  if (rows.length === 0) return [];
  const reactions = groupReactions(
    db.all<{ seq: number; emoji: string; sub: string }>(
      'SELECT seq, emoji, sub FROM chat_reactions WHERE channel_id = ? AND seq BETWEEN ? AND ? ORDER BY seq, at, emoji, sub',
      ...seqRange(rows),
    ),
  );
  return withReactions(rows.map(rowToMessage), reactions);
}

/** The person's channels of an org with their unread counts (capped at `unreadCap`). */
export function myChannelRows(db: SqliteDb, sub: string, org: string, unreadCap: number): MyChannelRow[] {
  const rows = db.all<ChannelRow & { role: MemberRole; last_read: number; unread: number }>(
    `SELECT ${prefixed('c', CHANNEL_COLS)}, m.role, m.last_read,
       (SELECT COUNT(*) FROM chat_messages x
         WHERE x.channel_id = c.id AND x.seq > m.last_read AND x.seq <= m.last_read + ?
           AND x.sender <> m.sub AND x.deleted_at IS NULL) AS unread
     FROM chat_members m JOIN chat_channels c ON c.id = m.channel_id
     WHERE m.sub = ? AND c.org = ?
     ORDER BY c.kind, c.name, c.id`,
    unreadCap,
    sub,
    org,
  );
  return rows.map((r) => ({ channel: toChannel(r), role: r.role, lastRead: r.last_read, unread: r.unread }));
}

/** Inside a transaction: remove these members (those in), in the order asked; the ones removed. */
export function removeMembersTx(db: SqliteDb, channelId: string, subs: readonly string[]): string[] {
  const removed: string[] = [];
  for (const sub of new Set(subs)) {
    if (db.run('DELETE FROM chat_members WHERE channel_id = ? AND sub = ?', channelId, sub).changes > 0)
      removed.push(sub);
  }
  if (removed.length > 0)
    db.run('UPDATE chat_channels SET member_count = member_count - ? WHERE id = ?', removed.length, channelId);
  return removed;
}
