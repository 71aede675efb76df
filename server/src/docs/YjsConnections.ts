/**
 * Connection handling of `/yjs`: taking over an upgraded socket (the checks of `DocAccess`, the
 * per-person limits), joining it to its document, its frames (kept while the document loads),
 * its close, the sweep that ends connections whose token expired, and `reauthorize` after a token
 * refresh. The bookkeeping is the `ConnectionRegistry`'s, the documents are `LoadedDocs`'.
 */

import { MoimError } from '@moim/protocol';
import type { WebSocket } from 'ws';
import { type Principal, personKey } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import type { SharedPersonLimits } from '../lib/SharedPersonLimits.ts';
import type { Logger } from '../logger.ts';
import type { DocRef, DocStore } from '../storage/DocStore.ts';
import { type ConnectionLimits, ConnectionRegistry } from './ConnectionRegistry.ts';
import { checkUpgrade, DEFAULT_POLICY, reauthorizedClose } from './DocAccess.ts';
import { closeSocket, DocConnection } from './DocConnection.ts';
import type { DocGuards } from './DocGuards.ts';
import type { DocMetrics } from './DocMetrics.ts';
import type { LoadedDocs } from './LoadedDocs.ts';

/** How often open connections are checked for an expired token. */
const EXPIRY_SWEEP_MS = 5_000;

/** Frames a client may send before its document finished loading (then it is dropped). */
const MAX_EARLY_FRAMES = 64;

/** The path of a `/yjs` request without its query (which carries the token): what may be logged. */
const pathOf = (requestUrl: string): string => (requestUrl.split('?', 1)[0] ?? '').slice(0, 300);

export class YjsConnections {
  readonly #tokens: TokenService;
  readonly #store: DocStore;
  readonly #log: Logger;
  readonly #docs: LoadedDocs;
  readonly #metrics: DocMetrics;
  readonly #limits: ConnectionLimits;
  readonly #shared: SharedPersonLimits | undefined;
  readonly #guards: DocGuards;
  readonly #conns: ConnectionRegistry;
  readonly #onSocketMessage: (this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void;
  readonly #onSocketClose: (this: WebSocket) => void;
  readonly #onSocketError: (this: WebSocket, err: Error) => void;
  readonly #expirySweep: NodeJS.Timeout;
  #closing = false;

