/**
 * Which site a client address is at: CIDR matching over the sites' `networks`, IPv4 and IPv6.
 * An IPv4-mapped IPv6 address (`::ffff:127.0.0.2`, what a dual-stack socket reports) is the IPv4
 * address it carries, and an IPv6 range inside `::ffff:0:0/96` matches IPv4 addresses alike, so one
 * client is at one site whatever socket family carried it. Pure functions on bigints: no lookup by
 * a string a person chose, nothing thrown for bad input (an address or range that does not parse
 * matches nothing).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Site } from '@moim/protocol';

/** A parsed address: IPv4 in 32 bits or IPv6 in 128 bits. */
export interface ParsedAddress {
  v: 4 | 6;
  bits: bigint;
}

/** A parsed CIDR range. */
export interface ParsedRange extends ParsedAddress {
  prefix: number;
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96

function parseV4(text: string): bigint | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(text: string): bigint | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined; // zone ids name an interface, not a network
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const missing = 8 - l.length - r.length;
  const all = right === undefined ? l : [...l, ...Array<string>(missing).fill('0'), ...r];
  if (all.length !== 8) return undefined;
  let bits = all.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
  if (tailV4 !== undefined) bits = (bits & ~0xffffffffn) | tailV4;
  return bits;
}

/** Parse an address; an IPv4-mapped IPv6 address becomes its IPv4 address. Undefined when not an address. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseV4(text);
  if (v4 !== undefined) return { v: 4, bits: v4 };
  const v6 = parseV6(text);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === MAPPED_PREFIX >> 32n) return { v: 4, bits: v6 & 0xffffffffn };
  return { v: 6, bits: v6 };
}

/**
 * Parse `address/prefix`; a range inside `::ffff:0:0/96` becomes the IPv4 range it maps. Host bits
 * set below the prefix are ignored (`10.0.0.1/8` is `10.0.0.0/8`). Undefined when it does not parse.
 */
export function parseCidr(text: string): ParsedRange | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const addressText = text.slice(0, slash);
  const v4 = parseV4(addressText);
  if (v4 !== undefined) return prefix <= 32 ? { v: 4, bits: v4, prefix } : undefined;
  const v6 = parseV6(addressText);
  if (v6 === undefined || prefix > 128) return undefined;
  if (prefix >= 96 && v6 >> 32n === MAPPED_PREFIX >> 32n) return { v: 4, bits: v6 & 0xffffffffn, prefix: prefix - 96 };
  return { v: 6, bits: v6, prefix };
}

/** True when `address` lies in `range` (same family after mapping). */
export function inRange(address: ParsedAddress, range: ParsedRange): boolean {
  if (address.v !== range.v) return false;
  const width = address.v === 4 ? 32n : 128n;
  const shift = width - BigInt(range.prefix);
  return address.bits >> shift === range.bits >> shift;
}

/** True when the address text lies in any of the CIDR texts; false for anything that does not parse. */
export function matchesAny(address: string, cidrs: readonly string[]): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  for (const cidr of cidrs) {
    const range = parseCidr(cidr);
    if (range && inRange(parsed, range)) return true;
  }
  return false;
}

/**
 * The site whose networks hold `address`: the one with the longest matching prefix (a centre's
 * /28 inside the HQ's /16 is the centre), ties by site id. Undefined when none matches.
 */
export function siteOfAddress(address: string, sites: readonly Site[]): Site | undefined {
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  let best: { site: Site; prefix: number } | undefined;
  for (const site of sites)
    for (const cidr of site.networks) {
      const range = parseCidr(cidr);
      if (!range || !inRange(parsed, range)) continue;
      if (!best || range.prefix > best.prefix || (range.prefix === best.prefix && site.id < best.site.id))
        best = { site, prefix: range.prefix };
    }
  return best?.site;
}
