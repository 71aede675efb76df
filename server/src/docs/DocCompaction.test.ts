import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../logger.ts';
import { sqliteMigrations } from '../storage/sqlite/migrations/index.ts';
import { SqliteDb } from '../storage/sqlite/SqliteDb.ts';
import { SqliteDocStore } from '../storage/sqlite/SqliteDocStore.ts';
import { COMPACT_TAIL_SHARE, DocCompaction, loadStored } from './DocCompaction.ts';

const log = createLogger('silent', 'test');

/** A stored document whose state holds `chars` characters, and a writer that appends small edits to it. */
async function setup(chars: number) {
  const db = SqliteDb.open(':memory:');
  db.migrate(sqliteMigrations);
  const store = new SqliteDocStore(db);
  const ref = { org: 'acme', name: 'plan' };
  await store.create({ ...ref, owner: 'ann', policy: { exportAllowed: true } });
  const ydoc = new Y.Doc();
  ydoc.getText('t').insert(0, 'x'.repeat(chars));
  const state = Y.encodeStateAsUpdate(ydoc);
  expect(await store.commitCompaction(ref, { expectSeq: 0, upToId: 0, state })).toBe(true);
  const loaded = await loadStored(ref, { store, log });
  expect(loaded.stateBytes).toBe(state.byteLength);
  const compaction = new DocCompaction({
    ref,
    store,
    log,
    limits: { compactEvery: 10 },
    bytes: loaded.bytes,
    stateBytes: loaded.stateBytes,
    uncompacted: loaded.updates,
    onSettled: () => {},
  });
  /** Append `n` edits of `size` characters each, as a document does (bytes first, then the commit). */
  let appended = 0;
  const edit = async (n: number, size: number) => {
    for (let i = 0; i < n; i++) {
      let update: Uint8Array | undefined;
      ydoc.once('update', (u: Uint8Array) => {
        update = u;
      });
      ydoc.getText('t').insert(0, 'y'.repeat(size));
      compaction.addBytes(update!.byteLength);
      appended += update!.byteLength;
      await store.appendUpdates([{ ...ref, update: update! }]);
      compaction.noteCommitted(1);
      await compaction.running;
    }
  };
  const stored = async () => (await store.loadContent(ref)).updates.length;
  const close = async () => {
    await store.close();
    db.close();
  };
  return { edit, stored, close, stateBytes: state.byteLength, appended: () => appended };
}

describe('DocCompaction', () => {
  it('compacts a small document every compactEvery updates', async () => {
    const s = await setup(100);
    await s.edit(9, 1);
    expect(await s.stored()).toBe(9);
    await s.edit(1, 1);
    expect(await s.stored()).toBe(0);
    await s.close();
  });

  it('compacts a large one once its updates add up to a share of its state, not every compactEvery', async () => {
    const s = await setup(400_000);
    // ten times compactEvery small edits: far below an eighth of the state
    await s.edit(100, 1);
    expect(await s.stored()).toBe(100);
    // larger edits until the updates add up to the share: that commit compacts, none before
    const share = s.stateBytes * COMPACT_TAIL_SHARE;
    while ((await s.stored()) > 0) {
      expect(s.appended()).toBeLessThan(share);
      await s.edit(1, 1000);
    }
    expect(s.appended()).toBeGreaterThanOrEqual(share);
    await s.close();
  });
});
