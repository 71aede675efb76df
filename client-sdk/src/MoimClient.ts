/**
 * The SDK's client (`connect()`, `MoimClient`): the socket.io connection and its states, typed
 * requests and server events, the token (handshake, refresh, `system:auth`), reconnection with
 * the areas' restorers, and the areas as properties (presence, chat, rooms, docs, telework,
 * teleworkRequests, approvals, workReports, dashboard). Types are in clientTypes.ts, error
 * conversion in errors.ts.
 */
import type {
  Ack,
  ClientToServerEvents,
  ErrorBody,
  ErrorCode,
  RequestInput,
  RequestName,
  ResponseData,
  ServerToClientEvents,
} from '@moim/protocol';
import { isAckError, isErrorCode, MoimError, PROTOCOL_VERSION, TypedEmitter } from '@moim/protocol/client';
import { io, type Socket } from 'socket.io-client';
import { Calls } from './calls/Calls.ts';
import { Chat } from './chat/Chat.ts';
import type { ClientEvents, ConnectionState, ConnectOptions, Me, Restorer } from './clientTypes.ts';
import { Docs } from './docs/Docs.ts';
import { toMoimError, unwrap } from './errors.ts';
import { authorizedJson } from './http.ts';
import { getLogger, LoggerNames } from './logger.ts';
import { Presence } from './presence/Presence.ts';
import { Rooms } from './rooms/Rooms.ts';
import { Approvals } from './telework/Approvals.ts';
import { TeleworkDashboard } from './telework/Dashboard.ts';
import { TeleworkRequests } from './telework/Requests.ts';
import { Telework } from './telework/Telework.ts';
import { WorkReports } from './telework/WorkReports.ts';
import { randomId, refreshDelay, tokenExpiry } from './token.ts';

export type { ClientEvents, ConnectionState, ConnectOptions, Me, Restorer } from './clientTypes.ts';
export { toMoimError } from './errors.ts';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const log = getLogger(LoggerNames.Client);

/** Codes on which retrying the handshake cannot help. */
// TOKEN_REVOKED: signed out, or the person's access was revoked — a fresh token would be refused too
const FATAL_HANDSHAKE: readonly string[] = ['PROTOCOL_MISMATCH', 'DEV_TOKENS_DISABLED', 'TOKEN_REVOKED'];

/**
 * Connect to a moim server. Resolves once the first connection is up (and rejects with a
 * `MoimError` if it is refused); later drops are repaired automatically.
 */
export async function connect(options: ConnectOptions): Promise<MoimClient> {
  const client = new MoimClient(options);
  await client.ready();
  return client;
}

/**
 * One person's session with a moim server: typed requests over socket.io, token refresh,
 * automatic reconnection (with presence, chat, rooms and documents restored), and the product
 * areas as properties.
 */
export class MoimClient extends TypedEmitter<ClientEvents> {
  readonly url: string;
  readonly deviceId: string;
  readonly presence: Presence;
  readonly chat: Chat;
  readonly rooms: Rooms;
  readonly docs: Docs;
  /** Calls that ring: call people, answer, decline, silence this device (`client.calls.start([sub])`). */
  readonly calls: Calls;
  /** Telework over HTTP: sites, places, bookings (`client.telework.sites()`). */
  readonly telework: Telework;
  /** Telework requests over HTTP: apply, mine, cancel (`client.teleworkRequests.apply(…)`). */
  readonly teleworkRequests: TeleworkRequests;
  /** Approvals over HTTP: inbox, approve / reject with comments, delegations. */
  readonly approvals: Approvals;
  /** Work reports over HTTP (their text is a document: `client.docs.open(report.docName)`). */
  readonly workReports: WorkReports;
  /** The manager's view over HTTP: a day's dashboard, its CSV, attendance. */
  readonly dashboard: TeleworkDashboard;

  readonly #opts: ConnectOptions;
  readonly #socket: ClientSocket;
  readonly #restorers: Array<[string, Restorer]> = [];
  #state: ConnectionState = 'connecting';
  #token: string | undefined;
  #forceFreshToken = false;
  #me: Me | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retries = 0;
  #downSince = 0;
  #connectedOnce = false;
  #first: Promise<void>;
  #firstSettle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  #waiters = new Set<{ resolve: () => void; reject: (e: unknown) => void }>();
  #tokenListeners = new Set<(token: string) => void>();

