import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** `::ffff:127.0.0.1` → `127.0.0.1`, so one client is one key whatever socket family carried it. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * Reverse proxies whose `X-Forwarded-For` is believed (MOIM_TRUSTED_PROXIES). A client's address is
 * the TCP peer unless that peer is a trusted proxy; then it is the right-most address of the header
 * that is not itself a trusted proxy (the left part is whatever the client claimed).
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #any: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [ip = '', prefix] = entry.split('/');
      const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.#list.addAddress(ip, type);
      else this.#list.addSubnet(ip, Number(prefix), type);
    }
    this.#any = entries.length > 0;
  }

  /** True when `address` (normalised) is a configured proxy. */
  trusts(address: string): boolean {
    if (!this.#any) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** The address of the client that sent `req`, resolved through trusted proxies. */
  clientOf(req: IncomingMessage): string {
    const peer = normalizeAddress(req.socket.remoteAddress);
    if (!this.trusts(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((h) => normalizeAddress(h.trim()))
      .filter((h) => isIP(h) !== 0);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!this.trusts(hop)) return hop;
    }
    return hops[0] ?? peer;
  }
}
