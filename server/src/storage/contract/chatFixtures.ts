/**
 * Fixtures of the chat store contract (chatStore.test.ts) and its cluster cases
 * (chatStoreNodes.test.ts), shared with sqlite/SqliteChatStore.test.ts: messages, attachments, the
 * channel every case starts with, two PostgreSQL chat stores on one schema, as two nodes, and the
 * failed-commit and close cases both backends check their own way.
 */
import { expect } from 'vitest';
import {
  type ChatStore,
  ChatStoreError,
  type NewMessage,
  type ReadMark,
  type StoredAttachment,
  type StoredMessage,
} from '../ChatStore.ts';
import { chatMigrations } from '../postgres/migrations/chat.ts';
import { PgChatStore } from '../postgres/PgChatStore.ts';
import { PgDb } from '../postgres/PgDb.ts';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from './backends.ts';

export const msg = (clientMsgId: string, sender = 'alice', extra: Partial<NewMessage> = {}): NewMessage => ({
  channelId: 'c1',
  clientMsgId,
  sender,
  text: `text ${clientMsgId}`,
  threadRoot: null,
  mentions: [],
  attachments: [],
  ...extra,
});

export const attachment = (id: string, uploader: string, size: number): StoredAttachment => ({
  id,
  channelId: 'c1',
  uploader,
  name: `${id}.bin`,
  type: 'application/octet-stream',
  size,
  sha256: 'ab'.repeat(32),
  blobKey: `blob-${id}`,
  createdAt: 1_700_000_000_000,
});

/** The channel every case starts with: alice (owner) and bob. */
export async function createGeneral(store: ChatStore): Promise<void> {
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
}

export const dense = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

/** Two chat stores on one fresh PostgreSQL schema, each on its own pool: two nodes of a cluster. */
export async function openPgChatNodes(): Promise<{ dbs: PgDb[]; nodes: PgChatStore[]; close(): Promise<void> }> {
  const schema = uniqueSchema('chatnodes');
  const dbs: PgDb[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const db = await PgDb.open({ url: TEST_DATABASE_URL, schema });
      dbs.push(db);
      await db.migrate(chatMigrations);
    }
  } catch (err) {
    for (const db of dbs) await db.close();
    await dropSchema(schema);
    throw err;
  }
  const nodes = dbs.map((db) => new PgChatStore(db));
  return {
    dbs,
    nodes,
    async close() {
      try {
        for (const node of nodes) await node.close();
        for (const db of dbs) await db.close();
      } finally {
        await dropSchema(schema);
      }
    },
  };
}

/**
 * A batch failing inside its transaction (not a refusal) fails every write of it and leaves no seq
 * hole. `arm` makes an INSERT of a message with text `boom` fail, `disarm` undoes it; `a` writes
 * the batch, `b` (another node, or `a` again) reads and retries.
 */
export async function expectFailedBatchLeavesNoHole(a: ChatStore, b: ChatStore, disarm: () => unknown): Promise<void> {
  expect((await a.appendMessage(msg('before'))).message.seq).toBe(1);
  const batch = [
    a.appendMessage(msg('x1')),
    a.appendMessage({ ...msg('x2'), text: 'boom' }),
    a.appendMessage(msg('x3', 'bob')),
    a.markRead('c1', 'bob', 1, 1000),
  ];
  const settled = await Promise.allSettled(batch);
  for (const r of settled) {
    expect(r.status).toBe('rejected');
    const reason = (r as PromiseRejectedResult).reason as Error;
    expect(reason).not.toBeInstanceOf(ChatStoreError); // the service answers UNAVAILABLE (retry)
    expect(reason.message).toMatch(/chat commit failed: .*disk on fire/);
  }
  expect((await b.getChannel('c1'))?.lastSeq).toBe(1);
  await disarm();
  // the retries take the next seqs: no hole, no duplicate
  expect((await b.appendMessage(msg('x1'))).message.seq).toBe(2);
  expect((await a.appendMessage(msg('x3', 'bob'))).message.seq).toBe(3);
  expect((await b.history({ channelId: 'c1', limit: 10 })).map((m) => [m.seq, m.clientMsgId])).toEqual([
    [1, 'before'],
    [2, 'x1'],
    [3, 'x3'],
  ]);
  expect((await a.access('c1', 'bob'))?.member?.lastRead).toBe(3);
}

/** Fifty appends and bob's receipt queued, then `store` closed: close commits the queue. */
export async function closeWithQueue(
  store: ChatStore,
): Promise<{ sends: Promise<{ message: StoredMessage; duplicate: boolean }>[]; read: Promise<ReadMark> }> {
  const sends = Array.from({ length: 50 }, (_, i) => store.appendMessage(msg(`q${i}`)));
  const read = store.markRead('c1', 'bob', 50, 1000);
  await store.close();
  return { sends, read };
}

/** What `closeWithQueue` acknowledged, as `reader` (a fresh connection or another node) finds it. */
export async function expectQueueCommitted(reader: ChatStore): Promise<void> {
  expect((await reader.getChannel('c1'))?.lastSeq).toBe(50);
  expect((await reader.history({ channelId: 'c1', limit: 100 })).length).toBe(50);
  expect((await reader.receipts('c1', undefined, 10)).find((r) => r.sub === 'bob')?.lastRead).toBe(50);
}
