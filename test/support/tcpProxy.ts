/**
 * A TCP proxy whose connections to the target leave from another loopback address (default
 * 127.0.0.2), so the server sees its clients come from there — for clients that cannot bind a
 * local address themselves (Chromium): point them at the proxy's port. Bytes pass through
 * untouched (HTTP, WebSocket upgrades); either side closing closes the other.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (on `listenHost`). */
  port: number;
  /** `http://<listenHost>:<port>` */
  url: string;
  close(): Promise<void>;
}

export async function startTcpProxy(opts: {
  targetPort: number;
  targetHost?: string;
  /** @default '127.0.0.1' */
  listenHost?: string;
  /** The address the proxy's outgoing sockets bind. @default '127.0.0.2' */
  localAddress?: string;
}): Promise<TcpProxy> {
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({
      host: opts.targetHost ?? '127.0.0.1',
      port: opts.targetPort,
      localAddress: opts.localAddress ?? '127.0.0.2',
    });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      // a reset on one side ends the other; the error itself is the peer's business
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  return {
    port: address.port,
    url: `http://${listenHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
