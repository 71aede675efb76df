import { isIPv6 } from 'node:net';

/** Addresses `localhost` reaches (and the wildcards, which include it). */
const LOCALHOST = new Set(['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::', '']);

/**
 * The URL a person on this machine opens to reach a server bound to `host`:`port`. `localhost`
 * where it reaches the server (passkeys need a name, not an address, as relying-party id);
 * the address itself otherwise (`localhost` never reaches 127.0.0.2).
 */
export function boundUrlFor(host: string, port: number): string {
  if (LOCALHOST.has(host)) return `http://localhost:${port}`;
  return isIPv6(host) ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
