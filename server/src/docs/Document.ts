import { DOC_MESSAGE, DOC_SYNC_MESSAGE } from '@moim/protocol';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as authProtocol from 'y-protocols/auth';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Logger } from '../logger.ts';
import type { DocRef, DocStore, StoredDocVersion } from '../storage/DocStore.ts';
import { isEmptyUpdate } from './content.ts';
import type { DocConnection, YjsCloseReason } from './DocConnection.ts';
import type { GroupCommitter } from './GroupCommitter.ts';

export interface DocumentLimits {
  /** Largest single message (MOIM_DOC_MAX_UPDATE_BYTES). */
  maxUpdateBytes: number;
  /** Largest stored size: compacted state + appended updates (MOIM_DOC_MAX_BYTES). */
  maxDocBytes: number;
  /** Compact after this many appended updates (MOIM_DOC_COMPACT_EVERY). */
  compactEvery: number;
  /** Automatic version at most this often while the document changes; 0 = off (MOIM_DOC_VERSION_INTERVAL_MS). */
  versionIntervalMs: number;
  /**
   * Awareness changes are collected and sent as one merged message per flush: on the next
   * `setImmediate` (0) or after at most this many ms (MOIM_DOC_AWARENESS_FLUSH_MS). @default 0
   */
  awarenessFlushMs?: number;
  /**
   * A renewal (a client re-announcing an unchanged state, which stock providers do every 15 s)
   * waits at most this long for the next flush, so a document's renewals go out together;
   * 0: like a change (MOIM_DOC_AWARENESS_RENEWAL_MS). Peers drop a state not renewed within 30 s,
   * so this stays well below the 15 s of slack. @default 2000
   */
  awarenessRenewalMs?: number;
  /**
   * Largest awareness state of one client, in bytes of its JSON (MOIM_DOC_AWARENESS_MAX_BYTES);
   * a larger one closes the connection with 4413. @default 8192
   */
  awarenessMaxBytes?: number;
  /**
   * Awareness client ids one connection may introduce (MOIM_DOC_AWARENESS_MAX_CLIENTS); a stock
   * provider uses one, and a read-only connection gets exactly one. @default 4
   */
  awarenessMaxClients?: number;
  /**
   * Updates with missing dependencies a connection may send in a row (each refused and answered
   * with sync step 1) before it is closed with 4400 (MOIM_DOC_MAX_PENDING_UPDATES). @default 8
   */
  maxPendingUpdates?: number;
}

export interface DocumentDeps {
  store: DocStore;
  committer: GroupCommitter;
  limits: DocumentLimits;
  log: Logger;
  /** Called for each refused or failed message (metrics). */
  onRefused?: (outcome: RefusedOutcome) => void;
  onStored?: (count: number) => void;
  /** No connection and no lease is left, and every write is committed: the owner may unload it. */
  onIdle?: (doc: Document) => void;
  /** Closed and released: the Y.Doc is destroyed. */
  onClose?: (doc: Document) => void;
}

export type RefusedOutcome = 'read_only' | 'malformed' | 'too_large' | 'storage_error' | 'pending' | 'awareness';

/** Origin of server-side changes (restore). */
const SERVER_ORIGIN = Symbol('server');

/**
 * Set while a client's awareness message is applied, when it changed a state (y-protocols emits
 * `change` just before `update`, synchronously): the `update` handler tells a change (sent on the
 * next flush) from a renewal (may wait for a later one).
 */
let awarenessChangeSeen = false;
const noteAwarenessChange = (): void => {
  awarenessChangeSeen = true;
};

const syncMessage = (write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, DOC_MESSAGE.sync);
  write(e);
  return encoding.toUint8Array(e);
};

const awarenessMessage = (awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array => {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, DOC_MESSAGE.awareness);
  encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(e);
};

const permissionDeniedMessage = (reason: string): Uint8Array => {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, DOC_MESSAGE.auth);
  authProtocol.writePermissionDenied(e, reason);
  return encoding.toUint8Array(e);
};

