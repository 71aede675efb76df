/**
 * One y-websocket client of one document (`DocConnection`: who, which grant, until when, its
 * awareness ids and refused updates), and closing a `/yjs` socket with a documented code.
 */
import { DOC_CLOSE } from '@moim/protocol';
import type { WebSocket } from 'ws';
import { personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { Document } from './Document.ts';

/** Close codes of `/yjs` connections: the wire contract's table (`DOC_CLOSE` in @moim/protocol). */
export const YJS_CLOSE = DOC_CLOSE;
export type YjsCloseReason = keyof typeof YJS_CLOSE;

/** A slow reader whose send buffer grows beyond this is dropped (it resyncs on reconnect). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** One y-websocket client of one document. */
export class DocConnection {
  readonly ws: WebSocket;
  /** The organisation of the token: the namespace the document lives in. */
  readonly org: string;
  /** The person (`sub` of the token). Only what is needed is kept: connections are many. */
  readonly sub: string;
  readonly docName: string;
  readonly canWrite: boolean;
  /** Token expiry (ms since the epoch). */
  readonly expiresAt: number;
  /** The moim session of the token it opened with (logout closes that session's connections). */
  readonly sid: string | undefined;
  /** The document once loaded; frames that arrived before are kept in `early` (made on first use). */
  doc: Document | undefined;
  early: Uint8Array[] | undefined;
  /** Counted in the cluster's per-person connection count (released when it closes). */
  claimed = false;
  /**
   * Opened through a `*` document grant: not a guest of this document (the data-leak policy's
   * `guests` rule closes guests' connections when it is switched off).
   */
  readonly wildcardGrant: boolean;
  readonly #parentLog: Logger;
  #log: Logger | undefined;
  /**
   * Awareness client ids this connection introduced: only it may set their states (their states
   * are removed when it leaves). Usually one id: no Set then.
   */
  #awarenessIds: number | Set<number> | undefined;
  /** Updates refused in a row for missing dependencies, and their bytes (reset by an applied update). */
  #pendingRefused = 0;
  #pendingRefusedBytes = 0;
  #closed = false;

  constructor(opts: {
    ws: WebSocket;
    org: string;
    sub: string;
    docName: string;
    canWrite: boolean;
    expiresAt: number;
    sid?: string | undefined;
    log: Logger;
    wildcardGrant?: boolean;
  }) {
    this.wildcardGrant = opts.wildcardGrant ?? false;
    this.ws = opts.ws;
    this.org = opts.org;
    this.sub = opts.sub;
    this.docName = opts.docName;
    this.canWrite = opts.canWrite;
    this.expiresAt = opts.expiresAt;
    this.sid = opts.sid;
    this.#parentLog = opts.log;
  }

  /** `personKey(org, sub)`: the same person on another connection has the same key. */
  get personKey(): string {
    return personKey(this.org, this.sub);
  }

  /** Note an awareness client id this connection introduced (or took over from its own person's older connection). */
  addAwarenessId(id: number): void {
    const ids = this.#awarenessIds;
    if (ids === undefined || ids === id) this.#awarenessIds = id;
    else if (typeof ids === 'number') this.#awarenessIds = new Set([ids, id]);
    else ids.add(id);
  }

  /** Forget an id (another connection of the same person took it over). */
  deleteAwarenessId(id: number): void {
    const ids = this.#awarenessIds;
    if (ids === id) this.#awarenessIds = undefined;
    else if (typeof ids === 'object') ids.delete(id);
  }

  /** The awareness client ids this connection introduced. */
  awarenessIds(): number[] {
    const ids = this.#awarenessIds;
    if (ids === undefined) return [];
    return typeof ids === 'number' ? [ids] : [...ids];
  }

  get awarenessIdCount(): number {
    const ids = this.#awarenessIds;
    return ids === undefined ? 0 : typeof ids === 'number' ? 1 : ids.size;
  }

  /** Count an update refused for missing dependencies; returns the refusals in a row and their bytes. */
  notePendingRefused(bytes: number): { count: number; bytes: number } {
    this.#pendingRefused++;
    this.#pendingRefusedBytes += bytes;
    return { count: this.#pendingRefused, bytes: this.#pendingRefusedBytes };
  }

  /** An update of this connection applied: its refusals in a row start again from zero. */
  clearPendingRefused(): void {
    this.#pendingRefused = 0;
    this.#pendingRefusedBytes = 0;
  }

  /** The socket closed (called by the owner's close listener). */
  markClosed(): void {
    this.#closed = true;
  }

  /** A child logger with `doc` and `sub`, made on first use (most connections never log). */
  get log(): Logger {
    this.#log ??= this.#parentLog.child({ org: this.org, doc: this.docName, sub: this.sub });
    return this.#log;
  }

  get closed(): boolean {
    return this.#closed || this.ws.readyState !== this.ws.OPEN;
  }

  send(message: Uint8Array): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn({ buffered: this.ws.bufferedAmount }, 'document client too slow, dropping it');
      this.close('RELOAD', 'too slow');
      return;
    }
    // no callback per send: a failed write surfaces as the socket's error and close
    this.ws.send(message);
  }

  /** Close with one of the documented codes; `detail` is appended to the reason (max 123 bytes in all). */
  close(reason: YjsCloseReason, detail?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSocket(this.ws, reason, detail);
  }
}

/** Close a y-websocket socket with a `YJS_CLOSE` code; the reason is `<reason>[: detail]`. Never throws. */
export function closeSocket(ws: WebSocket, reason: YjsCloseReason, detail?: string): void {
  const { code, reason: text } = YJS_CLOSE[reason];
  const full = detail ? `${text}: ${detail}` : text;
  try {
    ws.close(code, truncateUtf8(full, 123));
  } catch {
    // a socket that cannot be closed cleanly (not open yet, already failed) is dropped instead
    ws.terminate();
  }
}

function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = s;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}
