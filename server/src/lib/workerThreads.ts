import type { Worker } from 'node:worker_threads';

/**
 * Ask a worker thread of ours to finish (it answers the message `'close'` by closing what it holds,
 * after the requests it has) and wait for it to exit. Referenced meanwhile, so the process waits too.
 */
export async function closeWorkerThread(worker: Worker): Promise<void> {
  worker.ref();
  await new Promise<void>((resolve) => {
    worker.once('exit', () => resolve());
    worker.postMessage('close');
  });
}