/**
 * One loaded shared document: its Y.Doc, awareness and connected clients.
 *
 * Every change goes the same way: the update is decoded (framing garbage is refused before it
 * touches anything), applied to the live Y.Doc while its `update` events are captured, and only
 * the captured updates are appended to storage. Nothing about a change leaves the server before
 * its storage commit: broadcasts wait for their group commit, and an answer to sync step 1 waits
 * for every commit queued before it. A group commit's updates go out as one merged update. If applying throws half-way, nothing captured is stored, the offender is
 * closed (4400) and the live document is thrown away and reloaded from storage (clients resync).
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
  readonly awareness: awarenessProtocol.Awareness;
  readonly #deps: DocumentDeps;
  readonly #log: Logger;
  readonly #conns = new Set<DocConnection>();
  /**
   * The connection that introduced each awareness client id: only it (or a later connection of
   * the same person, taking over after a reconnect) may set or remove that id's state.
   */
  readonly #awarenessOwners = new Map<number, DocConnection>();
  #leases = 0;
  /** Updates handed to the group committer, and how many of them finished (in order). */
  #appendSeq = 0;
  #committedSeq = 0;
  /** Committed updates not yet broadcast (one merged message per group commit). */
  #outbox: Array<{ update: Uint8Array; origin: DocConnection | undefined }> | undefined;
  #outboxScheduled = false;
  /** Callbacks waiting until every update appended before them is committed and broadcast. */
  #waiters: Array<{ seq: number; fn: () => void }> | undefined;
  #storageFailed = false;
  /** Stored bytes (state + appended updates), approximately. */
  #bytes: number;
  /** Updates appended since the last compaction. */
  #uncompacted: number;
  #compacting: Promise<void> | undefined;
  /** When the document first changed after its last version (ms since the epoch; 0: unchanged). */
  #dirtySince = 0;
  #closing: Promise<void> | undefined;
  #closed = false;
  /** Awareness client ids changed or renewed since the last awareness broadcast (made on first use). */
  #awarenessPending: Set<number> | undefined;
  /** The scheduled awareness flush, and whether it is the prompt one (a change) or a renewal's. */
  #awarenessTimer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #awarenessPrompt = false;

  private constructor(ref: DocRef, ydoc: Y.Doc, bytes: number, uncompacted: number, deps: DocumentDeps) {
    this.org = ref.org;
    this.name = ref.name;
    this.ref = { org: ref.org, name: ref.name };
    this.ydoc = ydoc;
    this.#deps = deps;
    this.#log = deps.log;
    this.#bytes = bytes;
    this.#uncompacted = uncompacted;
    this.awareness = new awarenessProtocol.Awareness(ydoc);
    this.awareness.setLocalState(null);
    this.awareness.on('update', this.#onAwareness);
  }

  /** Load the stored state and updates. A stored update that fails to apply is skipped and logged. */
  static async load(ref: DocRef, deps: DocumentDeps): Promise<Document> {
    const { org, name } = ref;
    const rows = await deps.store.loadContent(ref);
    const ydoc = new Y.Doc({ gc: true });
    let bytes = 0;
    const apply = (update: Uint8Array, what: string) => {
      bytes += update.byteLength;
      try {
        Y.applyUpdate(ydoc, update);
      } catch (err) {
        deps.log.error({ err, org, doc: name, what }, 'stored document update failed to apply; skipped');
      }
    };
    if (rows.state) apply(rows.state, 'state');
    for (const u of rows.updates) apply(u.update, `update ${u.id}`);
    // a document never holds pending structures (they would be merged again with every later
    // update); stored rows are what Yjs integrated, so this finds something only in damaged data
    if (dropPending(ydoc)) deps.log.warn({ org, doc: name }, 'stored content with missing dependencies dropped');
    const doc = new Document(ref, ydoc, bytes, rows.updates.length, deps);
    deps.log.debug({ org, doc: name, bytes, updates: rows.updates.length }, 'document loaded');
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
    return this.#bytes;
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
    conn.send(syncMessage((e) => writeStep1(e, this.ydoc)));
    const states = [...this.awareness.getStates().keys()];
    if (states.length > 0) conn.send(awarenessMessage(this.awareness, states));
  }

  removeConnection(conn: DocConnection): void {
    if (!this.#conns.delete(conn)) return;
    const ids = conn.awarenessIds().filter((id) => this.#awarenessOwners.get(id) === conn);
    for (const id of ids) this.#awarenessOwners.delete(id);
    if (ids.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, ids, null);
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
      const decoder = decoding.createDecoder(message);
      const type = decoding.readVarUint(decoder);
      switch (type) {
        case DOC_MESSAGE.sync: {
          const sub = decoding.readVarUint(decoder);
          if (sub === DOC_SYNC_MESSAGE.step1) {
            const stateVector = decoding.readVarUint8Array(decoder);
            Y.decodeStateVector(stateVector); // throws on garbage before anything is queued
            this.#afterCommits(() => {
              if (this.#closed || conn.closed) return;
              conn.send(
                syncMessage((e) => {
                  encoding.writeVarUint(e, DOC_SYNC_MESSAGE.step2);
                  encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(this.ydoc, stateVector));
                }),
              );
            });
          } else if (sub === DOC_SYNC_MESSAGE.step2 || sub === DOC_SYNC_MESSAGE.update) {
            this.#receiveUpdate(conn, decoding.readVarUint8Array(decoder));
          } else {
            throw new Error(`unknown sync message ${sub}`);
          }
          break;
        }
        case DOC_MESSAGE.awareness: {
          const update = this.#allowedAwareness(conn, decoding.readVarUint8Array(decoder));
          if (!update) break;
          awarenessChangeSeen = false;
          this.awareness.on('change', noteAwarenessChange);
          try {
            awarenessProtocol.applyAwarenessUpdate(this.awareness, update, conn);
          } finally {
            this.awareness.off('change', noteAwarenessChange);
            awarenessChangeSeen = false;
          }
          break;
        }
        case DOC_MESSAGE.queryAwareness:
          conn.send(awarenessMessage(this.awareness, [...this.awareness.getStates().keys()]));
          break;
        case DOC_MESSAGE.auth:
          break; // clients have nothing to say here
        default:
          throw new Error(`unknown message type ${type}`);
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
    await this.#whenCommitted();
  }

  /** The full state once everything applied so far is stored. */
  async committedState(): Promise<Uint8Array> {
    await this.#whenCommitted();
    return Y.encodeStateAsUpdate(this.ydoc);
  }

  /** Resolves when every write queued so far is committed and every compaction finished. */
  async flushed(): Promise<void> {
    await this.#whenCommitted();
    while (this.#compacting) await this.#compacting;
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
      if ((opts.saveVersion ?? true) && this.#dirtySince > 0 && this.#deps.limits.versionIntervalMs > 0) {
        await this.#saveAutoVersion().catch((err: unknown) =>
          this.#log.error({ err, org: this.org, doc: this.name }, 'automatic version on unload failed'),
        );
      }
      this.awareness.off('update', this.#onAwareness);
      this.#cancelAwarenessFlush();
      this.#awarenessPending = undefined;
      this.awareness.destroy();
      this.ydoc.destroy();
      this.#closed = true;
      this.#log.debug({ org: this.org, doc: this.name }, 'document unloaded');
      this.#notify(this.#deps.onClose, 'close');
    })();
    return this.#closing;
  }

  /** Save a version of the stored state. */
  async saveVersion(input: { label: string; auto: boolean; createdBy: string }): Promise<StoredDocVersion> {
    const state = await this.committedState();
    const version = await this.#deps.store.saveVersion({ doc: this.ref, state, ...input });
    this.#dirtySince = 0;
    return version;
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
    if (this.#bytes + update.byteLength > this.#deps.limits.maxDocBytes) {
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
    if (this.#bytes + refused.bytes > this.#deps.limits.maxDocBytes) {
      conn.log.info(
        { refused: refused.count, bytes: refused.bytes, why },
        'refused updates over the size cap; closing',
      );
      conn.close('TOO_LARGE', `updates with missing dependencies over ${this.#deps.limits.maxDocBytes} bytes`);
      return;
    }
    conn.log.debug({ refused: refused.count, why }, 'update with missing dependencies refused; asking for sync');
    conn.send(syncMessage((e) => writeStep1(e, this.ydoc)));
  }

  /**
   * The part of a client's awareness update it may apply, re-encoded; undefined when nothing is
   * left (or the connection was closed). A connection sets only the client ids it introduced: a
   * new id is introduced by a state newer than any the document knows for it, while no other
   * connection owns it; a read-only connection introduces one id (its own state), any other at
   * most `awarenessMaxClients`. Entries for other ids are dropped without closing anything: stock
   * providers echo everyone's states back (an echo changes nothing). A state over
   * `awarenessMaxBytes` closes the connection with 4413.
   */
  #allowedAwareness(conn: DocConnection, update: Uint8Array): Uint8Array | undefined {
    const maxBytes = this.#deps.limits.awarenessMaxBytes ?? 8192;
    const decoder = decoding.createDecoder(update);
    const count = decoding.readVarUint(decoder);
    const out = encoding.createEncoder();
    const kept: Array<{ id: number; clock: number; state: Uint8Array }> = [];
    let spoofed = 0;
    // each entry takes at least 3 bytes: a huge count runs out of input and throws (malformed)
    for (let i = 0; i < count; i++) {
      const id = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const state = decoding.readVarUint8Array(decoder); // the state's JSON (a varString), unparsed
      const right = this.#awarenessRight(conn, id, clock, isNullState(state));
      if (right === 'refused') spoofed++;
      if (right === 'refused' || right === 'ignored') continue;
      if (state.byteLength > maxBytes) {
        this.#deps.onRefused?.('too_large');
        conn.close('TOO_LARGE', `awareness state over ${maxBytes} bytes`);
        return undefined;
      }
      if (right !== 'own') this.#claimAwareness(conn, id);
      kept.push({ id, clock, state });
    }
    if (spoofed > 0) {
      this.#deps.onRefused?.('awareness');
      conn.log.debug({ spoofed }, 'awareness of client ids this connection does not own refused');
    }
    if (kept.length === 0) return undefined;
    encoding.writeVarUint(out, kept.length);
    for (const k of kept) {
      encoding.writeVarUint(out, k.id);
      encoding.writeVarUint(out, k.clock);
      encoding.writeVarUint8Array(out, k.state);
    }
    return encoding.toUint8Array(out);
  }

  /**
   * May `conn` set (or remove) the awareness state of `id` at `clock`? `own`: it introduced the id;
   * `claim`: a new id it introduces now; `takeover`: an id of an older connection of the same
   * person (a reconnect seen before the old socket was found dead). `ignored`: an echo or a
   * removal of what is not there (nothing to apply); `refused`: someone else's id, or over the
   * connection's number of ids.
   */
  #awarenessRight(
    conn: DocConnection,
    id: number,
    clock: number,
    isNull: boolean,
  ): 'own' | 'claim' | 'takeover' | 'ignored' | 'refused' {
    if (id === this.awareness.clientID) return 'refused'; // the server's own (empty) state
    const owner = this.#awarenessOwners.get(id);
    if (owner === conn) return 'own';
    const known = this.awareness.meta.get(id)?.clock;
    const newer = known === undefined || clock > known;
    const maxIds = conn.canWrite ? (this.#deps.limits.awarenessMaxClients ?? 4) : 1;
    if (owner !== undefined) {
      if (!newer) return 'ignored';
      return !isNull && owner.personKey === conn.personKey && conn.awarenessIdCount < maxIds ? 'takeover' : 'refused';
    }
    if (isNull || !newer) return 'ignored';
    return conn.awarenessIdCount < maxIds ? 'claim' : 'refused';
  }

  #claimAwareness(conn: DocConnection, id: number): void {
    this.#awarenessOwners.get(id)?.deleteAwarenessId(id);
    this.#awarenessOwners.set(id, conn);
    conn.addAwarenessId(id);
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

  /** Throw the live doc away (it may hold part of a failed update): clients reconnect and resync from storage. */
  #reload(): void {
    void this.close('RELOAD', { saveVersion: false });
  }

  #commitAndBroadcast(update: Uint8Array, origin: DocConnection | undefined): void {
    this.#bytes += update.byteLength;
    const seq = ++this.#appendSeq;
    this.#deps.committer.append(this.ref, update, (err) => {
      this.#committedSeq = seq;
      if (err) {
        this.#deps.onRefused?.('storage_error');
        if (!this.#storageFailed) {
          this.#storageFailed = true;
          this.#log.error(
            { err, org: this.org, doc: this.name },
            'storing a document update failed; reloading the document',
          );
          this.#reload();
        }
      } else {
        this.#deps.onStored?.(1);
        this.#outbox ??= [];
        this.#outbox.push({ update, origin });
      }
      // the committer calls back for a whole batch before any microtask runs: one flush per batch
      if (!this.#outboxScheduled) {
        this.#outboxScheduled = true;
        queueMicrotask(() => this.#flushOutbox());
      }
    });
  }

  /** Broadcast what was committed (merged into one update), then release the waiters. */
  #flushOutbox(): void {
    this.#outboxScheduled = false;
    const batch = this.#outbox;
    this.#outbox = undefined;
    if (batch && batch.length > 0 && !this.#closed) {
      const update =
        batch.length === 1 ? (batch[0] as { update: Uint8Array }).update : Y.mergeUpdates(batch.map((b) => b.update));
      // a sender already has its own changes; with several senders everyone gets the merge (duplicates are no-ops)
      const origins = new Set(batch.map((b) => b.origin));
      const skip = origins.size === 1 ? batch[0]?.origin : undefined;
      const message = syncMessage((e) => {
        encoding.writeVarUint(e, DOC_SYNC_MESSAGE.update);
        encoding.writeVarUint8Array(e, update);
      });
      for (const conn of this.#conns) if (conn !== skip) conn.send(message);
      this.#uncompacted += batch.length;
      this.#markDirty();
      this.#maybeCompact();
    }
    const waiters = this.#waiters;
    while (waiters && waiters.length > 0 && (waiters[0] as { seq: number }).seq <= this.#committedSeq) {
      const waiter = waiters.shift() as { fn: () => void };
      try {
        waiter.fn();
      } catch (err) {
        this.#log.error({ err, org: this.org, doc: this.name }, 'document commit waiter failed');
      }
    }
    if (waiters?.length === 0) this.#waiters = undefined;
    this.#checkIdle();
  }

  #pending(): boolean {
    return this.#committedSeq < this.#appendSeq || (this.#outbox?.length ?? 0) > 0 || this.#outboxScheduled;
  }

  /** Run `fn` once every update appended so far is committed and broadcast (now, when none is pending). */
  #afterCommits(fn: () => void): void {
    if (!this.#pending()) {
      fn();
      return;
    }
    this.#waiters ??= [];
    this.#waiters.push({ seq: this.#appendSeq, fn });
  }

  #whenCommitted(): Promise<void> {
    return new Promise((resolve) => this.#afterCommits(resolve));
  }

  /**
   * Collect what changed; one merged awareness message goes to every connection per flush (the
   * sender too: a lone client needs the echo to know the link is alive). A storm of N clients
   * announcing themselves at once costs a few broadcasts instead of N, and document updates never
   * wait behind it (they go out on their own path, when committed).
   */
  #onAwareness = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const conn = this.#connOf(origin);
    if (this.#conns.size === 0 || added.length + updated.length + removed.length === 0) return;
    this.#awarenessPending ??= new Set();
    const pending = this.#awarenessPending;
    for (const id of added) pending.add(id);
    for (const id of updated) pending.add(id);
    for (const id of removed) pending.add(id);
    // a client's message that changed nothing is a renewal; additions and removals never are
    const renewalOnly = added.length === 0 && removed.length === 0 && conn !== undefined && !awarenessChangeSeen;
    this.#scheduleAwarenessFlush(!renewalOnly);
  };

  #scheduleAwarenessFlush(prompt: boolean): void {
    const renewalMs = this.#deps.limits.awarenessRenewalMs ?? 2000;
    if (!prompt && renewalMs <= 0) prompt = true;
    if (this.#awarenessTimer !== undefined && (this.#awarenessPrompt || !prompt)) return;
    this.#cancelAwarenessFlush();
    this.#awarenessPrompt = prompt;
    const flushMs = this.#deps.limits.awarenessFlushMs ?? 0;
    if (prompt && flushMs <= 0) {
      this.#awarenessTimer = setImmediate(Document.#flushAwarenessOf, this);
    } else {
      this.#awarenessTimer = setTimeout(Document.#flushAwarenessOf, prompt ? flushMs : renewalMs, this);
    }
    this.#awarenessTimer.unref();
  }

  #cancelAwarenessFlush(): void {
    const t = this.#awarenessTimer;
    if (t === undefined) return;
    this.#awarenessTimer = undefined;
    if (this.#awarenessPrompt && (this.#deps.limits.awarenessFlushMs ?? 0) <= 0) clearImmediate(t as NodeJS.Immediate);
    else clearTimeout(t as NodeJS.Timeout);
  }

  /** Shared by every document (no closure per document). */
  static #flushAwarenessOf = (doc: Document): void => doc.#flushAwareness();

  #flushAwareness(): void {
    this.#awarenessTimer = undefined;
    const pending = this.#awarenessPending;
    if (!pending || pending.size === 0) return;
    this.#awarenessPending = undefined;
    if (this.#closed || this.#conns.size === 0) return;
    const message = awarenessMessage(this.awareness, [...pending]);
    for (const c of this.#conns) c.send(message);
  }

  #connOf(origin: unknown): DocConnection | undefined {
    return this.#conns.has(origin as DocConnection) ? (origin as DocConnection) : undefined;
  }

  #checkIdle(): void {
    if (this.#closing || this.#conns.size > 0 || this.#leases > 0 || this.#pending()) return;
    this.#notify(this.#deps.onIdle, 'idle');
  }

  #notify(hook: ((doc: Document) => void) | undefined, what: string): void {
    try {
      hook?.(this);
    } catch (err) {
      this.#log.error({ err, org: this.org, doc: this.name, what }, 'document owner hook failed');
    }
  }

  #markDirty(): void {
    if (this.#dirtySince === 0) this.#dirtySince = Date.now();
  }

  /**
   * Save an automatic version when the document has changed for `versionIntervalMs` since its
   * last one. The owner calls this for every loaded document on one shared timer (no timer per
   * document: there are many).
   */
  saveVersionIfDue(now: number): void {
    const interval = this.#deps.limits.versionIntervalMs;
    if (interval <= 0 || this.#dirtySince === 0 || this.#closing || now - this.#dirtySince < interval) return;
    this.#saveAutoVersion().catch((err: unknown) =>
      this.#log.error({ err, org: this.org, doc: this.name }, 'automatic version failed'),
    );
  }

  async #saveAutoVersion(): Promise<void> {
    this.#dirtySince = 0;
    const state = Y.encodeStateAsUpdate(this.ydoc);
    await this.#deps.store.saveVersion({
      doc: this.ref,
      label: `auto ${new Date().toISOString()}`,
      auto: true,
      createdBy: 'system',
      state,
    });
  }

  #maybeCompact(): void {
    if (this.#compacting || this.#uncompacted < this.#deps.limits.compactEvery) return;
    this.compact().catch((err: unknown) =>
      this.#log.error({ err, org: this.org, doc: this.name }, 'compaction failed'),
    );
  }

  /**
   * Merge the stored state and the appended updates into one state, and delete exactly the
   * updates merged, in one transaction. Updates appended meanwhile are left alone. The merge
   * runs on a scratch Y.Doc (so deleted content is garbage-collected), not on the live one.
   * Concurrent compactions are safe: the store commits only the one that read the current state.
   */
  compact(): Promise<{ merged: number; bytes: number } | undefined> {
    const run = this.#compactOnce();
    const tracked: Promise<void> = run.then(
      () => undefined,
      // the failure is the caller's (it gets `run`, and logs it): this copy only tracks completion
      () => undefined,
    );
    this.#compacting = tracked;
    void tracked.then(() => {
      if (this.#compacting === tracked) this.#compacting = undefined;
      this.#checkIdle();
    });
    return run;
  }

  async #compactOnce(): Promise<{ merged: number; bytes: number } | undefined> {
    const rows = await this.#deps.store.loadContent(this.ref);
    const last = rows.updates.at(-1);
    if (!last) return undefined;
    const scratch = new Y.Doc({ gc: true });
    try {
      let before = 0;
      if (rows.state) {
        before += rows.state.byteLength;
        Y.applyUpdate(scratch, rows.state);
      }
      for (const u of rows.updates) {
        before += u.update.byteLength;
        try {
          Y.applyUpdate(scratch, u.update);
        } catch (err) {
          this.#log.error(
            { err, org: this.org, doc: this.name, update: u.id },
            'stored update failed to apply during compaction; skipped',
          );
        }
      }
      const state = Y.encodeStateAsUpdate(scratch);
      const ok = await this.#deps.store.commitCompaction(this.ref, {
        expectSeq: rows.stateSeq,
        upToId: last.id,
        state,
      });
      if (!ok) return undefined;
      this.#uncompacted = Math.max(0, this.#uncompacted - rows.updates.length);
      this.#bytes = Math.max(state.byteLength, this.#bytes - before + state.byteLength);
      this.#log.debug(
        { org: this.org, doc: this.name, merged: rows.updates.length, bytes: state.byteLength },
        'document compacted',
      );
      return { merged: rows.updates.length, bytes: state.byteLength };
    } finally {
      scratch.destroy();
    }
  }
}

