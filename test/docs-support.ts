import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { DocRef } from '../server/src/storage/DocStore.ts';
import type { TestServer } from '../server/src/testing/index.ts';

/** A stock y-websocket client in Node (BroadcastChannel off, so clients in one process only talk through the server). */
export interface DocClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  text: Y.Text;
  /** Close events the provider saw (code, reason). */
  closes: Array<{ code: number; reason: string }>;
  /** Permission-denied messages (y-protocols/auth) the server sent. */
  denied: string[];
  destroy(): void;
}

const clients = new Set<DocClient>();
/**
 * Each stock provider in Node listens to the process's `exit` (to tell the others it left) until
 * destroyed; a test may hold more at once than the process's listener warning limit (10–12).
 */
const MAX_OPEN_PROVIDERS = 200;
if (process.getMaxListeners() < MAX_OPEN_PROVIDERS) process.setMaxListeners(MAX_OPEN_PROVIDERS);

export function openDoc(
  url: string,
  name: string,
  token: string,
  opts: { connect?: boolean; doc?: Y.Doc } = {},
): DocClient {
  const doc = opts.doc ?? new Y.Doc();
  const provider = new WebsocketProvider(`${url.replace(/^http/, 'ws')}/yjs`, name, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    connect: opts.connect ?? true,
    maxBackoffTime: 500,
  });
  const closes: DocClient['closes'] = [];
  const denied: string[] = [];
  provider.on('connection-close', (event) => {
    if (event) closes.push({ code: event.code, reason: event.reason });
  });
  // the stock handler only logs: count the denials instead
  provider.messageHandlers[2] = (_encoder, decoder) => {
    // y-protocols/auth: varUint 0 (permission denied), varString reason
    if (decoding.readVarUint(decoder) === 0) denied.push(decoding.readVarString(decoder));
  };
  const client: DocClient = {
    doc,
    provider,
    text: doc.getText('content'),
    closes,
    denied,
    destroy() {
      clients.delete(client);
      provider.destroy();
      doc.destroy();
    },
  };
  clients.add(client);
  return client;
}

/** Destroy every client opened by `openDoc` (afterEach). */
export function destroyAllClients(): void {
  for (const c of [...clients]) c.destroy();
}

export async function token(
  server: TestServer,
  name: string,
  docs?: Record<string, Array<'read' | 'write'>>,
): Promise<string> {
  return server.token({ name, ...(docs ? { grants: { docs } } : {}) });
}

/** Resolve when `check()` holds, re-checking on every change of `doc` (and every 50 ms for non-doc state). */
export function until(
  check: () => boolean,
  opts: { doc?: Y.Doc; timeoutMs?: number; what?: string } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      opts.doc?.off('update', recheck);
    };
    const recheck = () => {
      if (check()) {
        done();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${opts.what ?? 'a condition'}`));
    }, opts.timeoutMs ?? 15_000);
    const poll = setInterval(recheck, 50);
    opts.doc?.on('update', recheck);
  });
}

/** Like `until`, for an async check (HTTP, storage), polled every 50 ms. */
export async function eventually(
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function synced(client: DocClient): Promise<void> {
  return until(() => client.provider.synced, { what: 'sync' });
}

/** Wait for the provider to be closed by the server with a permanent (44xx) code. */
export function closedWith(client: DocClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no close from the server')), 15_000);
    client.provider.on('closed', (event) => {
      clearTimeout(timer);
      resolve(event);
    });
  });
}

/** A document of the default organisation (tokens that name no `org`), or the one given. */
export const docRef = (name: string, org = 'default'): DocRef => ({ org, name });

/** The state of a document as the server stored it (a fresh load from the store). */
export async function storedText(server: TestServer, name: string | DocRef, root = 'content'): Promise<string> {
  const rows = await server.app.stores.docs.loadContent(typeof name === 'string' ? docRef(name) : name);
  const doc = new Y.Doc();
  if (rows.state) Y.applyUpdate(doc, rows.state);
  for (const u of rows.updates) Y.applyUpdate(doc, u.update);
  const text = doc.getText(root).toString();
  doc.destroy();
  return text;
}

/** HTTP helper: JSON request with a bearer token. */
export async function api<T = unknown>(
  server: TestServer,
  method: string,
  path: string,
  tok: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${tok}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain text export
  }
  return { status: res.status, body: parsed as T };
}

/** A raw `/yjs` WebSocket (no provider): what an attacker or a hand-written client sends. */
export interface RawDocSocket {
  ws: WebSocket;
  /** Every binary frame the server sent, in order. */
  frames: Uint8Array[];
  /** Resolves once the socket is open (rejects if it closes first). */
  opened: Promise<void>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Send a frame (dropped once the socket is no longer open). */
  send(frame: Uint8Array): void;
}

export function openRaw(url: string, name: string, tok: string): RawDocSocket {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/yjs/${name}?token=${tok}`);
  ws.binaryType = 'arraybuffer';
  const frames: Uint8Array[] = [];
  ws.on('message', (data: ArrayBuffer) => frames.push(new Uint8Array(data)));
  // errors surface as the close below
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    void closed.then((c) => reject(new Error(`closed before open: ${c.code} ${c.reason}`)));
  });
  // an unawaited `opened` must not become an unhandled rejection
  opened.catch(() => undefined);
  rawSockets.add(ws);
  return {
    ws,
    frames,
    opened,
    closed,
    send(frame) {
      if (ws.readyState === ws.OPEN) ws.send(frame);
    },
  };
}

