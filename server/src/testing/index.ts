import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Ack, type ClientToServerEvents, PROTOCOL_VERSION, type ServerToClientEvents } from '@moim/protocol';
import { type Socket as ClientSocket, io as ioClient } from 'socket.io-client';
import { type App, createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import type { Clock } from '../telework/Scheduler.ts';

export type TestSocket = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

export interface TestServer {
  app: App;
  url: string;
  dataDir: string;
  /** Mint a dev token (any fields of POST /auth/dev-token). */
  token(input: {
    name: string;
    site?: string;
    role?: 'admin' | 'manager' | 'member';
    sub?: string;
    [k: string]: unknown;
  }): Promise<string>;
  /** A connected socket.io client (rejects with the refusal's code on connect_error). */
  connect(token: string, opts?: { deviceId?: string; protocol?: number }): Promise<TestSocket>;
  /** A fresh person (a `sub` unique on this server, from `name`) with a token, connected as one device. */
  person(name: string, extra?: Record<string, unknown>): Promise<{ sub: string; token: string; socket: TestSocket }>;
  close(): Promise<void>;
}

/**
 * The socket request rate limits lifted (per connection, and so per person: that limit defaults to
 * twice the connection's), for tests that send many requests and test something else.
 */
export const LIFTED_RATE_LIMITS: Readonly<Record<string, string>> = {
  MOIM_RATE_LIMIT_PER_SEC: '100000',
  MOIM_RATE_LIMIT_BURST: '1000000',
};

/**
 * Start a real server in this process on a free port with a temporary data folder
 * (Hocuspocus `newHocuspocus()` style). `env` overrides configuration variables.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: {
    /** Reuse this data folder (a restart); the caller removes it. */
    dataDir?: string;
    /** The telework scheduler's clock: move it, then `app.scheduler.runDue()`. */
    clock?: Clock;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'moim-test-'));
  const config = loadConfig(
    {
      MOIM_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      MOIM_DATA_DIR: dataDir,
      MOIM_SFU_WORKERS: '1',
      MOIM_RTC_PORT: '0',
      MOIM_WEB_ROOT: path.join(dataDir, 'no-web'),
      ...env,
    },
    { cpus: 1 },
  );
  const log = createLogger(env.MOIM_LOG_LEVEL ?? 'silent', 'test');
  const app = await createApp(config, log, opts.clock ? { clock: opts.clock } : {});
  const url = (await app.listen()).replace('localhost', '127.0.0.1');
  const sockets = new Set<TestSocket>();
  let people = 0;
  const server: TestServer = {
    app,
    url,
    dataDir,
    async token(input) {
      const res = await fetch(`${url}/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ site: 'hq', role: 'member', ...input }),
      });
      const body = (await res.json()) as { token?: string; error?: { code: string } };
      if (!body.token) throw new Error(`dev-token refused: ${JSON.stringify(body)}`);
      return body.token;
    },
    connect(token, opts = {}) {
      return new Promise((resolve, reject) => {
        const socket: TestSocket = ioClient(url, {
          transports: ['websocket'],
          auth: {
            token,
            protocol: opts.protocol ?? PROTOCOL_VERSION,
            ...(opts.deviceId ? { deviceId: opts.deviceId } : {}),
          },
          reconnection: false,
          forceNew: true,
        });
        sockets.add(socket);
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', (err) => {
          const code = (err as Error & { data?: { code?: string } }).data?.code;
          reject(Object.assign(new Error(err.message), { code }));
        });
      });
    },
    async person(name, extra = {}) {
      const sub = `${name}-${++people}`;
      const token = await server.token({ name, sub, ...extra });
      return { sub, token, socket: await server.connect(token) };
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Emit a request and wait for its acknowledgement (loosely typed, so tests can send garbage). */
export function request<T = unknown>(
  socket: TestSocket,
  event: string,
  payload: unknown,
  timeoutMs = 10_000,
): Promise<Ack<T>> {
  return (socket.timeout(timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<T>> }).emitWithAck(
    event,
    payload,
  );
}

/** Emit a request and return its data, throwing on an error ack. */
export async function call<T = unknown>(socket: TestSocket, event: string, payload: unknown): Promise<T> {
  const ack = await request<T>(socket, event, payload);
  if ('error' in ack)
    throw Object.assign(new Error(`${event}: ${ack.error.code} ${ack.error.message}`), { code: ack.error.code });
  return ack.data;
}

/** Resolve with the next `event` on `socket` that satisfies `filter`. */
export function nextEvent<T = unknown>(
  socket: TestSocket,
  event: string,
  filter: (payload: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const s = socket as unknown as { on(e: string, l: (p: T) => void): void; off(e: string, l: (p: T) => void): void };
    const timer = setTimeout(() => {
      s.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      s.off(event, listener);
      resolve(payload);
    };
    s.on(event, listener);
  });
}

/** Every `event` payload a socket receives from now on, in arrival order. */
export function collect<T>(socket: TestSocket, event: string): T[] {
  const out: T[] = [];
  (socket as unknown as { on(e: string, l: (p: T) => void): void }).on(event, (p) => out.push(p));
  return out;
}
