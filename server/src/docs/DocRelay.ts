/**
 * Documents across nodes. Every node that serves a document keeps its own Y.Doc; an update a
 * client sends is committed to the shared store first (as on one node), then broadcast to this
 * node's clients and published to the relay, which hands it to every other node serving the
 * document (cluster/RedisDocRelay.ts: a Redis stream per document). A node that missed relayed
 * updates (the stream was trimmed, or Redis restarted) is told to resync from the store.
 * Awareness (cursors, names) is relayed with the node it came from, so a dead node's cursors go.
 */
import type { DocRef } from '../storage/DocStore.ts';

/** What a loaded document offers the relay. */
export interface DocRelayTarget {
  /** Updates another node committed (already stored): apply them and tell this node's clients. */
  applyRelayed(update: Uint8Array): void;
  /** Relayed updates were missed: merge the stored content again. */
  resync(): void;
  /** An awareness update of another node's clients. */
  applyRemoteAwareness(node: string, update: Uint8Array): void;
  /** That node is gone: its clients' awareness states are removed. */
  dropNode(node: string): void;
}

/** One document's link to the relay. */
export interface DocRelayLink {
  /** Start delivering to `target` (after the document loaded). */
  attach(target: DocRelayTarget): void;
  /** A committed update of this node's clients (merged per group commit). */
  publishUpdate(update: Uint8Array): void;
  /** This node's clients' awareness changes (an y-protocols awareness update). */
  publishAwareness(update: Uint8Array): void;
  /** The document unloaded here. */
  close(): void;
}

export interface DocRelay {
  /**
   * Called before the document is loaded from the store: the link remembers where the relay
   * stands, so an update committed after the load is delivered (one committed before it may be
   * delivered too; applying a Yjs update twice changes nothing).
   */
  open(ref: DocRef): Promise<DocRelayLink>;
  close(): Promise<void>;
}