const rawSockets = new Set<WebSocket>();

/** Terminate every socket opened by `openRaw` (afterEach). */
export function destroyAllRaw(): void {
  for (const ws of rawSockets) ws.terminate();
  rawSockets.clear();
}

/** y-websocket frames: sync step 1 / step 2 / update, and awareness. */
export const frames = {
  step1: (sv: Uint8Array): Uint8Array => syncFrame(0, sv),
  step2: (u: Uint8Array): Uint8Array => syncFrame(1, u),
  update: (u: Uint8Array): Uint8Array => syncFrame(2, u),
  /** An awareness message with the given entries (state `null` removes). */
  awareness: (entries: Array<{ id: number; clock: number; state: unknown }>): Uint8Array =>
    frameOf((e) => {
      writeVarUint(e, 1);
      writeBytes(
        e,
        frameOf((inner) => {
          writeVarUint(inner, entries.length);
          for (const x of entries) {
            writeVarUint(inner, x.id);
            writeVarUint(inner, x.clock);
            encoding.writeVarString(inner, JSON.stringify(x.state));
          }
        }),
      );
    }),
};

/** The kind of a frame the server sent: `sync-step1`, `sync-step2`, `sync-update`, `awareness`, `auth`. */
export function frameKind(frame: Uint8Array): string {
  const d = decoding.createDecoder(frame);
  const type = decoding.readVarUint(d);
  if (type === 0) return ['sync-step1', 'sync-step2', 'sync-update'][decoding.readVarUint(d)] ?? 'sync-?';
  return ['sync', 'awareness', 'auth', 'query-awareness'][type] ?? `type-${type}`;
}

const frameOf = (write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
};
const syncFrame = (sub: number, bytes: Uint8Array): Uint8Array =>
  frameOf((e) => {
    writeVarUint(e, 0);
    writeVarUint(e, sub);
    writeBytes(e, bytes);
  });
const writeVarUint = encoding.writeVarUint;
const writeBytes = encoding.writeVarUint8Array;

/** The item-4 reproduction's update: from a new client id whose structs start at clock 10 (clocks 0–9 never sent): it would stay pending. */
export function pendingUpdate(clientId: number, bytes: number): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  const text = doc.getText('content');
  text.insert(0, '0123456789');
  const sv = Y.encodeStateVector(doc);
  text.insert(10, 'x'.repeat(bytes));
  const update = Y.encodeStateAsUpdate(doc, sv);
  doc.destroy();
  return update;
}
