/**
 * The chat store contract, run unchanged against every backend, through the `ChatStore` interface
 * only. The cluster cases PostgreSQL alone has (two stores on one schema, as two nodes) are in
 * chatStoreNodes.test.ts; SQLite internals (the write worker, the cache, reopening the file) in
 * sqlite/SqliteChatStore.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChatStore, ChatStoreError } from '../ChatStore.ts';
import { BACKENDS, type OpenedBackend } from './backends.ts';
import { attachment, closeWithQueue, createGeneral, dense, msg } from './chatFixtures.ts';

describe.each(BACKENDS)('chat store on $name', (backend) => {
  let opened: OpenedBackend;
  let store: ChatStore;

  beforeEach(async () => {
    opened = await backend.open();
    store = opened.stores.chat;
    await createGeneral(store);
  });

  afterEach(async () => {
    await opened.close();
  });

  it('group-commits concurrent appends with dense per-channel seqs and idempotent client ids', async () => {
    const sends = Array.from({ length: 300 }, (_, i) => store.appendMessage(msg(`m${i}`, i % 2 ? 'alice' : 'bob')));
    // a resend inside the same batch returns the first one
    const again = store.appendMessage(msg('m0', 'bob'));
    const results = await Promise.all(sends);
    expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(dense(300));
    const dup = await again;
    expect(dup.duplicate).toBe(true);
    expect(dup.message.seq).toBe(results[0]!.message.seq);
    expect((await store.getChannel('c1'))?.lastSeq).toBe(300);
    // the same client id from another sender is another message
    const other = await store.appendMessage(msg('m0', 'alice'));
    expect(other).toMatchObject({ duplicate: false, message: { seq: 301 } });
    // a resend after the commit answers the stored message, as it is now
    const edited = await store.editMessage('c1', results[5]!.message.seq, 'changed');
    const late = await store.appendMessage(msg('m5', 'alice'));
    expect(late).toMatchObject({ duplicate: true, message: { seq: edited.seq, text: 'changed' } });
    expect((await store.getChannel('c1'))?.lastSeq).toBe(301);
  });

  it('refuses one bad message of a batch without failing the others', async () => {
    const good = store.appendMessage(msg('a'));
    const badRoot = store.appendMessage(msg('b', 'alice', { threadRoot: 999 }));
    const badChannel = store.appendMessage({ ...msg('c'), channelId: 'nope' });
    const badRead = store.markRead('nope', 'bob', 1, 1000);
    const good2 = store.appendMessage(msg('d'));
    await expect(badRoot).rejects.toBeInstanceOf(ChatStoreError);
    await expect(badRoot).rejects.toMatchObject({ reason: 'thread-root-invalid' });
    await expect(badChannel).rejects.toMatchObject({ reason: 'channel-not-found' });
    await expect(badRead).rejects.toMatchObject({ reason: 'channel-not-found' });
    expect((await good).message.seq).toBe(1);
    expect((await good2).message.seq).toBe(2);
    expect((await store.getChannel('c1'))?.lastSeq).toBe(2);
  });

  it('threads flatten, count replies, and page separately', async () => {
    const root = (await store.appendMessage(msg('root'))).message;
    const r1 = (await store.appendMessage(msg('r1', 'bob', { threadRoot: root.seq }))).message;
    const r2 = (await store.appendMessage(msg('r2', 'alice', { threadRoot: r1.seq }))).message;
    expect(r2.threadRoot).toBe(root.seq);
    expect((await store.getMessage('c1', root.seq))?.replyCount).toBe(2);
    const thread = await store.history({ channelId: 'c1', threadRoot: root.seq, limit: 10 });
    expect(thread.map((m) => m.clientMsgId)).toEqual(['r1', 'r2']);
    expect((await store.history({ channelId: 'c1', threadRoot: root.seq, after: r1.seq, limit: 10 })).length).toBe(1);
  });

  it('pages history backwards and forwards, with mentions and attachments', async () => {
    const ref = { id: 'att1', name: 'a.png', type: 'image/png', size: 10 };
    for (let i = 0; i < 5; i++)
      await store.appendMessage(msg(`h${i}`, 'alice', i === 2 ? { mentions: ['bob'], attachments: [ref] } : {}));
    expect((await store.history({ channelId: 'c1', limit: 2 })).map((m) => m.seq)).toEqual([4, 5]);
    expect((await store.history({ channelId: 'c1', before: 4, limit: 2 })).map((m) => m.seq)).toEqual([2, 3]);
    expect((await store.history({ channelId: 'c1', after: 1, limit: 2 })).map((m) => m.seq)).toEqual([2, 3]);
    const m3 = await store.getMessage('c1', 3);
    expect(m3).toMatchObject({ mentions: ['bob'], attachments: [ref], editedAt: null, deletedAt: null });
    expect(typeof m3?.createdAt).toBe('number');
    expect(await store.getMessage('c1', 99)).toBeUndefined();
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
    // the count is capped
    await store.appendMessage(msg('a5', 'alice'));
    await store.appendMessage(msg('a6', 'alice'));
    expect((await store.myChannels('bob', 'acme', 1))[0]).toMatchObject({ unread: 1, lastRead: 5 });
    expect(await store.receipts('c1', undefined, 10)).toEqual([
      { sub: 'alice', lastRead: 7 },
      { sub: 'bob', lastRead: 5 },
    ]);
    expect(await store.receipts('c1', 'alice', 10)).toEqual([{ sub: 'bob', lastRead: 5 }]);
    // not a member: refused
    await expect(store.markRead('c1', 'zed', 1, 1000)).rejects.toMatchObject({ reason: 'channel-not-found' });
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
    await expect(store.addMembers('nope', ['a'], 'member', 10)).rejects.toMatchObject({ reason: 'channel-not-found' });
    expect(await store.removeMembers('nope', ['a'])).toEqual([]);
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
    // reacting twice counts once
    expect((await store.react('c1', m.seq, 'bob', '👍', true)).reactions.find((r) => r.emoji === '👍')?.count).toBe(2);
    expect((await store.react('c1', m.seq, 'bob', '🎉', false)).reactions).toHaveLength(1);
    const edited = await store.editMessage('c1', m.seq, 'changed');
    expect(edited).toMatchObject({ text: 'changed' });
    expect(edited.editedAt).not.toBeNull();
    const deleted = await store.deleteMessage('c1', m.seq);
    expect(deleted).toMatchObject({ text: '', reactions: [] });
    expect(deleted.deletedAt).not.toBeNull();
    await expect(store.editMessage('c1', m.seq, 'again')).rejects.toMatchObject({ reason: 'message-not-found' });
    await expect(store.deleteMessage('c1', m.seq)).rejects.toMatchObject({ reason: 'message-not-found' });
    await expect(store.react('c1', m.seq, 'bob', '👍', true)).rejects.toMatchObject({ reason: 'message-not-found' });
  });

  it('close() commits what is queued before it resolves, then refuses writes', async () => {
    const { sends, read } = await closeWithQueue(store);
    expect((await Promise.all(sends)).map((r) => r.message.seq)).toEqual(dense(50));
    expect(await read).toEqual({ lastRead: 50, unread: 0 });
    await expect(store.appendMessage(msg('late'))).rejects.toThrow(/closed/);
    await expect(store.addMembers('c1', ['x'], 'member', 10)).rejects.toThrow(/closed/);
    await store.close(); // idempotent
  });

  it('reads see every change to channels and memberships', async () => {
    expect((await store.access('c1', 'carol'))?.member).toBeUndefined();
    expect((await store.access('c1', 'bob'))?.member).toMatchObject({ sub: 'bob', role: 'member', lastRead: 0 });
    expect(await store.access('nope', 'bob')).toBeUndefined();
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
    await expect(store.setPolicy('nope', { downloadsAllowed: true })).rejects.toMatchObject({
      reason: 'channel-not-found',
    });
    // ensureChannel adds a member to an existing channel, and is idempotent
    const general = { id: 'c1', org: 'acme', kind: 'public' as const, name: 'general', createdBy: 'x' };
    await store.ensureChannel({ ...general, members: [{ sub: 'dave', role: 'member' }] }, 10);
    expect((await store.access('c1', 'dave'))?.member).toBeDefined();
    expect(
      (await store.ensureChannel({ ...general, members: [{ sub: 'dave', role: 'member' }] }, 10)).memberCount,
    ).toBe(3);
    // a channel created after a miss is found; creating it again is refused
    expect(await store.getChannel('c2')).toBeUndefined();
    const c2 = {
      id: 'c2',
      org: 'acme',
      kind: 'private' as const,
      name: 'p',
      createdBy: 'alice',
      members: [{ sub: 'alice', role: 'owner' as const }],
    };
    const created = await store.createChannel(c2, 10);
    expect(created).toMatchObject({ id: 'c2', kind: 'private', lastSeq: 0, memberCount: 1, topic: null });
    expect(typeof created.createdAt).toBe('number');
    await expect(store.createChannel(c2, 10)).rejects.toMatchObject({ reason: 'exists' });
    expect((await store.access('c2', 'alice'))?.member?.role).toBe('owner');
    // appends and receipts move the counter and read markers
    await store.appendMessage(msg('m1', 'carol'));
    await store.appendMessage(msg('m2', 'alice'));
    expect((await store.getChannel('c1'))?.lastSeq).toBe(2);
    expect((await store.access('c1', 'carol'))?.member?.lastRead).toBe(1);
    await store.markRead('c1', 'carol', 2, 1000);
    expect((await store.access('c1', 'carol'))?.member?.lastRead).toBe(2);
    // someone joining later starts at the channel's last message
    await store.addMembers('c1', ['erin'], 'member', 10);
    expect((await store.access('c1', 'erin'))?.member?.lastRead).toBe(2);
  });

  it('lists channels and members by id, byte-wise', async () => {
    for (const id of ['c3', 'B', 'a'])
      await store.createChannel(
        { id, org: 'acme', kind: 'public', name: id, createdBy: 'alice', members: [{ sub: 'alice', role: 'owner' }] },
        10,
      );
    await store.createChannel(
      { id: 'x', org: 'other', kind: 'public', name: 'x', createdBy: 'zed', members: [{ sub: 'zed', role: 'owner' }] },
      10,
    );
    expect((await store.publicChannels('acme', undefined, 10)).map((c) => c.id)).toEqual(['B', 'a', 'c1', 'c3']);
    expect((await store.publicChannels('acme', 'a', 2)).map((c) => c.id)).toEqual(['c1', 'c3']);
    expect((await store.myChannels('alice', 'acme', 10)).map((r) => r.channel.name)).toEqual([
      'B',
      'a',
      'c3',
      'general',
    ]);
    await store.addMembers('c1', ['Zoe', 'carol'], 'member', 10);
    expect((await store.listMembers('c1', undefined, 10)).map((m) => m.sub)).toEqual(['Zoe', 'alice', 'bob', 'carol']);
    expect((await store.listMembers('c1', 'alice', 2)).map((m) => [m.sub, m.role])).toEqual([
      ['bob', 'member'],
      ['carol', 'member'],
    ]);
  });

  it('records attachments and keeps each uploader under the quota, even uploading at once', async () => {
    await store.putAttachment(attachment('f1', 'alice', 600), { quotaBytes: 1000 });
    expect(await store.getAttachment('f1')).toEqual(attachment('f1', 'alice', 600));
    expect(await store.getAttachment('nope')).toBeUndefined();
    await expect(store.putAttachment(attachment('f2', 'alice', 500), { quotaBytes: 1000 })).rejects.toMatchObject({
      reason: 'quota-exceeded',
    });
    expect(await store.getAttachment('f2')).toBeUndefined();
    // without a quota nothing is counted against
    await store.putAttachment(attachment('f3', 'alice', 500));
    expect(await store.attachmentBytes('alice')).toBe(1100);
    expect(await store.attachmentBytes('bob')).toBe(0);
    const racing = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => store.putAttachment(attachment(`b${i}`, 'bob', 400), { quotaBytes: 1000 })),
    );
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(await store.attachmentBytes('bob')).toBe(800);
  });
});
