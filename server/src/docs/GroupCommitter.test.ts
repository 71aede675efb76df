import { describe, expect, it } from 'vitest';
import type { DocStore } from '../storage/DocStore.ts';
import { GroupCommitter } from './GroupCommitter.ts';

const append = (c: GroupCommitter, name: string, byte: number): Promise<void> =>
  new Promise((resolve, reject) =>
    c.append({ org: 'default', name }, new Uint8Array([byte]), (err) => (err ? reject(err) : resolve())),
  );

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
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => append(c, i === 2 ? 'b' : 'a', i).then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
    expect(batches).toEqual([['a:1', 'b:2', 'a:3']]);
  });

  it('queues behind a commit in flight and batches what arrived meanwhile', async () => {
    const { store, batches } = fakeStore({ delayMs: 20 });
    const c = new GroupCommitter(store);
    const first = append(c, 'a', 1);
    await new Promise((r) => setTimeout(r, 5)); // the first transaction is in flight
    const rest = [2, 3, 4].map((i) => append(c, 'a', i));
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([['a:1'], ['a:2', 'a:3', 'a:4']]);
    await c.flush();
  });

  it('rejects every append of a failed transaction, and keeps working', async () => {
    const { store } = fakeStore({ failOn: 1 });
    const c = new GroupCommitter(store);
    const failed = [append(c, 'a', 1), append(c, 'a', 2)];
    for (const p of failed) await expect(p).rejects.toThrow('disk full');
    await expect(append(c, 'a', 3)).resolves.toBeUndefined();
  });
});
