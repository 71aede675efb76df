/**
 * Baseline: the reference y-websocket server (`@y/websocket-server` 0.1.1, the last release on
 * Yjs 13), as its own `server.js` runs it — `setupWSConnection` on a `ws` server, documents in
 * memory (no YPERSISTENCE), gc on — listening on 127.0.0.1:0. With `BASELINE_DURABLE_DIR=<folder>`
 * ("y-websocket durable", durableWriter.ts) every document update a client sends (sync step 2 and
 * update messages) is first committed to SQLite — group commits of what arrived meanwhile, as moim's
 * — and only then handed to the server, which applies and broadcasts it; a connection's other
 * messages wait behind its updates, so nothing is reordered. Prints
 * `baseline ready at ws://127.0.0.1:<port> stats http://127.0.0.1:<port>`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { docs, setupWSConnection } from '@y/websocket-server/utils';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { durableWriter } from './durableWriter.ts';
import { statsServer } from './stats.ts';

const keep = durableWriter(
  {
    schema: 'CREATE TABLE updates (id INTEGER PRIMARY KEY, doc TEXT NOT NULL, data BLOB NOT NULL)',
    insert: 'INSERT INTO updates (doc, data) VALUES (?, ?)',
  },
  0,
);

/**
 * The server's message listener of one connection, behind the commit of each update it carries:
 * messages run in arrival order, each update once committed.
 */
function committedFirst(
  doc: string,
  listener: (data: RawData) => void,
  write: NonNullable<typeof keep>,
): (data: RawData) => void {
  const waiting: Array<{ data: RawData; ready: boolean }> = [];
  const flush = () => {
    while (waiting[0]?.ready) listener(waiting.shift()!.data);
  };
  return (data) => {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    // y-protocols: messageSync (0), then syncStep2 (1) or update (2) carry document updates
    const update = bytes[0] === 0 && (bytes[1] === 1 || bytes[1] === 2);
    const entry = { data, ready: !update };
    waiting.push(entry);
    if (update)
      write([doc, bytes], () => {
        entry.ready = true;
        flush();
      });
    else flush();
  };
}

const wss = new WebSocketServer({ noServer: true });
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('okay');
});
wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
  if (keep) {
    const doc = (req.url ?? '/').slice(1).split('?')[0] ?? '';
    const on = ws.on.bind(ws) as (event: string, fn: (...args: unknown[]) => void) => WebSocket;
    ws.on = ((event: string, fn: (...args: unknown[]) => void) =>
      event === 'message'
        ? on(event, committedFirst(doc, fn as (data: RawData) => void, keep) as (...args: unknown[]) => void)
        : on(event, fn)) as typeof ws.on;
  }
  setupWSConnection(ws, req);
});
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(0, '127.0.0.1', async () => {
  const stats = await statsServer(() => ({ documents: docs.size }));
  console.log(`baseline ready at ws://127.0.0.1:${(server.address() as AddressInfo).port} stats ${stats}`);
});
const stop = () => {
  wss.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
