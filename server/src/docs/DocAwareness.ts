/**
 * The awareness of one loaded document (who is here: cursors, selections, names): which
 * connection introduced each awareness client id, what a client may set, and the relaying of
 * changes as one merged broadcast per flush. Knows nothing of updates, storage, compaction or
 * versions (the Document owns those).
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import type * as Y from 'yjs';
import {
  type AwarenessEntry,
  awarenessMessage,
  encodeAwarenessUpdate,
  isNullState,
  readAwarenessEntry,
  readAwarenessUpdate,
} from './codec.ts';
import type { DocConnection } from './DocConnection.ts';
import type { DocRelayLink } from './DocRelay.ts';
import type { DocumentDeps } from './DocumentOptions.ts';

/** Origin of awareness changes relayed from another node. */
const REMOTE = Symbol('remote node');

/**
 * What a connection may do with one awareness client id: `own`: it introduced the id; `claim`: a
 * new id it introduces now; `takeover`: an id of an older connection of the same person;
 * `ignored`: nothing to apply; `refused`: someone else's id, or over the connection's number of ids.
 */
type AwarenessRight = 'own' | 'claim' | 'takeover' | 'ignored' | 'refused';

/**
 * Awareness of one document. Each connection sets only the client ids it introduced, with states
 * of bounded size. Changes are collected and one merged awareness message goes to every connection
 * per flush (the sender too: a lone client needs the echo to know the link is alive). A storm of N
 * clients announcing themselves at once costs a few broadcasts instead of N, and document updates
 * never wait behind it (they go out on their own path, when committed).
 */
export class DocAwareness {
  readonly awareness: awarenessProtocol.Awareness;
  /** The document's open connections (the document adds and removes them). */
  readonly #conns: ReadonlySet<DocConnection>;
  readonly #deps: Pick<DocumentDeps, 'limits' | 'onRefused'>;
  /**
   * The connection that introduced each awareness client id: only it (or a later connection of
   * the same person, taking over after a reconnect) may set or remove that id's state.
   */
  readonly #owners = new Map<number, DocConnection>();
  /** Awareness client ids changed or renewed since the last broadcast (made on first use). */
  #pending: Set<number> | undefined;
  /** The scheduled flush, and whether it is the prompt one (a change) or a renewal's. */
  #timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #prompt = false;
  /**
   * Set while a client's awareness message is applied, when it changed a state (y-protocols emits
   * `change` just before `update`, synchronously): the `update` handler tells a change (sent on the
   * next flush) from a renewal (may wait for a later one).
   */
  #changeSeen = false;
  #destroyed = false;
  /** Cluster: where this node's clients' changes go, and the client ids each other node introduced. */
  #relay: DocRelayLink | undefined;
  readonly #remote = new Map<string, Set<number>>();
  /** Client ids changed by this node's clients since the last flush (what the relay gets). */
  #pendingLocal: Set<number> | undefined;