function writeStep1(e: encoding.Encoder, doc: Y.Doc): void {
  encoding.writeVarUint(e, DOC_SYNC_MESSAGE.step1);
  encoding.writeVarUint8Array(e, Y.encodeStateVector(doc));
}

/**
 * Why an update would stay pending because a client's structs start after what the document has
 * (its `from` clocks, `Y.parseUpdateMeta`, against the document's state vector), or undefined.
 */
export function aheadOfState(ydoc: Y.Doc, update: Uint8Array): string | undefined {
  const { from } = Y.parseUpdateMeta(update);
  for (const [client, clock] of from) {
    const have = Y.getState(ydoc.store, client);
    if (clock > have) return `client ${client} starts at clock ${clock}, the document has ${have}`;
  }
  return undefined;
}

/**
 * Why part of a decoded update would stay pending in Yjs, or undefined when it integrates
 * entirely: a gap in a client's structs (a skip the document does not cover), an origin, right
 * origin or parent on another client that neither the document nor this update has, or a deleted
 * range beyond what the document will have. (What Yjs resolves inside one update — structs of
 * several clients depending on each other — counts as present; a cycle among them is caught
 * after applying, see `dropPending`.)
 */
export function missingDependency(ydoc: Y.Doc, decoded: ReturnType<typeof Y.decodeUpdate>): string | undefined {
  const store = ydoc.store;
  /** Per client: the clock the document will have once this update is integrated. */
  const will = new Map<number, number>();
  const stateOf = (client: number): number => will.get(client) ?? Y.getState(store, client);
  for (const s of decoded.structs) {
    const client = s.id.client;
    const have = stateOf(client);
    if (s.id.clock > have) return `client ${client} skips from clock ${have} to ${s.id.clock}`;
    will.set(client, s instanceof Y.Skip ? have : Math.max(have, s.id.clock + s.length));
  }
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue;
    const parent = s.parent instanceof Y.ID ? s.parent : null;
    for (const dep of [s.origin, s.rightOrigin, parent]) {
      if (dep && dep.client !== s.id.client && dep.clock >= stateOf(dep.client))
        return `client ${s.id.client} depends on client ${dep.client} clock ${dep.clock}`;
    }
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const end = stateOf(client);
    for (const r of ranges)
      if (r.clock + r.len > end) return `deletes client ${client} clocks ${r.clock}–${r.clock + r.len} beyond ${end}`;
  }
  return undefined;
}

/** Drop what Yjs keeps aside for missing dependencies; true if there was any. */
function dropPending(ydoc: Y.Doc): boolean {
  const store = ydoc.store;
  if (store.pendingStructs === null && store.pendingDs === null) return false;
  store.pendingStructs = null;
  store.pendingDs = null;
  return true;
}

const utf8 = new TextDecoder();

/** Is an awareness state's JSON `null` (a removal)? Only short texts can be. */
function isNullState(json: Uint8Array): boolean {
  return json.byteLength <= 32 && utf8.decode(json).trim() === 'null';
}
