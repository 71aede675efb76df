/**
 * Worker thread of DocMergeWorker: merges a document's stored state and appended updates into one
 * state (a scratch Y.Doc with garbage collection, so deleted content is dropped), the CPU-heavy
 * part of a compaction, off the main event loop. One request at a time: `{ id, state?, updates }`
 * → `{ id, state, skipped }` (`skipped`: indexes of updates that failed to apply) or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import * as Y from 'yjs';

interface MergeRequest {
  id: number;
  state?: Uint8Array;
  updates: Uint8Array[];
}

const port = parentPort;
if (!port) throw new Error('docMergeThread must run in a worker thread');

port.on('message', (req: MergeRequest | { id: number; ping: true } | 'close') => {
  if (req === 'close') {
    port.close();
    return;
  }
  if ('ping' in req) {
    port.postMessage({ id: req.id });
    return;
  }
  const scratch = new Y.Doc({ gc: true });
  try {
    if (req.state) Y.applyUpdate(scratch, req.state);
    const skipped: Array<{ index: number; error: string }> = [];
    req.updates.forEach((u, index) => {
      try {
        Y.applyUpdate(scratch, u);
      } catch (err) {
        // reported to the main thread, which logs it with the document and the update's id
        skipped.push({ index, error: (err as Error).message });
      }
    });
    const state = Y.encodeStateAsUpdate(scratch);
    port.postMessage({ id: req.id, state, skipped }, [state.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).message });
  } finally {
    scratch.destroy();
  }
});
