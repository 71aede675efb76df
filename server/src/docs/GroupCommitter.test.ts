import { describe, expect, it } from 'vitest';
import type { DocStore } from '../storage/DocStore.ts';
import { GroupCommitter } from './GroupCommitter.ts';

/** A store that records transactions; optionally slow (async) or failing. */
function fakeStore(opts: { delayMs?: number; failOn?: number } = {}) {
  const batches: string[][] = [];
  let nextId = 1;
  const store = {
    async appendUpdates(entries: readonly { name: string; update: Uint8Array }[]) {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      batches.push(entries.map((e) => `${e.name}:${e.update[0]}`));
      if (opts.failOn === batches.length) throw new Error('disk full');
      return entries.map(() => nextId++);
    },
  } as unknown as DocStore;
  return { store, batches };
}

describe('GroupCommitter', () => {
  it('commits what arrives in one turn as one transaction, in order, and resolves each append', async () => {
    const { store, batches } = fakeStore();
    const c = new GroupCommitter(store);
    const ids = await Promise.all([1, 2, 3].map((i) => c.append(i === 2 ? 'b' : 'a', new Uint8Array([i]))));
    expect(ids).toEqual([1, 2, 3]);
    expect(batches).toEqual([['a:1', 'b:2', 'a:3']]);
  });

  it('queues behind a commit in flight and batches what arrived meanwhile', async () => {
    const { store, batches } = fakeStore({ delayMs: 20 });
    const c = new GroupCommitter(store);
    const first = c.append('a', new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 5)); // the first transaction is in flight
    const rest = [2, 3, 4].map((i) => c.append('a', new Uint8Array([i])));
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([['a:1'], ['a:2', 'a:3', 'a:4']]);
    await c.flush();
  });

  it('rejects every append of a failed transaction, and keeps working', async () => {
    const { store } = fakeStore({ failOn: 1 });
    const c = new GroupCommitter(store);
    const failed = [c.append('a', new Uint8Array([1])), c.append('a', new Uint8Array([2]))];
    for (const p of failed) await expect(p).rejects.toThrow('disk full');
    await expect(c.append('a', new Uint8Array([3]))).resolves.toBeGreaterThan(0);
  });
});
