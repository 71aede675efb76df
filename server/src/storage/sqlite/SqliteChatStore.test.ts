/**
 * What only the SQLite chat store has: the write worker's file, reopening it, its memory of
 * channels and memberships. The behaviour both backends share is in contract/chatStore.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closeWithQueue,
  createGeneral,
  expectFailedBatchLeavesNoHole,
  expectQueueCommitted,
  msg,
} from '../contract/chatFixtures.ts';
import { chatMigrations } from './migrations/chat.ts';
import { SqliteChatStore } from './SqliteChatStore.ts';
import { SqliteDb } from './SqliteDb.ts';

let dir: string;
let db: SqliteDb;
let store: SqliteChatStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'moim-chatstore-'));
  db = SqliteDb.open(path.join(dir, 'db.sqlite'));
  db.migrate(chatMigrations);
  store = new SqliteChatStore(db);
  await createGeneral(store);
});

afterEach(async () => {
  await store.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteChatStore', () => {
  it('keeps messages across a reopen (acked means committed)', async () => {
    await store.appendMessage(msg('x'));
    await store.close();
    db.close();
    db = SqliteDb.open(path.join(dir, 'db.sqlite'));
    store = new SqliteChatStore(db);
    expect((await store.history({ channelId: 'c1', limit: 10 })).map((m) => m.clientMsgId)).toEqual(['x']);
  });

  it('a failed commit fails every write of its batch and leaves no seq hole', async () => {
    // a real SQLite failure inside the transaction (not a refusal): the whole batch rolls back
    db.exec(`CREATE TRIGGER boom BEFORE INSERT ON chat_messages WHEN NEW.text = 'boom'
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    await expectFailedBatchLeavesNoHole(store, store, () => db.exec('DROP TRIGGER boom'));
  });

  it('close() leaves everything it acknowledged on disk for a fresh connection', async () => {
    const { sends, read } = await closeWithQueue(store);
    await Promise.all([...sends, read]);
    db.close();
    db = SqliteDb.open(path.join(dir, 'db.sqlite'));
    store = new SqliteChatStore(db);
    await expectQueueCommitted(store);
  });

  it('keeps the cached channel and memberships in step with every change', async () => {
    // warm the cache
    expect((await store.access('c1', 'carol'))?.member).toBeUndefined();
    expect((await store.access('c1', 'bob'))?.member?.role).toBe('member');
    expect((await store.getChannel('c1'))?.memberCount).toBe(2);
    await store.addMembers('c1', ['carol', 'dave'], 'member', 10);
    await store.removeMembers('c1', ['bob']);
    await store.setPolicy('c1', { downloadsAllowed: false });
    await store.appendMessage(msg('m1', 'carol'));
    await store.appendMessage(msg('m2', 'alice'));
    await store.markRead('c1', 'dave', 1, 1000);
    // the cache agrees with a fresh store (in-thread writes, no worker) on the same database
    const fresh = new SqliteChatStore(db, { writeInWorker: false });
    expect(await store.getChannel('c1')).toEqual(await fresh.getChannel('c1'));
    for (const sub of ['alice', 'bob', 'carol', 'dave'])
      expect(await store.access('c1', sub)).toEqual(await fresh.access('c1', sub));
    // and the in-thread writer keeps the same counters
    expect((await fresh.appendMessage(msg('m3', 'dave'))).message.seq).toBe(3);
    expect((await fresh.access('c1', 'dave'))?.member?.lastRead).toBe(3);
    await fresh.close();
  });
});