  constructor(opts: {
    tokens: TokenService;
    store: DocStore;
    log: Logger;
    limits: ConnectionLimits;
    docs: LoadedDocs;
    metrics: DocMetrics;
    shared?: SharedPersonLimits | undefined;
    guards: DocGuards;
  }) {
    this.#shared = opts.shared;
    this.#guards = opts.guards;
    this.#tokens = opts.tokens;
    this.#store = opts.store;
    this.#log = opts.log;
    this.#docs = opts.docs;
    this.#metrics = opts.metrics;
    this.#limits = opts.limits;
    this.#conns = new ConnectionRegistry(opts.limits);
    this.#expirySweep = setInterval(this.#sweepExpired, EXPIRY_SWEEP_MS);
    this.#expirySweep.unref();
    // the socket listeners are shared by every connection: no closure per connection
    const conns = this.#conns;
    const handler = this;
    this.#onSocketMessage = function (this: WebSocket, data, isBinary) {
      const conn = conns.get(this);
      if (conn) handler.#onMessage(conn, data, isBinary);
    };
    this.#onSocketClose = function (this: WebSocket) {
      const conn = conns.get(this);
      if (conn) handler.#onClose(conn);
    };
    const log = this.#log;
    // a socket error is always followed by its close (which cleans up): only noted
    this.#onSocketError = function (this: WebSocket, err: Error) {
      (conns.get(this)?.log ?? log).debug({ err }, 'document socket error');
    };
  }

  /** The sockets of every accepted connection (pings). */
  sockets(): IterableIterator<WebSocket> {
    return this.#conns.sockets();
  }

  /** Open `/yjs` connections of one person. */
  connectionsOf(org: string, sub: string): number {
    return this.#conns.countOf(personKey(org, sub));
  }

  /** See `DocService.accept`. Never throws. */
  accept(ws: WebSocket, requestUrl: string): void {
    try {
      this.#accept(ws, requestUrl);
    } catch (err) {
      this.#log.error({ err, path: pathOf(requestUrl) }, 'taking over a document connection failed; closing it');
      const conn = this.#conns.get(ws);
      if (conn) this.#onClose(conn);
      closeSocket(ws, 'INTERNAL');
    }
  }

  #accept(ws: WebSocket, requestUrl: string): void {
    ws.on('error', this.#onSocketError);
    const url = new URL(requestUrl, 'http://localhost');
    if (this.#closing) {
      closeSocket(ws, 'GOING_AWAY');
      return;
    }
    const check = checkUpgrade(url, this.#tokens);
    if (!check.ok) {
      closeSocket(ws, check.reason, check.detail);
      return;
    }
    const { principal, name, canWrite } = check;
    // the document lives in the namespace of the token's organisation: grants name documents there
    const ref: DocRef = { org: principal.token.org, name };
    if (this.#docs.isDeleting(ref)) {
      closeSocket(ws, 'GONE');
      return;
    }
    const person = principal.key;
    if (!this.#conns.hasRoomFor(person)) {
      const maxConns = this.#limits.maxConnectionsPerPerson;
      closeSocket(ws, 'TOO_MANY_CONNECTIONS', `TOO_MANY_CONNECTIONS (at most ${maxConns} per person)`);
      return;
    }
    if (!this.#conns.openDocument(person, name)) {
      closeSocket(ws, 'TOO_MANY_DOCUMENTS', `at most ${this.#limits.maxOpenPerPerson}`);
      return;
    }
    // keep only what the connection needs (org, sub, grant, expiry): connections are many
    const conn = new DocConnection({
      ws,
      org: ref.org,
      sub: principal.sub,
      docName: name,
      canWrite,
      expiresAt: principal.token.exp * 1000,
      sid: principal.token.sid,
      log: this.#log,
      wildcardGrant: Object.hasOwn(principal.token.grants.docs, '*'),
    });
    this.#conns.add(conn);
    this.#metrics.connections.inc();
    ws.on('message', this.#onSocketMessage);
    ws.on('close', this.#onSocketClose);
    void this.#join(conn, principal);
  }

  async #join(conn: DocConnection, principal: Principal): Promise<void> {
    const ref: DocRef = { org: conn.org, name: conn.docName };
    const name = conn.docName;
    try {
      if (!(await this.#guards.allows(principal, name))) {
        conn.close('FORBIDDEN', `document ${name} is not yours to open`);
        return;
      }
      const refusal = await this.#guards.openCheck?.(principal, name).then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof MoimError) return err;
          throw err;
        },
      );
      if (refusal) {
        conn.close('FORBIDDEN', refusal.message);
        return;
      }
      if (this.#shared && !(await this.#claim(conn))) return;
      if (conn.canWrite && !(await this.#store.get(ref))) {
        await this.#store.create({ ...ref, owner: conn.sub, policy: DEFAULT_POLICY });
      }
      const opened = await this.#docs.open(ref);
      if (conn.closed) {
        opened.release();
        return;
      }
      opened.addConnection(conn);
      opened.release();
      conn.doc = opened;
      const frames = conn.early ?? [];
      conn.early = undefined;
      for (const f of frames) opened.handleMessage(conn, f);
      this.#log.debug({ org: conn.org, doc: name, sub: conn.sub, canWrite: conn.canWrite }, 'document client joined');
    } catch (err) {
      this.#log.error({ err, org: conn.org, doc: name, sub: conn.sub }, 'opening a document failed');
      conn.close('RELOAD', 'could not open the document');
    }
  }

  #onMessage(conn: DocConnection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) {
      conn.close('MALFORMED', 'binary frames only');
      return;
    }
    const frame = toUint8Array(data);
    if (conn.doc) conn.doc.handleMessage(conn, frame);
    else if (conn.closed) return;
    else if ((conn.early?.length ?? 0) < MAX_EARLY_FRAMES) {
      conn.early ??= [];
      conn.early.push(frame);
    } else conn.close('TOO_LARGE', 'too many messages before the document loaded');
  }

  /** Count the connection among the person's on every node; false (and closed) at the cap. */
  async #claim(conn: DocConnection): Promise<boolean> {
    const shared = this.#shared;
    if (!shared) return true;
    const person = personKey(conn.org, conn.sub);
    const cap = this.#limits.maxConnectionsPerPerson;
    if (!(await shared.claim('yjs', person, cap))) {
      conn.close('TOO_MANY_CONNECTIONS', `TOO_MANY_CONNECTIONS (at most ${cap} per person across the service)`);
      return false;
    }
    if (conn.closed) {
      shared.release('yjs', person);
      return false;
    }
    conn.claimed = true;
    return true;
  }

  #onClose(conn: DocConnection): void {
    conn.markClosed();
    if (conn.claimed) {
      conn.claimed = false;
      this.#shared?.release('yjs', personKey(conn.org, conn.sub));
    }
    if (!this.#conns.remove(conn)) return;
    this.#metrics.connections.dec();
    conn.doc?.removeConnection(conn);
    conn.doc = undefined;
  }

  /**
   * A person refreshed their token with other rights: close their connections the new token no
   * longer allows (`reauthorizedClose`). Only that person's connections are looked at (they are
   * indexed by person). Returns how many were closed.
   */
  /** Close this node's connections to one document that `refused` picks (a policy change); returns how many. */
  closeWhere(org: string, name: string, refused: (conn: DocConnection) => boolean, detail: string): number {
    let closed = 0;
    for (const conn of [...this.#conns.values()]) {
      if (conn.org !== org || conn.docName !== name || conn.closed || !refused(conn)) continue;
      conn.close('FORBIDDEN', detail);
      closed++;
    }
    return closed;
  }

  reauthorize(previous: Principal, next: Principal): number {
    let closed = 0;
    for (const conn of this.#conns.ofPerson(previous.key)) {
      const verdict = reauthorizedClose(conn, next);
      if (!verdict) continue;
      conn.close(verdict.reason, verdict.detail);
      closed++;
    }
    return closed;
  }

  /**
   * A signed-out session (`sid`) or a person whose access was revoked (no `sid`): close their
   * connections with 4401 TOKEN_REVOKED (a reconnect with the same token is refused). Returns how many.
   */
  closeRevoked(org: string, sub: string, sid?: string): number {
    let closed = 0;
    for (const conn of this.#conns.ofPerson(personKey(org, sub))) {
      if (sid !== undefined && conn.sid !== sid) continue;
      conn.close('UNAUTHORIZED', 'TOKEN_REVOKED');
      closed++;
    }
    return closed;
  }

  /** Close every connection (1001) and accept no more. */
  close(): void {
    this.#closing = true;
    clearInterval(this.#expirySweep);
    for (const conn of this.#conns.values()) conn.close('GOING_AWAY');
  }

  /** Token expiry ends a session (checked every few seconds): 4401 tells the client to come back with a fresh token. */
  #sweepExpired = (): void => {
    const now = Date.now();
    for (const conn of this.#conns.values()) if (conn.expiresAt <= now) conn.close('UNAUTHORIZED', 'TOKEN_EXPIRED');
  };
}

function toUint8Array(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
