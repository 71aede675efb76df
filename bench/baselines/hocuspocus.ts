/**
 * Baseline: Hocuspocus (`@hocuspocus/server` 4) with its default configuration, documents in
 * memory only (no persistence extension), listening on 127.0.0.1:0. Prints
 * `baseline ready at ws://127.0.0.1:<port> stats http://127.0.0.1:<port>`.
 */
import { Server } from '@hocuspocus/server';
import { statsServer } from './stats.ts';

const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false });
const hocuspocus = await server.listen();
const stats = await statsServer(() => ({
  documents: hocuspocus.documents.size,
  connections: hocuspocus.getConnectionsCount(),
}));
console.log(`baseline ready at ws://127.0.0.1:${server.address.port} stats ${stats}`);

const stop = () => {
  server.destroy().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
