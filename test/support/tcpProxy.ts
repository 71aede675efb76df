/**
 * A TCP proxy in front of a server, for clients that cannot do what a test needs themselves
 * (Chromium cannot bind a local address, nor lose its network on demand). Its connections to the
 * target leave from `localAddress` (127.0.0.2: the server sees its clients come from another
 * "site"), switchable with `moveTo`; `cut()` resets every connection and refuses new ones until
 * `restore()`. Bytes pass through untouched (HTTP, WebSocket upgrades); either side closing closes
 * the other. Media straight to the SFU does not go through it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (on `listenHost`). */
  port: number;
  /** `http://<listenHost>:<port>` */
  url: string;
  /** Reset every connection through the proxy and refuse new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /** New connections leave from `address`; the open ones are reset (their clients reconnect, from there). */
  moveTo(address: string): void;
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
  let from = opts.localAddress ?? '127.0.0.2';
  let blocked = false;
  const open = new Set<Socket>();
  const resetAll = () => {
    for (const s of open) s.resetAndDestroy();
    open.clear();
  };
  const server: Server = createServer((client) => {
    if (blocked) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: opts.targetHost ?? '127.0.0.1', port: opts.targetPort, localAddress: from });
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
    cut() {
      blocked = true;
      resetAll();
    },
    restore() {
      blocked = false;
    },
    moveTo(to) {
      from = to;
      resetAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
