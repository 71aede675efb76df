/**
 * One loaded shared document: its Y.Doc and connections, the path of a client's message (decode,
 * check, apply, store, broadcast) and its lifecycle (load, leases, idle, close, reload after a
 * failure). The wire codec is in `codec.ts`, awareness in `DocAwareness`, the commit order in
 * `DocCommits`, compaction and the stored size in `DocCompaction`, versions in `DocVersions`, the
 * updates and awareness of other nodes (cluster) in `DocRelayed`.
 */
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Logger } from '../logger.ts';
import type { DocRef, StoredDocVersion } from '../storage/DocStore.ts';
import {
  decodeClientMessage,
  permissionDeniedMessage,
  syncStep1Message,
  syncStep2Message,
  syncUpdateMessage,
} from './codec.ts';
import { isEmptyUpdate } from './content.ts';
import { DocAwareness } from './DocAwareness.ts';
import { DocCommits } from './DocCommits.ts';
import { DocCompaction, loadStored } from './DocCompaction.ts';
import type { DocConnection, YjsCloseReason } from './DocConnection.ts';
import type { DocRelayLink } from './DocRelay.ts';
import { DocRelayed } from './DocRelayed.ts';
import type { DocumentDeps } from './DocumentOptions.ts';
import { DocVersions } from './DocVersions.ts';
import { aheadOfState, dropPending, missingDependency } from './dependencies.ts';

export type { DocumentDeps, DocumentLimits, RefusedOutcome } from './DocumentOptions.ts';

/** Origin of server-side changes (restore). */
const SERVER_ORIGIN = Symbol('server');
/** A full sync answer at least this large is kept for the next client that has nothing yet. */
const FULL_SYNC_MIN_BYTES = 64 * 1024;
/** How long it is kept at most while the document does not change. */
const FULL_SYNC_KEEP_MS = 10_000;

/**
 * One loaded shared document: its Y.Doc, awareness (`DocAwareness`) and connected clients.
 *
 * Every change goes the same way: the update is decoded (framing garbage is refused before it
 * touches anything), applied to the live Y.Doc while its `update` events are captured, and only
 * the captured updates are appended to storage. Nothing about a change leaves the server before
 * its storage commit: broadcasts wait for their group commit, and an answer to sync step 1 waits
 * for every commit queued before it (`DocCommits`). A group commit's updates go out as one merged
 * update. If applying throws half-way, nothing captured is stored, the offender is closed (4400)
 * and the live document is thrown away and reloaded from storage (clients resync).
 * An update with a dependency the document does not have is refused before it is applied (it
 * would stay pending in the Y.Doc): the document never holds pending structures.
 * Awareness: each connection sets only the client ids it introduced, with states of bounded size.
 */
export class Document {
  /** The organisation whose namespace holds this document. */
  readonly org: string;
  readonly name: string;
  /** Where it is stored (organisation and name). */
  readonly ref: DocRef;
  readonly ydoc: Y.Doc;
  readonly awareness: Awareness;
  readonly #deps: DocumentDeps;
  readonly #log: Logger;
  readonly #conns = new Set<DocConnection>();
  readonly #aware: DocAwareness;
  readonly #commits: DocCommits;
  readonly #compaction: DocCompaction;
  readonly #versions: DocVersions;
  #leases = 0;
  #closing: Promise<void> | undefined;
  #closed = false;
  /** Cluster: the relay to the other nodes serving this document (`DocRelayed`). */
  #relayed: DocRelayed | undefined;
  /**
   * The sync answer for a client that has nothing yet (an empty state vector): the whole
   * document, encoded once for everyone who opens it until it changes (`FULL_SYNC_KEEP_MS` at
   * most) — ten people opening a 10 MB document together cost one encoding, not ten.
   */
  #fullSync: { message: Uint8Array; timer: NodeJS.Timeout } | undefined;

