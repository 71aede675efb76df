import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../logger.ts';
import { mergeStored } from './DocCompaction.ts';
import { DocMergeWorker } from './DocMergeWorker.ts';

const workers: DocMergeWorker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
});

/** A stored state and the updates appended after it, as a document's storage holds them. */
function history(): { state: Uint8Array; updates: Uint8Array[]; text: string } {
  const doc = new Y.Doc();
  const text = doc.getText('t');
  text.insert(0, 'hello world');
  const state = Y.encodeStateAsUpdate(doc);
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < 200; i++) text.insert(text.length, ` ${i}`);
  text.delete(0, 6); // deleted content: garbage-collected by the merge
  return { state, updates, text: text.toString() };
}

function textOf(state: Uint8Array): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  return doc.getText('t').toString();
}

describe('DocMergeWorker (compaction merges off the event loop)', () => {
  it('merges a stored state and its updates on its thread exactly as the in-thread merge does', async () => {
    const w = new DocMergeWorker(createLogger('silent', 'test'));
    workers.push(w);
    const h = history();
    const off = await w.merge(h.state, h.updates);
    const here = mergeStored(h.state, h.updates);
    expect(textOf(off.state)).toBe(h.text);
    expect(textOf(here.state)).toBe(h.text);
    expect(off.state.byteLength).toBe(here.state.byteLength);
    expect(off.skipped).toEqual([]);
    // the caller's rows are untouched (copied, not transferred)
    expect(h.updates.every((u) => u.byteLength > 0)).toBe(true);
  });

  it('leaves out an update that does not apply and names it; later merges still work', async () => {
    const w = new DocMergeWorker(createLogger('silent', 'test'));
    workers.push(w);
    const h = history();
    const broken = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01]);
    const off = await w.merge(h.state, [...h.updates.slice(0, 10), broken, ...h.updates.slice(10)]);
    expect(off.skipped.map((s) => s.index)).toEqual([10]);
    expect(textOf(off.state)).toBe(h.text);
    const again = await w.merge(undefined, h.updates.slice(0, 5));
    expect(again.skipped).toEqual([]);
  });

  it('warms: answers once its thread has booted, then merges as before (a warm after close is a no-op)', async () => {
    const w = new DocMergeWorker(createLogger('silent', 'test'));
    workers.push(w);
    await w.warm(30_000);
    const h = history();
    expect(textOf((await w.merge(h.state, h.updates)).state)).toBe(h.text);
    await w.close();
    await w.warm(30_000);
  });

  it('refuses merges once closed', async () => {
    const w = new DocMergeWorker(createLogger('silent', 'test'));
    await w.close();
    await expect(w.merge(undefined, [])).rejects.toThrow(/closed/);
  });
});
