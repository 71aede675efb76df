import WebSocket from 'ws';
import { withTimeout } from './bounded.ts';

/**
 * A light socket.io client (Engine.IO 4 / socket.io protocol 5 over one WebSocket, text
 * packets only) for load generation: thousands of them fit in one generator process, and
 * receivers can look at a frame without parsing it (`onRaw`). It speaks exactly what
 * `socket.io-client` sends for the calls used here — connect with an `auth` payload, events,
 * acknowledgements, pongs — so the server does the same work as for a real client.
 */
export class LightSocket {
  readonly #ws: WebSocket;
  readonly #acks = new Map<number, (payload: unknown) => void>();
  #nextAck = 1;
  #connected = false;
  #closed = false;
  /** Every event frame (`42[...]`) as received, for receivers that parse only what they need. */
  onRaw: ((frame: string) => void) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  /** Connect to `<url>/socket.io/` and complete the socket.io handshake with `auth`. */
  static connect(url: string, auth: Record<string, unknown>, timeoutMs = 30_000): Promise<LightSocket> {
    const wsUrl = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    const s = new LightSocket(ws);
    const ready = new Promise<LightSocket>((resolve, reject) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        const frame = data.toString();
        const type = frame.charCodeAt(0);
        if (type === 50 /* '2' ping */) {
          ws.send('3');
          return;
        }
        if (type === 48 /* '0' open */) {
          ws.send(`40${JSON.stringify(auth)}`);
          return;
        }
        if (type !== 52 /* '4' message */) return;
        const kind = frame.charCodeAt(1);
        if (kind === 50 /* '2' event */) {
          s.onRaw?.(frame);
        } else if (kind === 51 /* '3' ack */) {
          const open = frame.indexOf('[');
          const id = Number(frame.slice(2, open));
          const cb = s.#acks.get(id);
          if (cb) {
            s.#acks.delete(id);
            cb((JSON.parse(frame.slice(open)) as unknown[])[0]);
          }
        } else if (kind === 48 /* '0' connect */) {
          s.#connected = true;
          resolve(s);
        } else if (kind === 52 /* '4' connect_error */) {
          reject(new Error(`connect refused: ${frame.slice(2)}`));
          ws.close();
        }
      });
      ws.once('error', reject);
      ws.once('close', () => {
        s.#closed = true;
        if (!s.#connected) reject(new Error('closed before connect'));
      });
    });
    return withTimeout(ready, timeoutMs, 'socket.io connect').catch((e: unknown) => {
      ws.terminate();
      throw e;
    });
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** Bytes queued in the socket (backpressure). */
  get buffered(): number {
    return this.#ws.bufferedAmount;
  }

  emit(event: string, payload: unknown): void {
    this.#ws.send(`42${JSON.stringify([event, payload])}`);
  }

  /** Emit with an acknowledgement; `cb` gets the ack's first argument. */
  emitAck(event: string, payload: unknown, cb: (ack: unknown) => void): void {
    const id = this.#nextAck++;
    this.#acks.set(id, cb);
    this.#ws.send(`42${id}${JSON.stringify([event, payload])}`);
  }

  request<T = unknown>(event: string, payload: unknown, timeoutMs = 30_000): Promise<T> {
    return withTimeout(
      new Promise<T>((resolve) => this.emitAck(event, payload, (a) => resolve(a as T))),
      timeoutMs,
      `${event} ack`,
    );
  }

  /** Acks still awaited. */
  get pendingAcks(): number {
    return this.#acks.size;
  }

  close(): void {
    this.#closed = true;
    this.#ws.close();
  }

  /** Vanish without a close handshake (a crashed client): the TCP connection is destroyed. */
  terminate(): void {
    this.#closed = true;
    this.#ws.terminate();
  }

  /** Stop answering pings and sending anything (a frozen device); the socket stays open. */
  freeze(): void {
    this.#ws.removeAllListeners('message');
    this.#ws.pause();
  }
}
