/**
 * Cluster: one loaded document's side of the relay (`DocRelay.ts`). Owns the document's
 * `DocRelayLink`: applies the updates other nodes committed (already stored, so not stored again)
 * and sends what they changed to this node's clients, resyncs from the store when relayed updates
 * were missed or arrive before what they depend on, passes awareness both ways through
 * `DocAwareness`, and publishes this node's merged commits to the other nodes.
 */
import * as Y from 'yjs';
import { syncUpdateMessage } from './codec.ts';
import type { DocAwareness } from './DocAwareness.ts';
import type { DocRelayLink } from './DocRelay.ts';
import type { Document } from './Document.ts';
import type { DocumentDeps } from './DocumentOptions.ts';
import { aheadOfState, dropPending, missingDependency } from './dependencies.ts';

/** Origin of updates other nodes committed (cluster). */
const RELAY_ORIGIN = Symbol('relay');

/** What only the document itself can give its relay side. */
export interface DocRelayedInternals {
  readonly aware: DocAwareness;
  /** Apply to the live doc, returning the updates Yjs emitted; undefined if applying threw. */
  applyCaptured(update: Uint8Array, origin: unknown): Uint8Array[] | undefined;
  /** Relayed content added `bytes` to the stored size (approximately). */
  addBytes(bytes: number): void;
  /** Throw the live doc away and let clients resync from storage. */
  reload(): void;
}

export class DocRelayed {
  readonly #link: DocRelayLink;
  readonly #doc: Document;
  readonly #deps: Pick<DocumentDeps, 'store' | 'log'>;
  readonly #inner: DocRelayedInternals;
  #resyncing: Promise<void> | undefined;

  /** Take relayed updates and awareness from the other nodes serving `doc` (just loaded). */
  constructor(
    link: DocRelayLink,
    doc: Document,
    deps: Pick<DocumentDeps, 'store' | 'log'>,
    inner: DocRelayedInternals,
  ) {
    this.#link = link;
    this.#doc = doc;
    this.#deps = deps;
    this.#inner = inner;
    inner.aware.relayTo(link);
    link.attach({
      applyRelayed: (update) => this.#applyRelayed(update),
      resync: () => void this.#resync(),
      applyRemoteAwareness: (node, update) => inner.aware.applyRemote(node, update),
      dropNode: (node) => inner.aware.dropNode(node),
    });
  }

  /** A group commit of this node's clients, merged: to the other nodes. */
  publishUpdate(update: Uint8Array): void {
    this.#link.publishUpdate(update);
  }

  /** The document unloaded here. */
  close(): void {
    this.#link.close();
  }

  /**
   * An update another node committed: applied and sent to this node's clients (not stored again).
   * One that depends on something not here yet (relayed out of order) makes the document merge the
   * stored content instead, which holds it and whatever it depends on.
   */
  #applyRelayed(update: Uint8Array): void {
    const { ydoc, org, name } = this.#doc;
    if (this.#doc.closing) return;
    try {
      if (aheadOfState(ydoc, update) || missingDependency(ydoc, Y.decodeUpdate(update))) {
        void this.#resync();
        return;
      }
    } catch (err) {
      this.#deps.log.error({ err, org, doc: name }, 'relayed update is malformed; resyncing from storage');
      void this.#resync();
      return;
    }
    this.#sendMerged(this.#inner.applyCaptured(update, RELAY_ORIGIN));
  }

  /** Merge the stored content into the live document (relayed updates were missed); clients get what was new. */
  #resync(): Promise<void> {
    const doc = this.#doc;
    this.#resyncing ??= (async () => {
      try {
        const rows = await this.#deps.store.loadContent(doc.ref);
        if (doc.closing) return;
        const parts = [...(rows.state ? [rows.state] : []), ...rows.updates.map((u) => u.update)];
        this.#sendMerged(this.#inner.applyCaptured(Y.mergeUpdates(parts), RELAY_ORIGIN));
        dropPending(doc.ydoc);
      } catch (err) {
        this.#deps.log.error({ err, org: doc.org, doc: doc.name }, 'resync from storage failed; reloading');
        this.#inner.reload();
      } finally {
        this.#resyncing = undefined;
      }
    })();
    return this.#resyncing;
  }

  /** Send what applying relayed content changed to this node's clients, as one update. */
  #sendMerged(captured: Uint8Array[] | undefined): void {
    if (!captured) {
      this.#inner.reload();
      return;
    }
    if (captured.length === 0) return;
    const update = captured.length === 1 ? captured[0]! : Y.mergeUpdates(captured);
    this.#inner.addBytes(update.byteLength);
    const message = syncUpdateMessage(update);
    for (const conn of this.#doc.connections()) conn.send(message);
  }
}
