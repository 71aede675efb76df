/**
 * The bookkeeping of open `/yjs` connections: each by its socket (the shared socket listeners find
 * their connection there), each by its person (`personKey`: a token refresh touches only that
 * person's connections), and the per-person limits (connections, documents open). No socket I/O:
 * `YjsConnections` accepts, serves and closes the connections.
 */
import type { WebSocket } from 'ws';
import type { DocConnection } from './DocConnection.ts';

export interface ConnectionLimits {
  /** Documents one person may have open at once. */
  maxOpenPerPerson: number;
  /** `/yjs` connections one person may have open at once, over all documents. */
  maxConnectionsPerPerson: number;
}

export class ConnectionRegistry {
  readonly #limits: ConnectionLimits;
  /** Every connection, by its socket. */
  readonly #bySocket = new Map<WebSocket, DocConnection>();
  /**
   * Open connections per person (`personKey`): the connection itself when there is one (the usual
   * case, no Set per person), else a Set of them in the order they were opened.
   */
  readonly #byPerson = new Map<string, DocConnection | Set<DocConnection>>();
  /**
   * Open documents per person (`personKey`): the name when it is one document on one connection
   * (the usual case, no Map per person), else each name with its connection count. A person has
   * one organisation, so names suffice.
   */
  readonly #openByPerson = new Map<string, string | Map<string, number>>();

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  get(ws: WebSocket): DocConnection | undefined {
    return this.#bySocket.get(ws);
  }

  sockets(): IterableIterator<WebSocket> {
    return this.#bySocket.keys();
  }

  values(): IterableIterator<DocConnection> {
    return this.#bySocket.values();
  }

  /** How many connections the person has open. */
  countOf(person: string): number {
    const conns = this.#byPerson.get(person);
    return conns === undefined ? 0 : conns instanceof Set ? conns.size : 1;
  }

  /** May the person open one more connection? */
  hasRoomFor(person: string): boolean {
    return this.countOf(person) < this.#limits.maxConnectionsPerPerson;
  }

  /** The person's open connections, oldest first (a copy: closing them while iterating is safe). */
  ofPerson(person: string): DocConnection[] {
    const conns = this.#byPerson.get(person);
    if (conns === undefined) return [];
    return conns instanceof Set ? [...conns] : [conns];
  }

  /**
   * Count one more connection of the person to the document `name`; false (nothing counted) when
   * it would be one document more than `maxOpenPerPerson`.
   */
  openDocument(person: string, name: string): boolean {
    let open = this.#openByPerson.get(person);
    if (open === undefined) {
      this.#openByPerson.set(person, name);
      return true;
    }
    if (typeof open === 'string') {
      const only = open;
      open = new Map([[only, 1]]);
      this.#openByPerson.set(person, open);
    }
    const n = open.get(name);
    if (n === undefined && open.size >= this.#limits.maxOpenPerPerson) return false;
    open.set(name, (n ?? 0) + 1);
    return true;
  }

  /** Add an accepted connection (its document was counted with `openDocument`). */
  add(conn: DocConnection): void {
    this.#bySocket.set(conn.ws, conn);
    const person = conn.personKey;
    const conns = this.#byPerson.get(person);
    if (conns === undefined) this.#byPerson.set(person, conn);
    else if (conns instanceof Set) conns.add(conn);
    else this.#byPerson.set(person, new Set([conns, conn]));
  }

  /** Remove a connection and its document count; false if it was not (or no longer) here. */
  remove(conn: DocConnection): boolean {
    if (!this.#bySocket.delete(conn.ws)) return false;
    const person = conn.personKey;
    const conns = this.#byPerson.get(person);
    if (conns === conn) this.#byPerson.delete(person);
    else if (conns instanceof Set) {
      conns.delete(conn);
      if (conns.size === 0) this.#byPerson.delete(person);
      else if (conns.size === 1) this.#byPerson.set(person, conns.values().next().value as DocConnection);
    }
    this.#closeDocument(person, conn.docName);
    return true;
  }

  #closeDocument(person: string, name: string): void {
    const open = this.#openByPerson.get(person);
    if (open === undefined) return;
    if (typeof open === 'string') {
      if (open === name) this.#openByPerson.delete(person);
      return;
    }
    const n = open.get(name);
    if (n === undefined) return;
    if (n > 1) open.set(name, n - 1);
    else open.delete(name);
    if (open.size === 0) this.#openByPerson.delete(person);
  }
}
