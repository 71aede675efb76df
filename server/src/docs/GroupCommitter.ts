import type { DocRef, DocStore } from '../storage/DocStore.ts';
import { GroupCommit } from '../storage/GroupCommit.ts';

/** Called once the update's transaction committed (no error) or failed. */
export type CommitCallback = (err: unknown | undefined) => void;

/** At most this many updates in one transaction. */
const MAX_BATCH = 1000;

/**
 * Group commit of document updates, on the stores' one `GroupCommit` queue: updates appended in
 * the same turn of the event loop are committed in one `DocStore.appendUpdates` transaction, and
 * their callbacks run synchronously one after the other, in append order, once it committed — so
 * a document sees a whole batch before any microtask runs and can broadcast it as one merged
 * message.
 */
export class GroupCommitter {
  readonly #queue: GroupCommit<DocRef & { update: Uint8Array }, number>;

  constructor(store: DocStore, opts: { onCommit?: (updates: number, seconds: number) => void } = {}) {
    this.#queue = new GroupCommit({
      name: 'document store',
      maxBatch: MAX_BATCH,
      commit: (entries) => store.appendUpdates(entries),
      onCommit: opts.onCommit,
    });
  }

  append(doc: DocRef, update: Uint8Array, done: CommitCallback): void {
    this.#queue.submit({ org: doc.org, name: doc.name, update }, (err) => done(err));
  }

  /** Resolves when everything appended so far is committed (or failed). */
  flush(): Promise<void> {
    return this.#queue.flush();
  }
}
