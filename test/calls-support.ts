/**
 * Shared by the calls tests (calls, calls-room, calls-withdraw): real servers with generous rate
 * limits, closed after each test (`afterEach(closeServers)`); people connected from named devices;
 * a call rung and answered; the error code of a request that must fail; grants that name no call
 * room.
 */
import type { CallInfo, Grants } from '@moim/protocol';
import { expect } from 'vitest';
import {
  call,
  LIFTED_RATE_LIMITS,
  request,
  startTestServer,
  type TestServer,
  type TestSocket,
} from '../server/src/testing/index.ts';

const servers: Array<{ close(): Promise<void> }> = [];

/** A real server (requests are not rate-limited in these tests), closed by `closeServers`. */
export async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startTestServer({ ...LIFTED_RATE_LIMITS, ...env });
  servers.push(s);
  return s;
}

/** Close `s` (a server started otherwise, a clean-up) with the others after the test. */
export function closeLater(s: { close(): Promise<void> }): void {
  servers.push(s);
}

/** Close every server `start` made, and what `closeLater` was given (each test file: `afterEach(closeServers)`). */
export async function closeServers(): Promise<void> {
  for (const s of servers.splice(0)) await s.close();
}

export interface Person {
  sub: string;
  token: string;
  /** The person's sockets by device id (the handshake's `deviceId`). */
  devices: Record<string, TestSocket>;
  /** The first device's socket. */
  socket: TestSocket;
}

let seq = 0;
/** A person (a fresh sub) connected from the named devices, with the given grants and org. */
export async function person(
  server: TestServer,
  name: string,
  opts: { devices?: string[]; grants?: Grants; org?: string } = {},
): Promise<Person> {
  const sub = `${name}-${++seq}`;
  const token = await server.token({
    name,
    sub,
    ...(opts.grants ? { grants: opts.grants } : {}),
    ...(opts.org ? { org: opts.org } : {}),
  });
  const devices: Record<string, TestSocket> = {};
  for (const d of opts.devices ?? ['laptop']) devices[d] = await server.connect(token, { deviceId: d });
  return { sub, token, devices, socket: Object.values(devices)[0]! };
}

/** The error code a request must fail with (it throws when the request succeeds). */
export async function errorOf(socket: TestSocket, event: string, payload: unknown): Promise<string> {
  const ack = await request(socket, event, payload);
  if (!('error' in ack)) throw new Error(`${event} succeeded: ${JSON.stringify(ack.data)}`);
  return ack.error.code;
}

/** `caller` rings `callees`; each answers; the call as the last callee sees it (its room: `call-<id>`). */
export async function connected(caller: Person, callees: Person[]): Promise<CallInfo> {
  const started = await call<CallInfo>(caller.socket, 'call:start', { callees: callees.map((c) => c.sub) });
  let last = started;
  for (const c of callees) last = await call<CallInfo>(c.socket, 'call:accept', { callId: started.id });
  expect(last.roomId).toBe(`call-${started.id}`);
  return last;
}

/** Grants that name one unrelated room only: never the call's room. */
export const narrow = (createRooms: Grants['createRooms'] = []): Grants => ({
  rooms: { 'team-standup': ['join', 'publish', 'subscribe'] },
  docs: {},
  chat: true,
  createRooms,
});

/** Every room, moderate included (a manager's default). */
export const everything: Grants = {
  rooms: { '*': ['join', 'publish', 'subscribe', 'moderate'] },
  docs: {},
  chat: true,
  createRooms: ['personal', 'standard'],
};
