import { DOC_CLOSE, type DocCloseReason } from '@moim/protocol';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.ts';
import type { Document } from './Document.ts';

/** A slow reader whose send buffer grows beyond this is dropped (it resyncs on reconnect). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** One y-websocket client of one document. */
export class DocConnection {
  readonly ws: WebSocket;
  /** The person (`sub` of the token). Only what is needed is kept: connections are many. */
  readonly sub: string;
  readonly docName: string;
  readonly canWrite: boolean;
  /** Token expiry (ms since the epoch). */
  readonly expiresAt: number;
  /** The document once loaded; frames that arrived before are kept in `early` (made on first use). */
  doc: Document | undefined;
  early: Uint8Array[] | undefined;
  readonly #parentLog: Logger;
  #log: Logger | undefined;
  /** Awareness client ids this connection announced (removed when it leaves). */
  #awarenessIds: number | Set<number> | undefined;
  #closed = false;

  constructor(opts: {
    ws: WebSocket;
    sub: string;
    docName: string;
    canWrite: boolean;
    expiresAt: number;
    log: Logger;
  }) {
    this.ws = opts.ws;
    this.sub = opts.sub;
    this.docName = opts.docName;
    this.canWrite = opts.canWrite;
    this.expiresAt = opts.expiresAt;
    this.#parentLog = opts.log;
  }

  /** Note awareness client ids this connection added and removed (usually one id: no Set then). */
  noteAwareness(added: readonly number[], removed: readonly number[]): void {
    let ids = this.#awarenessIds;
    for (const id of added) {
      if (ids === undefined || ids === id) ids = id;
      else if (typeof ids === 'number') ids = new Set([ids, id]);
      else ids.add(id);
    }
    for (const id of removed) {
      if (ids === id) ids = undefined;
      else if (typeof ids === 'object') ids.delete(id);
    }
    this.#awarenessIds = ids;
  }

  /** The awareness client ids this connection announced and did not remove. */
  awarenessIds(): number[] {
    const ids = this.#awarenessIds;
    if (ids === undefined) return [];
    return typeof ids === 'number' ? [ids] : [...ids];
  }

  /** The socket closed (called by the owner's close listener). */
  markClosed(): void {
    this.#closed = true;
  }

  /** A child logger with `doc` and `sub`, made on first use (most connections never log). */
  get log(): Logger {
    this.#log ??= this.#parentLog.child({ doc: this.docName, sub: this.sub });
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
  close(reason: DocCloseReason, detail?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSocket(this.ws, reason, detail);
  }
}

/** Close a y-websocket socket with a `DOC_CLOSE` code; the reason is `<reason>[: detail]`. */
export function closeSocket(ws: WebSocket, reason: DocCloseReason, detail?: string): void {
  const { code, reason: text } = DOC_CLOSE[reason];
  const full = detail ? `${text}: ${detail}` : text;
  try {
    ws.close(code, truncateUtf8(full, 123));
  } catch {
    ws.terminate();
  }
}

function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = s;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}
