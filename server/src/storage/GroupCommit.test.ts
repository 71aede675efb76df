import { describe, expect, it } from 'vitest';
import { GroupCommit } from './GroupCommit.ts';
import { StoreClosedError } from './storageErrors.ts';

/** A queue over a recording commit; optionally slow, failing on one batch, or answering short. */
function queue(opts: { delayMs?: number; failOn?: number; short?: boolean; intervalMs?: number } = {}) {
  const batches: number[][] = [];
  const q = new GroupCommit<number, string>({
    name: 'test store',
    intervalMs: opts.intervalMs,
    maxBatch: 4,
    async commit(ops) {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      batches.push(ops);
      if (opts.failOn === batches.length) throw new Error('disk on fire');
      return opts.short ? ops.slice(1).map(String) : ops.map((o) => `ok ${o}`);
    },
  });
  return { q, batches };
}

describe('GroupCommit', () => {
  it('commits one turn’s writes together, in order, at most maxBatch per transaction', async () => {
    const { q, batches } = queue();
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => q.write(i)));
    expect(results).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5', 'ok 6']);
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it('runs the callbacks of a batch synchronously, in submission order', async () => {
    const { q } = queue();
    const seen: string[] = [];
    for (const i of [1, 2, 3]) q.submit(i, (_err, r) => seen.push(`${r}`));
    q.submit(4, () => {
      // no microtask ran between the callbacks of one batch
      seen.push(`sync ${seen.length}`);
    });
    await q.flush();
    expect(seen).toEqual(['ok 1', 'ok 2', 'ok 3', 'sync 3']);
  });

  it('queues behind a commit in flight and paces commits under load', async () => {
    const { q, batches } = queue({ delayMs: 10, intervalMs: 40 });
    const first = q.write(1);
    await new Promise((r) => setTimeout(r, 2));
    const started = performance.now();
    const rest = [2, 3].map((i) => q.write(i));
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3]]);
    // the second commit waited for the interval since the first began
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('fails every write of a failed batch with the same error and keeps committing', async () => {
    const { q } = queue({ failOn: 1 });
    const failed = [q.write(1), q.write(2)];
    for (const p of failed) await expect(p).rejects.toThrow('disk on fire');
    await expect(q.write(3)).resolves.toBe('ok 3');
  });

  it('fails the writes a commit did not answer for', async () => {
    const { q } = queue({ short: true });
    const results = await Promise.allSettled([q.write(1), q.write(2), q.write(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });

  it('a callback that throws does not stop the others of its batch', async () => {
    const { q } = queue();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      q.submit(1, () => {
        throw new Error('caller bug');
      });
      await expect(q.write(2)).resolves.toBe('ok 2');
      await new Promise((r) => setImmediate(r));
      expect(warnings.join('\n')).toContain('caller bug');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('close commits what is queued, then refuses with StoreClosedError', async () => {
    const { q, batches } = queue({ delayMs: 5 });
    const pending = q.write(1);
    await q.close();
    await expect(pending).resolves.toBe('ok 1');
    expect(batches).toEqual([[1]]);
    await expect(q.write(2)).rejects.toBeInstanceOf(StoreClosedError);
    expect(() => q.submit(3, () => {})).toThrow(StoreClosedError);
  });
});