  constructor(options: ConnectOptions) {
    super();
    this.#opts = options;
    this.url = options.url.replace(/\/+$/, '');
    this.deviceId = options.deviceId ?? randomId(12);
    this.#first = new Promise<void>((resolve, reject) => {
      this.#firstSettle = { resolve, reject };
    });
    // `ready()` and `connect()` hand this failure to the caller and `closed` reports it; an app that
    // only listens to events must not get an unhandled rejection
    this.#first.catch((error: unknown) => log.debug('first connection failed', { url: this.url, error }));
    const firstTimer = setTimeout(() => {
      if (this.#connectedOnce || this.#state === 'closed') return;
      const e = new MoimError('UNAVAILABLE', `could not connect to ${this.url}`);
      this.#firstSettle?.reject(e);
      this.#shutdown(e.message, 'UNAVAILABLE');
    }, options.connectTimeoutMs ?? 20_000);
    this.#first.then(
      () => clearTimeout(firstTimer),
      () => clearTimeout(firstTimer),
    );
    this.#socket = io(this.url, {
      path: '/socket.io',
      transports: options.transports ?? ['websocket'],
      reconnection: true,
      reconnectionDelay: options.reconnectDelayMs ?? 500,
      reconnectionDelayMax: options.reconnectDelayMaxMs ?? 5000,
      randomizationFactor: 0.3,
      forceNew: true,
      autoConnect: false,
      auth: (cb: (auth: object) => void) => {
        this.#handshakeToken().then(
          (token) => cb({ token, protocol: PROTOCOL_VERSION, deviceId: this.deviceId }),
          (err: unknown) => {
            this.safeEmit('error', toMoimError(err, 'TOKEN_MISSING'));
            cb({ token: '', protocol: PROTOCOL_VERSION, deviceId: this.deviceId });
          },
        );
      },
    });
    const nodes = [this.url, ...(options.fallbackUrls ?? []).map((u) => u.replace(/\/+$/, ''))];
    if (nodes.length > 1) {
      // a node that is gone: each attempt tries the next one (the Manager opens its engine on `uri`)
      let attempt = 0;
      const next = () => {
        (this.#socket.io as unknown as { uri: string }).uri = nodes[++attempt % nodes.length]!;
      };
      this.#socket.io.on('reconnect_attempt', next);
    }
    this.#socket.on('connect', () => this.#onConnect());
    this.#socket.on('disconnect', (reason) => this.#onDisconnect(reason));
    this.#socket.on('connect_error', (err) => this.#onConnectError(err));
    this.#socket.on('system:notice', (notice) => {
      this.safeEmit('notice', notice);
      if (notice.code === 'TOKEN_EXPIRED') void this.refreshToken();
    });
    this.presence = new Presence(this);
    this.chat = new Chat(this);
    this.rooms = new Rooms(this, options.rooms);
    this.docs = new Docs(this, options.WebSocket);
    this.calls = new Calls(this);
    this.telework = new Telework({ url: this.url, getToken: () => this.currentToken() });
    const http = { url: this.url, getToken: () => this.currentToken() };
    this.teleworkRequests = new TeleworkRequests(http);
    this.approvals = new Approvals(http);
    this.workReports = new WorkReports(http);
    this.dashboard = new TeleworkDashboard(http);
    this.#socket.connect();
  }

  /** Resolves once the first connection is up; rejects if it was refused. */
  ready(): Promise<void> {
    return this.#first;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === 'connected' || (this.#state === 'reconnecting' && this.#socket.connected);
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Who the server thinks this client is (from the token; read at each connection). */
  get me(): Me {
    if (!this.#me) throw new MoimError('UNAVAILABLE', 'not connected yet');
    return this.#me;
  }

  /** The token currently in use (documents and HTTP calls use it too). */
  get token(): string | undefined {
    return this.#token;
  }

  /** Send a typed request and resolve with its response data (or reject with a `MoimError` carrying `code`). */
  async request<N extends RequestName>(
    name: N,
    data: RequestInput<N>,
    opts: { timeoutMs?: number } = {},
  ): Promise<ResponseData<N>> {
    const timeoutMs = opts.timeoutMs ?? this.#opts.requestTimeoutMs ?? 15_000;
    if (this.#state === 'closed') throw new MoimError('UNAVAILABLE', 'the client is closed');
    if (!this.#socket.connected) await this.#waitConnected(timeoutMs);
    let ack = await this.#emit(name, data, timeoutMs);
    if (isAckError(ack) && ack.error.code === 'TOKEN_EXPIRED' && name !== 'system:auth') {
      await this.refreshToken();
      ack = await this.#emit(name, data, timeoutMs);
    }
    if (isAckError(ack)) throw new MoimError(ack.error.code, ack.error.message);
    return ack.data;
  }

  /** Listen to a server event; returns the function that stops listening. */
  onServer<E extends keyof ServerToClientEvents & string>(event: E, listener: ServerToClientEvents[E]): () => void {
    const s = this.#socket as unknown as { on(e: string, l: unknown): void; off(e: string, l: unknown): void };
    s.on(event, listener);
    return () => s.off(event, listener);
  }

  /**
   * Register a step run after every reconnect, in registration order (presence, chat, rooms).
   * Used by the areas of this SDK.
   */
  addRestorer(name: string, restorer: Restorer): void {
    this.#restorers.push([name, restorer]);
  }

  /** Be told about every new token (documents pass it to their providers). */
  onToken(listener: (token: string) => void): () => void {
    this.#tokenListeners.add(listener);
    return () => this.#tokenListeners.delete(listener);
  }

  /** A current token (fetching one if there is none yet). */
  async currentToken(): Promise<string> {
    return this.#token ?? this.#handshakeToken();
  }

  /** Authorised HTTP call to the server's REST API (`path` starts with `/`). Rejects with a `MoimError`. */
  async fetchJson<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    return authorizedJson<T>(this.url, await this.currentToken(), path, init);
  }

  /** Fetch a fresh token now and hand it to the server and the document providers. */
  async refreshToken(): Promise<void> {
    if (this.#state === 'closed') return;
    clearTimeout(this.#refreshTimer);
    try {
      const token = await this.#opts.getToken();
      const previousExp = this.#token ? tokenExpiry(this.#token) : undefined;
      this.#setToken(token);
      if (this.#socket.connected) {
        const ack = await this.#emit('system:auth', { token }, this.#opts.requestTimeoutMs ?? 15_000);
        if (isAckError(ack)) throw new MoimError(ack.error.code, ack.error.message);
        this.safeEmit('tokenRefreshed', { expiresAt: ack.data.expiresAt });
      }
      const exp = tokenExpiry(token);
      // a getToken that hands back the same token must not make us spin
      if (exp !== undefined && previousExp !== undefined && exp <= previousExp) this.#scheduleRefresh(token, 30_000);
      else this.#scheduleRefresh(token);
    } catch (err) {
      this.safeEmit('error', toMoimError(err, 'TOKEN_EXPIRED'));
      this.#scheduleRefresh(this.#token, 10_000);
    }
  }

  /** Leave rooms, close documents, disconnect. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    // closing goes on regardless: the server ends the peers of a closed socket after their grace period
    await this.rooms.closeAll().catch((error: unknown) => log.warn('leaving rooms on close failed', { error }));
    this.#shutdown('closed by the client');
  }

  // -------------------------------------------------------------------------------------------

  #emit<N extends RequestName>(name: N, data: unknown, timeoutMs: number): Promise<Ack<ResponseData<N>>> {
    const s = this.#socket.timeout(timeoutMs) as unknown as {
      emitWithAck(e: string, d: unknown): Promise<Ack<ResponseData<N>>>;
    };
    return s.emitWithAck(name, data).catch(() => ({
      error: { code: 'UNAVAILABLE' as const, message: `${name}: no answer within ${timeoutMs} ms` },
    }));
  }

  #waitConnected(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
        reject: (e: unknown) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          reject(e);
        },
      };
      const timer = setTimeout(
        () => waiter.reject(new MoimError('UNAVAILABLE', `not connected within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.add(waiter);
    });
  }

  async #handshakeToken(): Promise<string> {
    const exp = this.#token ? tokenExpiry(this.#token) : undefined;
    const fresh = exp === undefined || exp * 1000 - Date.now() < 30_000;
    if (this.#token && !fresh && !this.#forceFreshToken) return this.#token;
    this.#forceFreshToken = false;
    const token = await this.#opts.getToken();
    this.#setToken(token);
    return token;
  }

  #setToken(token: string): void {
    if (token === this.#token) return;
    this.#token = token;
    for (const l of this.#tokenListeners) {
      try {
        l(token);
      } catch (error) {
        // a listener must not break the refresh
        log.warn('token listener failed', { error });
      }
    }
  }

  #scheduleRefresh(token: string | undefined, delayMs?: number): void {
    clearTimeout(this.#refreshTimer);
    if (!token || this.#state === 'closed') return;
    const exp = tokenExpiry(token);
    if (exp === undefined) return;
    const delay = delayMs ?? refreshDelay(exp, Date.now(), this.#opts.tokenRefreshMarginMs ?? 60_000, 5_000);
    // setTimeout overflows above 2^31-1 ms
    this.#refreshTimer = setTimeout(() => void this.refreshToken(), Math.min(delay, 2 ** 31 - 1));
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.safeEmit('state', state);
  }

  async #onConnect(): Promise<void> {
    this.#retries = 0;
    clearTimeout(this.#retryTimer);
    this.#scheduleRefresh(this.#token);
    for (const w of [...this.#waiters]) w.resolve();
    try {
      this.#me = (await this.#emit('system:whoami', {}, this.#opts.requestTimeoutMs ?? 15_000).then(unwrap)) as Me;
    } catch (err) {
      this.safeEmit('error', toMoimError(err, 'UNAVAILABLE'));
    }
    if (!this.#connectedOnce) {
      this.#connectedOnce = true;
      this.#setState('connected');
      this.#firstSettle?.resolve();
      return;
    }
    for (const [name, restore] of this.#restorers) {
      if (!this.#socket.connected) return; // dropped again: the next connect restores
      try {
        await restore();
      } catch (err) {
        const e = toMoimError(err, 'UNAVAILABLE');
        this.safeEmit('error', new MoimError(e.code, `restoring ${name} failed: ${e.message}`, { cause: err }));
      }
    }
    if (!this.#socket.connected) return;
    this.#setState('connected');
    this.safeEmit('reconnected', { downtimeMs: Date.now() - this.#downSince });
  }

  #onDisconnect(reason: string): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'reconnecting') this.#downSince = Date.now();
    this.#setState('reconnecting');
    this.safeEmit('reconnecting', { reason });
    // the server closed the socket on purpose (restart, kick): socket.io does not retry that by itself
    if (!this.#socket.active) this.#retryLater();
  }

  #onConnectError(err: Error & { data?: Partial<ErrorBody> }): void {
    if (this.#state === 'closed') return;
    const code = err.data?.code;
    if (code && isErrorCode(code)) {
      const e = new MoimError(code, err.data?.message ?? err.message);
      if (FATAL_HANDSHAKE.includes(code) || (!this.#connectedOnce && code.startsWith('TOKEN_') && this.#retries >= 1)) {
        this.#firstSettle?.reject(e);
        this.safeEmit('error', e);
        this.#shutdown(e.message, code);
        return;
      }
      // a refused token: fetch a fresh one and try again
      if (code.startsWith('TOKEN_')) this.#forceFreshToken = true;
      this.safeEmit('error', e);
    }
    if (!this.#socket.active) this.#retryLater();
  }

  #retryLater(): void {
    clearTimeout(this.#retryTimer);
    const base = this.#opts.reconnectDelayMs ?? 500;
    const max = this.#opts.reconnectDelayMaxMs ?? 5000;
    const delay = Math.min(max, base * 2 ** Math.min(this.#retries, 10)) * (0.85 + Math.random() * 0.3);
    this.#retries++;
    this.#retryTimer = setTimeout(() => {
      if (this.#state !== 'closed' && !this.#socket.connected) this.#socket.connect();
    }, delay);
  }

  #shutdown(reason: string, code?: ErrorCode): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#retryTimer);
    this.docs.closeAll();
    this.rooms.dispose();
    this.#socket.disconnect();
    const err = new MoimError(code ?? 'UNAVAILABLE', reason);
    for (const w of [...this.#waiters]) w.reject(err);
    this.safeEmit('closed', code ? { code, reason } : { reason });
  }
}
