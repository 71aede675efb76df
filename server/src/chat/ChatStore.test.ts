import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatStoreError, type NewMessage } from '../storage/ChatStore.ts';
import { chatMigrations } from '../storage/sqlite/migrations/chat.ts';
import { SqliteChatStore } from '../storage/sqlite/SqliteChatStore.ts';
import { SqliteDb } from '../storage/sqlite/SqliteDb.ts';

let dir: string;
let db: SqliteDb;
let store: SqliteChatStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'moim-chatstore-'));
  db = SqliteDb.open(path.join(dir, 'db.sqlite'));
  db.migrate(chatMigrations);
  store = new SqliteChatStore(db);
  await store.createChannel(
    {
      id: 'c1',
      org: 'acme',
      kind: 'public',
      name: 'general',
      createdBy: 'alice',
      members: [
        { sub: 'alice', role: 'owner' },
        { sub: 'bob', role: 'member' },
      ],
    },
    10,
  );
});

afterEach(async () => {
  await store.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const msg = (clientMsgId: string, sender = 'alice', extra: Partial<NewMessage> = {}): NewMessage => ({
  channelId: 'c1',
  clientMsgId,
  sender,
  text: `text ${clientMsgId}`,
  threadRoot: null,
  mentions: [],
  attachments: [],
  ...extra,
});

describe('SqliteChatStore', () => {
  it('group-commits concurrent appends with dense per-channel seqs and idempotent client ids', async () => {
    const sends = Array.from({ length: 300 }, (_, i) => store.appendMessage(msg(`m${i}`, i % 2 ? 'alice' : 'bob')));
    // a resend inside the same batch returns the first one
    const again = store.appendMessage(msg('m0', 'bob'));
    const results = await Promise.all(sends);
    expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    const dup = await again;
    expect(dup.duplicate).toBe(true);
    expect(dup.message.seq).toBe(results[0]!.message.seq);
    expect((await store.getChannel('c1'))?.lastSeq).toBe(300);
    // the same client id from another sender is another message
    const other = await store.appendMessage(msg('m0', 'alice'));
    expect(other).toMatchObject({ duplicate: false, message: { seq: 301 } });
  });

  it('refuses one bad message of a batch without failing the others', async () => {
    const good = store.appendMessage(msg('a'));
    const badRoot = store.appendMessage(msg('b', 'alice', { threadRoot: 999 }));
    const badChannel = store.appendMessage({ ...msg('c'), channelId: 'nope' });
    const good2 = store.appendMessage(msg('d'));
    await expect(badRoot).rejects.toBeInstanceOf(ChatStoreError);
    await expect(badChannel).rejects.toMatchObject({ reason: 'channel-not-found' });
    expect((await good).message.seq).toBe(1);
    expect((await good2).message.seq).toBe(2);
  });

  it('keeps messages across a reopen (acked means committed)', async () => {
    await store.appendMessage(msg('x'));
    await store.close();
    db.close();
    db = SqliteDb.open(path.join(dir, 'db.sqlite'));
    store = new SqliteChatStore(db);
    expect((await store.history({ channelId: 'c1', limit: 10 })).map((m) => m.clientMsgId)).toEqual(['x']);
  });

  it('threads flatten, count replies, and page separately', async () => {
    const root = (await store.appendMessage(msg('root'))).message;
    const r1 = (await store.appendMessage(msg('r1', 'bob', { threadRoot: root.seq }))).message;
    const r2 = (await store.appendMessage(msg('r2', 'alice', { threadRoot: r1.seq }))).message;
    expect(r2.threadRoot).toBe(root.seq);
    expect((await store.getMessage('c1', root.seq))?.replyCount).toBe(2);
    const thread = await store.history({ channelId: 'c1', threadRoot: root.seq, limit: 10 });
    expect(thread.map((m) => m.clientMsgId)).toEqual(['r1', 'r2']);
  });

  it('counts unread messages of others and moves read markers forward only', async () => {
    for (let i = 0; i < 5; i++) await store.appendMessage(msg(`a${i}`, 'alice'));
    const mine = await store.myChannels('bob', 'acme', 1000);
    expect(mine[0]).toMatchObject({ unread: 5, lastRead: 0 });
    expect(await store.markRead('c1', 'bob', 3, 1000)).toEqual({ lastRead: 3, unread: 2 });
    expect(await store.markRead('c1', 'bob', 1, 1000)).toEqual({ lastRead: 3, unread: 2 });
    expect(await store.markRead('c1', 'bob', 99, 1000)).toEqual({ lastRead: 5, unread: 0 });
    // my own messages count as read
    expect((await store.myChannels('alice', 'acme', 1000))[0]).toMatchObject({ unread: 0, lastRead: 5 });
  });

  it('enforces the member limit atomically', async () => {
    await expect(
      store.addMembers('c1', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'], 'member', 10),
    ).rejects.toMatchObject({
      reason: 'channel-full',
    });
    expect((await store.getChannel('c1'))?.memberCount).toBe(2);
    expect(await store.addMembers('c1', ['a', 'bob'], 'member', 10)).toEqual(['a']);
    expect(await store.removeMembers('c1', ['a', 'zed'])).toEqual(['a']);
    expect((await store.getChannel('c1'))?.memberCount).toBe(2);
  });

  it('edits, deletes and reactions', async () => {
    const m = (await store.appendMessage(msg('e'))).message;
    await store.react('c1', m.seq, 'bob', '👍', true);
    await store.react('c1', m.seq, 'alice', '👍', true);
    const reacted = await store.react('c1', m.seq, 'bob', '🎉', true);
    // reactions in the order they were first given (ties within a millisecond by emoji, people by time then id)
    const byEmoji = Object.fromEntries(
      reacted.reactions.map((r) => [r.emoji, { count: r.count, people: [...r.people].sort() }]),
    );
    expect(byEmoji).toEqual({ '👍': { count: 2, people: ['alice', 'bob'] }, '🎉': { count: 1, people: ['bob'] } });
    expect((await store.react('c1', m.seq, 'bob', '🎉', false)).reactions).toHaveLength(1);
    const edited = await store.editMessage('c1', m.seq, 'changed');
    expect(edited).toMatchObject({ text: 'changed' });
    expect(edited.editedAt).not.toBeNull();
    const deleted = await store.deleteMessage('c1', m.seq);
    expect(deleted).toMatchObject({ text: '', reactions: [] });
    expect(deleted.deletedAt).not.toBeNull();
    await expect(store.editMessage('c1', m.seq, 'again')).rejects.toMatchObject({ reason: 'message-not-found' });
  });

  it('a failed commit fails every write of its batch and leaves no seq hole', async () => {
    // a real SQLite failure inside the transaction (not a refusal): the whole batch rolls back
    db.exec(`CREATE TRIGGER boom BEFORE INSERT ON chat_messages WHEN NEW.text = 'boom'
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    expect((await store.appendMessage(msg('before'))).message.seq).toBe(1);
    const batch = [
      store.appendMessage(msg('x1')),
      store.appendMessage({ ...msg('x2'), text: 'boom' }),
      store.appendMessage(msg('x3', 'bob')),
      store.markRead('c1', 'bob', 1, 1000),
    ];
    const settled = await Promise.allSettled(batch);
    for (const r of settled) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as Error;
      expect(reason).not.toBeInstanceOf(ChatStoreError); // the service answers UNAVAILABLE (retry)
      expect(reason.message).toMatch(/chat commit failed: .*disk on fire/);
    }
    expect((await store.getChannel('c1'))?.lastSeq).toBe(1);
    db.exec('DROP TRIGGER boom');
    // the retries take the next seqs: no hole, no duplicate
    expect((await store.appendMessage(msg('x1'))).message.seq).toBe(2);
    expect((await store.appendMessage(msg('x3', 'bob'))).message.seq).toBe(3);
    expect((await store.history({ channelId: 'c1', limit: 10 })).map((m) => [m.seq, m.clientMsgId])).toEqual([
      [1, 'before'],
      [2, 'x1'],
      [3, 'x3'],
    ]);
    expect((await store.access('c1', 'bob'))?.member?.lastRead).toBe(3);
  });

  it('close() commits what is queued before it resolves', async () => {
    const sends = Array.from({ length: 50 }, (_, i) => store.appendMessage(msg(`q${i}`)));
    const read = store.markRead('c1', 'bob', 50, 1000);
    await store.close();
    expect((await Promise.all(sends)).map((r) => r.message.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await read).toEqual({ lastRead: 50, unread: 0 });
    await expect(store.appendMessage(msg('late'))).rejects.toThrow(/closed/);
    // a fresh connection sees all of it
    db.close();
    db = SqliteDb.open(path.join(dir, 'db.sqlite'));
    store = new SqliteChatStore(db);
    expect((await store.getChannel('c1'))?.lastSeq).toBe(50);
    expect((await store.history({ channelId: 'c1', limit: 100 })).length).toBe(50);
    expect((await store.receipts('c1', undefined, 10)).find((r) => r.sub === 'bob')?.lastRead).toBe(50);
  });

  it('keeps the cached channel and memberships in step with every change', async () => {
    // warm the cache
    expect((await store.access('c1', 'carol'))?.member).toBeUndefined();
    expect((await store.access('c1', 'bob'))?.member?.role).toBe('member');
    expect((await store.getChannel('c1'))?.memberCount).toBe(2);
    // join
    expect(await store.addMembers('c1', ['carol'], 'member', 10)).toEqual(['carol']);
    expect((await store.access('c1', 'carol'))?.member?.role).toBe('member');
    expect((await store.getChannel('c1'))?.memberCount).toBe(3);
    // leave / kick
    expect(await store.removeMembers('c1', ['bob'])).toEqual(['bob']);
    expect((await store.access('c1', 'bob'))?.member).toBeUndefined();
    expect((await store.getChannel('c1'))?.memberCount).toBe(2);
    // policy
    expect((await store.setPolicy('c1', { downloadsAllowed: false })).policy.downloadsAllowed).toBe(false);
    expect((await store.access('c1', 'alice'))?.channel.policy.downloadsAllowed).toBe(false);
    // ensureChannel adds a member to an existing channel
    await store.ensureChannel(
      {
        id: 'c1',
        org: 'acme',
        kind: 'public',
        name: 'general',
        createdBy: 'x',
        members: [{ sub: 'dave', role: 'member' }],
      },
      10,
    );
    expect((await store.access('c1', 'dave'))?.member).toBeDefined();
    // a channel created after a miss is found
    expect(await store.getChannel('c2')).toBeUndefined();
    await store.createChannel(
      {
        id: 'c2',
        org: 'acme',
        kind: 'private',
        name: 'p',
        createdBy: 'alice',
        members: [{ sub: 'alice', role: 'owner' }],
      },
      10,
    );
    expect((await store.access('c2', 'alice'))?.member?.role).toBe('owner');
    // appends and receipts move the cached counter and read markers
    await store.appendMessage(msg('m1', 'carol'));
    await store.appendMessage(msg('m2', 'alice'));
    expect((await store.getChannel('c1'))?.lastSeq).toBe(2);
    expect((await store.access('c1', 'carol'))?.member?.lastRead).toBe(1);
    await store.markRead('c1', 'carol', 2, 1000);
    expect((await store.access('c1', 'carol'))?.member?.lastRead).toBe(2);
    // the cache agrees with a fresh store on the same database
    const fresh = new SqliteChatStore(db, { writeInWorker: false });
    for (const sub of ['alice', 'bob', 'carol', 'dave'])
      expect(await store.access('c1', sub)).toEqual(await fresh.access('c1', sub));
    await fresh.close();
  });
});
