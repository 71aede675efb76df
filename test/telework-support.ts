/**
 * Shared by the telework check-in and attendance tests: a ManualClock-driven server's HTTP calls,
 * a socket.io client whose socket is bound to another loopback address (127.0.0.2: the server sees
 * the connection come from there, as from a site's network range), instants on a Seoul wall clock,
 * and waiting for what the server does after a connection opens or closes.
 */
import { request as httpRequest } from 'node:http';
import { PROTOCOL_VERSION } from '@moim/protocol';
import { io as ioClient } from 'socket.io-client';
import type { TestServer, TestSocket } from '../server/src/testing/index.ts';

/** The instant a Seoul (UTC+9, no DST) wall clock shows `hh:mm` on `day`. */
export const seoul = (day: string, hh: number, mm = 0): number =>
  Date.parse(`${day}T00:00:00Z`) + (hh - 9) * 3_600_000 + mm * 60_000;
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Monday–Friday `open`–`close`, weekends closed. */
export const weekdays = (open: string, close: string) => {
  const h = { open, close };
  return [null, h, h, h, h, h, null];
};

export type Answer<T = Record<string, unknown>> = {
  status: number;
  body: T & { error?: { code: string; message: string } };
};

/** An HTTP call with a Bearer token, from `localAddress` (default: 127.0.0.1). */
export function api<T = Record<string, unknown>>(
  server: TestServer,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  localAddress = '127.0.0.1',
): Promise<Answer<T>> {
  const url = new URL(path, server.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        localAddress,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer<T>['body'];
            resolve({ status: res.statusCode ?? 0, body });
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * A socket.io client connected from `localAddress` (its socket bound there; Linux routes all of
 * 127/8 to lo), to the server or to `url` (a proxy in front of it).
 */
export function connectFrom(
  server: TestServer,
  token: string,
  localAddress: string,
  url = server.url,
  extraHeaders: Record<string, string> = {},
): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket: TestSocket = ioClient(url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION },
      reconnection: false,
      forceNew: true,
      // engine.io-client hands this to `ws`, which binds the socket before connecting
      localAddress,
      extraHeaders,
    } as Parameters<typeof ioClient>[1]);
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Resolve with `probe()`'s first value that `ok` accepts, polling (the server works after the socket event). */
export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
