/**
 * The types of the SDK's client (`connect()`, `MoimClient`): connection options, connection
 * states, who I am, the client's events, and the restorers areas register for reconnects.
 */
import type { ErrorBody, ErrorCode, SystemResponses } from '@moim/protocol';
import type { MoimError } from '@moim/protocol/client';
import type { RoomsOptions } from './rooms/Rooms.ts';

export interface ConnectOptions {
  /** Server base URL, e.g. `https://moim.example.org` (the page's origin in the web app). */
  url: string;
  /**
   * Returns a token for this person. Called for the first connection, before the current token
   * expires (the fresh one is sent with `system:auth`), and when a reconnect needs a fresh one.
   */
  getToken: () => Promise<string> | string;
  /** Stable id of this device (presence aggregates over devices). Default: random per client. */
  deviceId?: string;
  /** Acknowledgement timeout of one request. @default 15000 */
  requestTimeoutMs?: number;
  /**
   * Transports socket.io may use. WebSocket only by default: a cluster of nodes needs no sticky
   * sessions that way (long-polling would). Add 'polling' only for a single node behind a proxy
   * that blocks WebSockets. @default ['websocket']
   */
  transports?: Array<'websocket' | 'polling'>;
  /**
   * Other nodes to reconnect to when `url`'s node is unreachable (a site's node, then
   * headquarters): each reconnection attempt tries the next URL in turn, starting with the first
   * fallback. Rooms are rejoined on whichever node answers, as after any reconnect. HTTP requests
   * (telework) keep using `url`.
   */
  fallbackUrls?: string[];
  /** First and largest reconnection delay. @default 500, 5000 */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  /** Give up on the first connection after this long (later drops are retried forever). @default 20000 */
  connectTimeoutMs?: number;
  /** Refresh the token this long before it expires at the latest. @default 60000 */
  tokenRefreshMarginMs?: number;
  /** Media rooms options (mediasoup-client device factory for tests in Node). */
  rooms?: RoomsOptions;
  /** WebSocket constructor for documents (global `WebSocket` by default; Node 22+ has one). */
  WebSocket?: typeof WebSocket;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export type Me = SystemResponses['system:whoami'];

export interface ClientEvents {
  /** The connection dropped; the client is reconnecting (requests wait for it). */
  reconnecting: (e: { reason: string }) => void;
  /** Back online: presence resubscribed, chat caught up, rooms rejoined. */
  reconnected: (e: { downtimeMs: number }) => void;
  state: (state: ConnectionState) => void;
  /** A fresh token was sent to the server (`system:auth`). */
  tokenRefreshed: (e: { expiresAt: number }) => void;
  /** A server notice not tied to a request. */
  notice: (notice: ErrorBody & { at: number }) => void;
  /** A background failure (a token refresh, a restore step); the client carries on. */
  error: (error: MoimError) => void;
  /** The client is closed for good (by `close()`, or a refusal that retrying cannot fix). */
  closed: (e: { code?: ErrorCode; reason: string }) => void;
}

/** Something that restores its state after a reconnect (presence subscriptions, chat catch-up, rooms). */
export type Restorer = () => Promise<void>;