  constructor(ydoc: Y.Doc, conns: ReadonlySet<DocConnection>, deps: Pick<DocumentDeps, 'limits' | 'onRefused'>) {
    this.#conns = conns;
    this.#deps = deps;
    this.awareness = new awarenessProtocol.Awareness(ydoc);
    this.awareness.setLocalState(null);
    this.awareness.on('update', this.#onUpdate);
  }

  /** Show a new connection who is here. */
  greet(conn: DocConnection): void {
    const states = [...this.awareness.getStates().keys()];
    if (states.length > 0) conn.send(awarenessMessage(this.awareness, states));
  }

  /** Answer a client's query: every state. */
  sendAll(conn: DocConnection): void {
    conn.send(awarenessMessage(this.awareness, [...this.awareness.getStates().keys()]));
  }

  /** A connection left (the document already dropped it): remove the states it owned. */
  removeConnection(conn: DocConnection): void {
    const ids = conn.awarenessIds().filter((id) => this.#owners.get(id) === conn);
    for (const id of ids) this.#owners.delete(id);
    if (ids.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, ids, null);
  }

  /** Apply the part of a client's awareness update it may set. Throws on a malformed update. */
  receive(conn: DocConnection, update: Uint8Array): void {
    const allowed = this.#allowed(conn, update);
    if (!allowed) return;
    this.#changeSeen = false;
    this.awareness.on('change', this.#noteChange);
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, allowed, conn);
    } finally {
      this.awareness.off('change', this.#noteChange);
      this.#changeSeen = false;
    }
  }

  /** Cluster: relay this node's clients' changes through `link`. */
  relayTo(link: DocRelayLink): void {
    this.#relay = link;
  }

  /** Cluster: another node's clients' awareness (trusted: it came from a node, checked there). */
  applyRemote(node: string, update: Uint8Array): void {
    if (this.#destroyed) return;
    const { count, decoder } = readAwarenessUpdate(update);
    let ids = this.#remote.get(node);
    if (!ids) {
      ids = new Set();
      this.#remote.set(node, ids);
    }
    for (let i = 0; i < count; i++) {
      const entry = readAwarenessEntry(decoder);
      if (isNullState(entry.state)) ids.delete(entry.id);
      else ids.add(entry.id);
    }
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, REMOTE);
  }

  /** Cluster: a node died; the cursors of its clients go. */
  dropNode(node: string): void {
    const ids = this.#remote.get(node);
    this.#remote.delete(node);
    if (!this.#destroyed && ids && ids.size > 0)
      awarenessProtocol.removeAwarenessStates(this.awareness, [...ids], REMOTE);
  }

  /** Stop relaying and release the awareness (the document is closing). */
  destroy(): void {
    this.#destroyed = true;
    this.awareness.off('update', this.#onUpdate);
    this.#cancelFlush();
    this.#pending = undefined;
    this.awareness.destroy();
  }

  #noteChange = (): void => {
    this.#changeSeen = true;
  };

  /**
   * The part of a client's awareness update it may apply, re-encoded; undefined when nothing is
   * left (or the connection was closed). A connection sets only the client ids it introduced: a
   * new id is introduced by a state newer than any the document knows for it, while no other
   * connection owns it; a read-only connection introduces one id (its own state), any other at
   * most `awarenessMaxClients`. Entries for other ids are dropped without closing anything: stock
   * providers echo everyone's states back (an echo changes nothing). A state over
   * `awarenessMaxBytes` closes the connection with 4413.
   */
  #allowed(conn: DocConnection, update: Uint8Array): Uint8Array | undefined {
    const maxBytes = this.#deps.limits.awarenessMaxBytes ?? 8192;
    const { count, decoder } = readAwarenessUpdate(update);
    const kept: AwarenessEntry[] = [];
    let spoofed = 0;
    // each entry takes at least 3 bytes: a huge count runs out of input and throws (malformed)
    for (let i = 0; i < count; i++) {
      const entry = readAwarenessEntry(decoder);
      const right = this.#right(conn, entry.id, entry.clock, isNullState(entry.state));
      if (right === 'refused') spoofed++;
      if (right === 'refused' || right === 'ignored') continue;
      if (entry.state.byteLength > maxBytes) {
        this.#deps.onRefused?.('too_large');
        conn.close('TOO_LARGE', `awareness state over ${maxBytes} bytes`);
        return undefined;
      }
      if (right !== 'own') this.#claim(conn, entry.id);
      kept.push(entry);
    }
    if (spoofed > 0) {
      this.#deps.onRefused?.('awareness');
      conn.log.debug({ spoofed }, 'awareness of client ids this connection does not own refused');
    }
    if (kept.length === 0) return undefined;
    return encodeAwarenessUpdate(kept);
  }

  /**
   * May `conn` set (or remove) the awareness state of `id` at `clock`? A `takeover` is a reconnect
   * seen before the old socket was found dead; `ignored` is an echo or a removal of what is not
   * there (see `AwarenessRight`).
   */
  #right(conn: DocConnection, id: number, clock: number, isNull: boolean): AwarenessRight {
    if (id === this.awareness.clientID) return 'refused'; // the server's own (empty) state
    const owner = this.#owners.get(id);
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

  #claim(conn: DocConnection, id: number): void {
    this.#owners.get(id)?.deleteAwarenessId(id);
    this.#owners.set(id, conn);
    conn.addAwarenessId(id);
  }

  /** Collect what changed for the next flush. */
  #onUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const conn = this.#conns.has(origin as DocConnection) ? (origin as DocConnection) : undefined;
    if (added.length + updated.length + removed.length === 0) return;
    if (this.#relay && origin !== REMOTE) {
      this.#pendingLocal ??= new Set();
      for (const ids of [added, updated, removed]) for (const id of ids) this.#pendingLocal.add(id);
    }
    if (this.#conns.size === 0 && !this.#pendingLocal) return;
    this.#pending ??= new Set();
    const pending = this.#pending;
    for (const id of added) pending.add(id);
    for (const id of updated) pending.add(id);
    for (const id of removed) pending.add(id);
    // a client's message that changed nothing is a renewal; additions and removals never are
    const renewalOnly = added.length === 0 && removed.length === 0 && conn !== undefined && !this.#changeSeen;
    this.#scheduleFlush(!renewalOnly);
  };

  #scheduleFlush(prompt: boolean): void {
    const renewalMs = this.#deps.limits.awarenessRenewalMs ?? 2000;
    if (!prompt && renewalMs <= 0) prompt = true;
    if (this.#timer !== undefined && (this.#prompt || !prompt)) return;
    this.#cancelFlush();
    this.#prompt = prompt;
    const flushMs = this.#deps.limits.awarenessFlushMs ?? 0;
    if (prompt && flushMs <= 0) {
      this.#timer = setImmediate(DocAwareness.#flushOf, this);
    } else {
      this.#timer = setTimeout(DocAwareness.#flushOf, prompt ? flushMs : renewalMs, this);
    }
    this.#timer.unref();
  }

  #cancelFlush(): void {
    const t = this.#timer;
    if (t === undefined) return;
    this.#timer = undefined;
    if (this.#prompt && (this.#deps.limits.awarenessFlushMs ?? 0) <= 0) clearImmediate(t as NodeJS.Immediate);
    else clearTimeout(t as NodeJS.Timeout);
  }

  /** Shared by every document (no closure per document). */
  static #flushOf = (a: DocAwareness): void => a.#flush();

  #flush(): void {
    this.#timer = undefined;
    const local = this.#pendingLocal;
    this.#pendingLocal = undefined;
    if (local && local.size > 0 && this.#relay && !this.#destroyed)
      this.#relay.publishAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...local]));
    const pending = this.#pending;
    if (!pending || pending.size === 0) return;
    this.#pending = undefined;
    if (this.#destroyed || this.#conns.size === 0) return;
    const message = awarenessMessage(this.awareness, [...pending]);
    for (const c of this.#conns) c.send(message);
  }
}