  private constructor(
    ref: DocRef,
    ydoc: Y.Doc,
    stored: { bytes: number; stateBytes: number; updates: number },
    deps: DocumentDeps,
  ) {
    this.org = ref.org;
    this.name = ref.name;
    this.ref = { org: ref.org, name: ref.name };
    this.ydoc = ydoc;
    this.#deps = deps;
    this.#log = deps.log;
    const { store, log, limits } = deps;
    const checkIdle = () => this.#checkIdle();
    this.#compaction = new DocCompaction({
      ref: this.ref,
      store,
      log,
      limits,
      merger: deps.merger,
      bytes: stored.bytes,
      stateBytes: stored.stateBytes,
      uncompacted: stored.updates,
      onSettled: checkIdle,
    });
    this.#versions = new DocVersions({ ref: this.ref, ydoc, store, log, limits });
    this.#commits = new DocCommits(this.ref, deps, {
      isClosed: () => this.#closed,
      onCommitted: (update, skip, count) => this.#broadcast(update, skip, count),
      onStorageFailure: () => this.#reload(),
      onSettled: checkIdle,
    });
    this.#aware = new DocAwareness(ydoc, this.#conns, deps);
    this.awareness = this.#aware.awareness;
    // any transaction may have changed it: the next full sync encodes anew
    ydoc.on('afterTransaction', () => this.#dropFullSync());
  }

  /**
   * Load the stored state and updates. A stored update that fails to apply is skipped and logged.
   * In a cluster `link` (opened before the load) then delivers what other nodes commit.
   */
  static async load(ref: DocRef, deps: DocumentDeps, link?: DocRelayLink): Promise<Document> {
    const { org, name } = ref;
    const { ydoc, bytes, stateBytes, updates } = await loadStored(ref, deps);
    // a document never holds pending structures (they would be merged again with every later
    // update); stored rows are what Yjs integrated, so this finds something only in damaged data
    if (dropPending(ydoc)) deps.log.warn({ org, doc: name }, 'stored content with missing dependencies dropped');
    const doc = new Document(ref, ydoc, { bytes, stateBytes, updates }, deps);
    if (link)
      doc.#relayed = new DocRelayed(link, doc, deps, {
        aware: doc.#aware,
        applyCaptured: (update, origin) => doc.#applyCaptured(update, origin),
        addBytes: (bytes) => doc.#compaction.addBytes(bytes),
        reload: () => doc.#reload(),
      });
    deps.log.debug({ org, doc: name, bytes, updates }, 'document loaded');
    return doc;
  }

  get closed(): boolean {
    return this.#closed;
  }
  /** Set while closing; resolves when closed. */
  get closing(): Promise<void> | undefined {
    return this.#closing;
  }
  get connectionCount(): number {
    return this.#conns.size;
  }
  connections(): IterableIterator<DocConnection> {
    return this.#conns.values();
  }
  get storedBytes(): number {
    return this.#compaction.storedBytes;
  }

  /** Keep the document loaded without a connection (HTTP reads, restores). Pair with `release()`. */
  retain(): void {
    this.#leases++;
  }
  release(): void {
    this.#leases = Math.max(0, this.#leases - 1);
    this.#checkIdle();
  }

  /** Start serving a connection: ask for what it has (sync step 1) and show who is here. */
  addConnection(conn: DocConnection): void {
    if (this.#closing) throw new Error('document is closing');
    this.#conns.add(conn);
    conn.send(syncStep1Message(this.ydoc));
    this.#aware.greet(conn);
  }

  removeConnection(conn: DocConnection): void {
    if (!this.#conns.delete(conn)) return;
    this.#aware.removeConnection(conn);
    this.#checkIdle();
  }

  /** Handle one binary frame. Never throws: bad input closes that connection with a code. */
  handleMessage(conn: DocConnection, message: Uint8Array): void {
    if (this.#closing || conn.closed) return;
    if (message.byteLength > this.#deps.limits.maxUpdateBytes) {
      this.#deps.onRefused?.('too_large');
      conn.close('TOO_LARGE', `message over ${this.#deps.limits.maxUpdateBytes} bytes`);
      return;
    }
    try {
      const decoded = decodeClientMessage(message);
      switch (decoded.kind) {
        case 'syncStep1': {
          const { stateVector } = decoded;
          this.#commits.afterCommits(() => {
            if (this.#closed || conn.closed) return;
            conn.send(this.#syncAnswer(stateVector));
          });
          break;
        }
        case 'update':
          this.#receiveUpdate(conn, decoded.update);
          break;
        case 'awareness':
          this.#aware.receive(conn, decoded.update);
          break;
        case 'queryAwareness':
          this.#aware.sendAll(conn);
          break;
        case 'auth':
          break; // clients have nothing to say here
      }
    } catch (err) {
      this.#deps.onRefused?.('malformed');
      conn.log.info({ err: (err as Error).message }, 'malformed document message; closing the connection');
      conn.close('MALFORMED');
    }
  }

  /**
   * Apply a change made by the server (a restore) through the same path as a client's: stored
   * before it is broadcast to every client. Resolves once stored.
   */
  async applyServerUpdate(update: Uint8Array): Promise<void> {
    if (this.#closing) throw new Error('document is closing');
    const captured = this.#applyCaptured(update, SERVER_ORIGIN);
    if (!captured) {
      this.#reload();
      throw new Error('update failed to apply');
    }
    for (const u of captured) this.#commitAndBroadcast(u, undefined);
    await this.#commits.whenCommitted();
  }

  /** The full state once everything applied so far is stored. */
  async committedState(): Promise<Uint8Array> {
    await this.#commits.whenCommitted();
    return Y.encodeStateAsUpdate(this.ydoc);
  }

  /** Resolves when every write queued so far is committed and every compaction finished. */
  async flushed(): Promise<void> {
    await this.#commits.whenCommitted();
    while (this.#compaction.running) await this.#compaction.running;
  }

  /**
   * Close: each connection with `reason` (none: they were already closed), wait for writes and
   * compaction, save an automatic version if the document changed since the last one, release
   * the Y.Doc. Idempotent.
   */
  close(reason?: YjsCloseReason, opts: { saveVersion?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      for (const conn of this.#conns) if (reason) conn.close(reason);
      this.#conns.clear();
      await this.flushed();
      const saving = (opts.saveVersion ?? true) ? this.#versions.saveOnUnload() : undefined;
      if (saving) await saving;
      this.#relayed?.close();
      this.#aware.destroy();
      this.ydoc.destroy();
      this.#dropFullSync();
      this.#closed = true;
      this.#log.debug({ org: this.org, doc: this.name }, 'document unloaded');
      this.#notify(this.#deps.onClose, 'close');
    })();
    return this.#closing;
  }

  /** Save a version of the stored state. */
  async saveVersion(input: { label: string; auto: boolean; createdBy: string }): Promise<StoredDocVersion> {
    const state = await this.committedState();
    return this.#versions.save(state, input);
  }

  /**
   * Save an automatic version when the document has changed for `versionIntervalMs` since its
   * last one. The owner calls this for every loaded document on one shared timer (no timer per
   * document: there are many).
   */
  saveVersionIfDue(now: number): void {
    if (this.#closing) return;
    this.#versions.saveIfDue(now);
  }

  /** Compact the stored updates now (see `DocCompaction.compact`). */
  compact(): Promise<{ merged: number; bytes: number } | undefined> {
    return this.#compaction.compact();
  }

  #receiveUpdate(conn: DocConnection, update: Uint8Array): void {
    if (!conn.canWrite) {
      if (!isEmptyUpdate(update)) {
        this.#deps.onRefused?.('read_only');
        conn.send(permissionDeniedMessage(`read-only access to ${this.name}: the change was not applied`));
      }
      return;
    }
    // An update Yjs cannot integrate yet (something it depends on is not in the document) would
    // stay pending in the Y.Doc and be merged again with every later update: a few of them froze
    // the event loop for seconds. It is refused before it touches anything, and the client is
    // asked for what is missing (sync step 1: a stock provider answers with everything we lack).
    // First the cheap check against the state vector: does every client start where we are?
    const ahead = aheadOfState(this.ydoc, update);
    if (ahead) {
      this.#refusePending(conn, update.byteLength, ahead);
      return;
    }
    // framing garbage (truncated varints, huge lengths, unknown content) fails here, untouched
    const decoded = Y.decodeUpdate(update);
    if (decoded.structs.length === 0 && decoded.ds.clients.size === 0) return;
    const missing = missingDependency(this.ydoc, decoded);
    if (missing) {
      this.#refusePending(conn, update.byteLength, missing);
      return;
    }
    if (this.#compaction.storedBytes + update.byteLength > this.#deps.limits.maxDocBytes) {
      this.#deps.onRefused?.('too_large');
      conn.close('TOO_LARGE', `document would exceed ${this.#deps.limits.maxDocBytes} bytes`);
      return;
    }
    const captured = this.#applyCaptured(update, conn);
    if (!captured) {
      this.#deps.onRefused?.('malformed');
      conn.close('MALFORMED', 'update failed to apply');
      this.#reload();
      return;
    }
    // what was integrated is stored; anything Yjs still kept aside (a dependency cycle the checks
    // above cannot see) is dropped, never kept: the document holds no pending structures
    if (dropPending(this.ydoc)) this.#refusePending(conn, update.byteLength, 'part of it stayed pending');
    else conn.clearPendingRefused();
    for (const u of captured) this.#commitAndBroadcast(u, conn);
  }

  /**
   * Refuse an update with missing dependencies: answer with sync step 1 (the client sends what we
   * lack; updates relayed out of order catch up that way). A connection whose updates keep being
   * refused is closed: 4400 after `maxPendingUpdates` in a row, 4413 once the refused bytes and
   * the stored ones together pass the document size cap.
   */
  #refusePending(conn: DocConnection, bytes: number, why: string): void {
    this.#deps.onRefused?.('pending');
    const refused = conn.notePendingRefused(bytes);
    const maxInRow = this.#deps.limits.maxPendingUpdates ?? 8;
    if (refused.count > maxInRow) {
      conn.log.info(
        { refused: refused.count, bytes: refused.bytes, why },
        'updates keep missing dependencies; closing',
      );
      conn.close('MALFORMED', `more than ${maxInRow} updates with missing dependencies`);
      return;
    }
    if (this.#compaction.storedBytes + refused.bytes > this.#deps.limits.maxDocBytes) {
      conn.log.info(
        { refused: refused.count, bytes: refused.bytes, why },
        'refused updates over the size cap; closing',
      );
      conn.close('TOO_LARGE', `updates with missing dependencies over ${this.#deps.limits.maxDocBytes} bytes`);
      return;
    }
    conn.log.debug({ refused: refused.count, why }, 'update with missing dependencies refused; asking for sync');
    conn.send(syncStep1Message(this.ydoc));
  }

  /**
   * Apply an update to the live doc and return the updates Yjs emitted for it. If applying
   * throws, the live doc may hold part of it: nothing is returned (so nothing is stored) and
   * the document is reloaded from storage.
   */
  #applyCaptured(update: Uint8Array, origin: unknown): Uint8Array[] | undefined {
    const captured: Uint8Array[] = [];
    const onUpdate = (u: Uint8Array) => captured.push(u);
    this.ydoc.on('update', onUpdate);
    try {
      Y.applyUpdate(this.ydoc, update, origin);
      return captured;
    } catch (err) {
      this.#log.warn(
        { err, org: this.org, doc: this.name },
        'update failed to apply; reloading the document from storage',
      );
      return undefined;
    } finally {
      this.ydoc.off('update', onUpdate);
    }
  }

  /** Sync step 2 for a client's state vector; the whole document's is shared until it changes. */
  #syncAnswer(stateVector: Uint8Array): Uint8Array {
    const empty = stateVector.byteLength === 1 && stateVector[0] === 0;
    if (!empty) return syncStep2Message(Y.encodeStateAsUpdate(this.ydoc, stateVector));
    if (this.#fullSync) return this.#fullSync.message;
    const message = syncStep2Message(Y.encodeStateAsUpdate(this.ydoc));
    // small documents cost little to encode: kept only where it pays
    if (message.byteLength >= FULL_SYNC_MIN_BYTES) {
      const timer = setTimeout(() => this.#dropFullSync(), FULL_SYNC_KEEP_MS);
      timer.unref();
      this.#fullSync = { message, timer };
    }
    return message;
  }

  #dropFullSync(): void {
    if (!this.#fullSync) return;
    clearTimeout(this.#fullSync.timer);
    this.#fullSync = undefined;
  }

  /** Throw the live doc away (it may hold part of a failed update): clients reconnect and resync from storage. */
  #reload(): void {
    void this.close('RELOAD', { saveVersion: false });
  }

  #commitAndBroadcast(update: Uint8Array, origin: DocConnection | undefined): void {
    this.#compaction.addBytes(update.byteLength);
    this.#commits.append(update, origin);
  }

  /** A group commit's updates, merged: to every connection but its sender (when there was one), and to the other nodes. */
  #broadcast(update: Uint8Array, skip: DocConnection | undefined, count: number): void {
    const message = syncUpdateMessage(update);
    for (const conn of this.#conns) if (conn !== skip) conn.send(message);
    this.#relayed?.publishUpdate(update);
    this.#versions.markDirty();
    this.#compaction.noteCommitted(count);
  }

  #checkIdle(): void {
    if (this.#closing || this.#conns.size > 0 || this.#leases > 0 || this.#commits.pending) return;
    this.#notify(this.#deps.onIdle, 'idle');
  }

  #notify(hook: ((doc: Document) => void) | undefined, what: string): void {
    try {
      hook?.(this);
    } catch (err) {
      this.#log.error({ err, org: this.org, doc: this.name, what }, 'document owner hook failed');
    }
  }
}
