import { DOC_CLOSE, type DocCloseReason } from '@moim/protocol';
import type { WebSocket } from 'ws';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';

/** A slow reader whose send buffer grows beyond this is dropped (it resyncs on reconnect). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** One y-websocket client of one document. */
export class DocConnection {
  readonly ws: WebSocket;
  readonly principal: Principal;
  readonly docName: string;
  readonly canWrite: boolean;
  readonly log: Logger;
  /** Awareness client ids this connection announced (removed when it leaves). */
  readonly awarenessIds = new Set<number>();
  #closed = false;

  constructor(opts: { ws: WebSocket; principal: Principal; docName: string; canWrite: boolean; log: Logger }) {
    this.ws = opts.ws;
    this.principal = opts.principal;
    this.docName = opts.docName;
    this.canWrite = opts.canWrite;
    this.log = opts.log;
    opts.ws.once('close', () => {
      this.#closed = true;
    });
  }

  get sub(): string {
    return this.principal.sub;
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
    this.ws.send(message, (err) => {
      if (err) this.log.debug({ err }, 'document send failed');
    });
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
