/**
 * Baseline: the reference y-websocket server (`@y/websocket-server` 0.1.1, the last release on
 * Yjs 13), as its own `server.js` runs it — `setupWSConnection` on a `ws` server, documents in
 * memory (no YPERSISTENCE), gc on — listening on 127.0.0.1:0. Prints
 * `baseline ready at ws://127.0.0.1:<port> stats http://127.0.0.1:<port>`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { docs, setupWSConnection } from '@y/websocket-server/utils';
import { WebSocketServer } from 'ws';
import { statsServer } from './stats.ts';

const wss = new WebSocketServer({ noServer: true });
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('okay');
});
wss.on('connection', setupWSConnection);
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
