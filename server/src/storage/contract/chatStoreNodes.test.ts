/**
 * The chat store's cluster cases, PostgreSQL only: two stores on one schema, each on its own pool,
 * as two nodes appending, retrying and changing memberships at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PgChatStore } from '../postgres/PgChatStore.ts';
import type { PgDb } from '../postgres/PgDb.ts';
import {
  attachment,
  closeWithQueue,
  createGeneral,
  dense,
  expectFailedBatchLeavesNoHole,
  expectQueueCommitted,
  msg,
  openPgChatNodes,
} from './chatFixtures.ts';

describe('chat store on postgres, two nodes', () => {
  let cluster: Awaited<ReturnType<typeof openPgChatNodes>>;
  let a: PgChatStore;
  let b: PgChatStore;

  beforeEach(async () => {
    cluster = await openPgChatNodes();
    [a, b] = cluster.nodes as [PgChatStore, PgChatStore];
    await createGeneral(a);
  });

  afterEach(async () => {
    await cluster.close();
  });

  it('gives concurrent appends from both nodes dense seqs 1..N without duplicates', async () => {
    const sends = Array.from({ length: 400 }, (_, i) =>
      (i % 2 ? a : b).appendMessage(msg(`n${i}`, i % 3 ? 'alice' : 'bob')),
    );
    const results = await Promise.all(sends);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(dense(400));
    const history = await b.history({ channelId: 'c1', limit: 1000 });
    expect(history.map((m) => m.seq)).toEqual(dense(400));
    expect(new Set(history.map((m) => m.clientMsgId)).size).toBe(400);
    expect((await a.getChannel('c1'))?.lastSeq).toBe(400);
    expect((await b.access('c1', 'alice'))?.member?.lastRead).toBe(
      Math.max(...results.filter((r) => r.message.sender === 'alice').map((r) => r.message.seq)),
    );
  });

  it('answers a client id retried on both nodes with one message', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        Promise.all([a.appendMessage(msg(`r${i}`, 'bob')), b.appendMessage(msg(`r${i}`, 'bob'))]),
      ),
    );
    for (const [x, y] of pairs) {
      expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
      expect(x.message.seq).toBe(y.message.seq);
      expect(x.message.clientMsgId).toBe(y.message.clientMsgId);
    }
    expect(pairs.map(([x]) => x.message.seq).sort((p, q) => p - q)).toEqual(dense(60));
    // a retry after the first node committed
    const first = await a.appendMessage(msg('late', 'alice'));
    const retry = await b.appendMessage(msg('late', 'alice'));
    expect(retry).toMatchObject({ duplicate: true, message: { seq: first.message.seq, text: 'text late' } });
    expect((await b.history({ channelId: 'c1', limit: 1000 })).map((m) => m.seq)).toEqual(dense(61));
    expect((await a.getChannel('c1'))?.lastSeq).toBe(61);
  });

  it('sees memberships and channels another node changed', async () => {
    expect((await b.access('c1', 'carol'))?.member).toBeUndefined();
    await a.addMembers('c1', ['carol'], 'member', 10);
    expect((await b.access('c1', 'carol'))?.member?.role).toBe('member');
    await b.removeMembers('c1', ['carol']);
    expect((await a.access('c1', 'carol'))?.member).toBeUndefined();
    await a.setPolicy('c1', { downloadsAllowed: false });
    expect((await b.getChannel('c1'))?.policy.downloadsAllowed).toBe(false);
    // both nodes ensuring the same new channel at once: one channel, both members
    const dm = { id: 'dm1', org: 'acme', kind: 'dm' as const, name: 'dm', createdBy: 'alice' };
    await Promise.all([
      a.ensureChannel({ ...dm, members: [{ sub: 'alice', role: 'member' }] }, 2),
      b.ensureChannel({ ...dm, members: [{ sub: 'bob', role: 'member' }] }, 2),
    ]);
    expect((await a.listMembers('dm1', undefined, 10)).map((m) => m.sub)).toEqual(['alice', 'bob']);
    expect((await b.getChannel('dm1'))?.memberCount).toBe(2);
    // the member limit holds across nodes
    const joins = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).addMembers('c1', [`p${i}`], 'member', 10)),
    );
    expect(joins.filter((r) => r.status === 'fulfilled')).toHaveLength(8);
    expect((await a.getChannel('c1'))?.memberCount).toBe(10);
  });

  it('keeps each uploader under the quota with uploads on both nodes', async () => {
    const racing = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? a : b).putAttachment(attachment(`u${i}`, 'carol', 300), { quotaBytes: 1000 }),
      ),
    );
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(await b.attachmentBytes('carol')).toBe(900);
  });

  it('a failed commit fails every write of its batch and leaves no seq hole', async () => {
    const [db] = cluster.dbs as [PgDb];
    // a real PostgreSQL failure inside the transaction (not a refusal): the whole batch rolls back
    await db.query(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.text = 'boom' THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$`);
    await db.query('CREATE TRIGGER boom BEFORE INSERT ON chat_messages FOR EACH ROW EXECUTE FUNCTION boom()');
    await expectFailedBatchLeavesNoHole(a, b, () => db.query('DROP TRIGGER boom ON chat_messages'));
  });

  it('acknowledges only what another node can read (close commits the queue)', async () => {
    const { sends, read } = await closeWithQueue(a);
    expect((await Promise.all(sends)).map((r) => r.message.seq)).toEqual(dense(50));
    expect(await read).toEqual({ lastRead: 50, unread: 0 });
    await expectQueueCommitted(b);
  });
});
