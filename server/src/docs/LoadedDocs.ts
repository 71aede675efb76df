/**
 * The documents loaded on this node: one load per document however many open it at once, leases
 * for HTTP reads and restores, unloading a document once it is idle, the documents being deleted,
 * and the one timer that saves automatic versions of every loaded document.
 */

import { MoimError } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import type { DocRef, DocStore } from '../storage/DocStore.ts';
import type { DocMerger } from './DocMergeWorker.ts';
import type { DocMetrics } from './DocMetrics.ts';
import type { DocRelay } from './DocRelay.ts';
import { Document, type DocumentDeps, type DocumentLimits } from './Document.ts';
import type { GroupCommitter } from './GroupCommitter.ts';

interface DocEntry {
  promise: Promise<Document>;
  doc?: Document;
}

/**
 * The key of a document in maps: a name is unique only inside its organisation (each org has its
 * own namespace). JSON keeps the pair unambiguous; Maps keep names like `constructor` harmless.
 */
const docKey = (ref: DocRef): string => JSON.stringify([ref.org, ref.name]);

export class LoadedDocs {
  readonly #log: Logger;
  readonly #metrics: DocMetrics;
  /** Loaded (or loading) documents by `docKey`. An entry leaves the map when its document closes. */
  readonly #docs = new Map<string, DocEntry>();
  /** Documents being deleted, by `docKey`. */
  readonly #deleting = new Set<string>();
  /** What every document gets (one object for all of them). */
  readonly #docDeps: DocumentDeps;
  readonly #relay: DocRelay | undefined;
  /** Automatic versions of every loaded document (one timer for all of them). */
  readonly #versionSweep: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(opts: {
    store: DocStore;
    committer: GroupCommitter;
    limits: DocumentLimits;
    log: Logger;
    metrics: DocMetrics;
    relay?: DocRelay | undefined;
    merger?: DocMerger | undefined;
  }) {
    this.#log = opts.log;
    this.#relay = opts.relay;
    this.#metrics = opts.metrics;
    const versionMs = opts.limits.versionIntervalMs;
    if (versionMs > 0) {
      // an automatic version is at most this much later than its interval
      this.#versionSweep = setInterval(this.#sweepVersions, Math.min(Math.max(versionMs / 4, 50), 5_000));
      this.#versionSweep.unref();
    }
    const updates = opts.metrics.updates;
    this.#docDeps = {
      store: opts.store,
      committer: opts.committer,
      merger: opts.merger,
      limits: opts.limits,
      log: opts.log, // every document log line carries `doc` itself
      onRefused: (outcome) => updates.inc({ outcome }),
      onStored: (n) => updates.inc({ outcome: 'stored' }, n),
      onIdle: (doc) => {
        void doc.close();
      },
      onClose: (doc) => {
        this.#metrics.loaded.dec();
        const key = docKey(doc.ref);
        const entry = this.#docs.get(key);
        if (entry?.doc === doc) this.#docs.delete(key);
      },
    };
  }

  /** Documents loaded (or loading) now. */
  get size(): number {
    return this.#docs.size;
  }

  /** The loaded document, if it is loaded. */
  async loaded(ref: DocRef): Promise<Document | undefined> {
    return this.#docs.get(docKey(ref))?.promise;
  }

  /** The document if it is loaded now (not while it loads): no waiting. */
  loadedNow(ref: DocRef): Document | undefined {
    return this.#docs.get(docKey(ref))?.doc;
  }

  /** Load (or reuse) a document and retain it once; the caller releases it. */
  async open(ref: DocRef): Promise<Document> {
    const key = docKey(ref);
    for (;;) {
      if (this.#closing) throw new MoimError('UNAVAILABLE', 'server is shutting down');
      let entry = this.#docs.get(key);
      if (!entry) {
        const fresh: DocEntry = { promise: this.#load(ref) };
        entry = fresh;
        this.#docs.set(key, fresh);
        fresh.promise.then(
          (doc) => {
            fresh.doc = doc;
          },
          // the failure reaches (and is logged by) whoever awaits `entry.promise` below
          () => {
            if (this.#docs.get(key) === fresh) this.#docs.delete(key);
          },
        );
      }
      const doc = await entry.promise;
      if (doc.closing) {
        await doc.closing;
        continue;
      }
      doc.retain();
      return doc;
    }
  }

  /** Run `fn` with the document loaded (loading it if needed) and unload it after if nobody else uses it. */
  async withDoc<T>(ref: DocRef, fn: (doc: Document) => Promise<T>): Promise<T> {
    const doc = await this.open(ref);
    try {
      return await fn(doc);
    } finally {
      doc.release();
    }
  }

  isDeleting(ref: DocRef): boolean {
    return this.#deleting.has(docKey(ref));
  }

  /** Mark a document as being deleted; false when it already is. Pair with `endDelete`. */
  startDelete(ref: DocRef): boolean {
    const key = docKey(ref);
    if (this.#deleting.has(key)) return false;
    this.#deleting.add(key);
    return true;
  }

  endDelete(ref: DocRef): void {
    this.#deleting.delete(docKey(ref));
  }

  /** Close the document if it is loaded: every client with 4410, its writes awaited, no version saved. */
  async unloadForDelete(ref: DocRef): Promise<void> {
    const entry = this.#docs.get(docKey(ref));
    if (!entry) return;
    const doc = await entry.promise.catch((err: unknown) => {
      // nothing loaded, so nothing to close; the load failure itself was logged where it was awaited
      this.#log.debug({ err, org: ref.org, doc: ref.name }, 'deleting a document whose load failed');
      return undefined;
    });
    await doc?.close('GONE', { saveVersion: false });
  }

  /** Stop loading, and close every document (their clients with 1001). */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#versionSweep);
    const docs = await Promise.all(
      [...this.#docs.values()].map((e) =>
        e.promise.catch((err: unknown) => {
          // a document that failed to load has nothing to close
          this.#log.debug({ err }, 'a document failed to load before closing');
          return undefined;
        }),
      ),
    );
    await Promise.all(docs.map((d) => d?.close('GOING_AWAY')));
  }

  async #load(ref: DocRef): Promise<Document> {
    // cluster: where the relay stands is read before the store, so nothing committed after the load is missed
    const link = await this.#relay?.open(ref);
    let doc: Document;
    try {
      doc = await Document.load(ref, this.#docDeps, link);
    } catch (err) {
      link?.close();
      throw err;
    }
    this.#metrics.loaded.inc();
    return doc;
  }

  #sweepVersions = (): void => {
    const now = Date.now();
    for (const entry of this.#docs.values()) entry.doc?.saveVersionIfDue(now);
  };
}
