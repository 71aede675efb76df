import { isIP } from 'node:net';

/**
 * The value parsers of configuration variables. Each parser carries `defaultText`, the default as
 * the README shows it, derived from the same default it returns.
 */

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Parses a variable's raw value (undefined or '' → the default); `defaultText` is that default for the README. */
export type Parser<T> = ((raw: string | undefined, name: string) => T) & { readonly defaultText: string };

export interface VarDef<T> {
  env: string;
  doc: string;
  /** Default shown in the README, when the parser's own (`parse.defaultText`) does not say it. */
  defaultText?: string;
  parse: Parser<T>;
}

const withDefault = <T>(fn: (raw: string | undefined, name: string) => T, defaultText: string): Parser<T> =>
  Object.assign(fn, { defaultText });

export function int(opts: { min: number; max: number; default: number }) {
  return withDefault((raw: string | undefined, name: string): number => {
    if (raw === undefined || raw === '') return opts.default;
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
    const n = Number(raw);
    if (n < opts.min || n > opts.max)
      throw new ConfigError(name, `must be between ${opts.min} and ${opts.max}, got ${n}`);
    return n;
  }, String(opts.default));
}

/** An integer that may be left unset (undefined), so the caller can tell an explicit value from none. */
export function optionalInt(opts: { min: number; max: number }) {
  return withDefault((raw: string | undefined, name: string): number | undefined => {
    if (raw === undefined || raw === '') return undefined;
    return int({ ...opts, default: 0 })(raw, name);
  }, '(none)');
}

export function str(opts: { default: string; pattern?: RegExp; hint?: string }) {
  return withDefault((raw: string | undefined, name: string): string => {
    if (raw === undefined || raw === '') return opts.default;
    if (opts.pattern && !opts.pattern.test(raw))
      throw new ConfigError(name, opts.hint ?? `invalid value ${JSON.stringify(raw)}`);
    return raw;
  }, opts.default);
}

export function optionalStr(opts: { pattern?: RegExp; hint?: string } = {}) {
  return withDefault((raw: string | undefined, name: string): string | undefined => {
    if (raw === undefined || raw === '') return undefined;
    if (opts.pattern && !opts.pattern.test(raw))
      throw new ConfigError(name, opts.hint ?? `invalid value ${JSON.stringify(raw)}`);
    return raw;
  }, '(none)');
}

export function oneOf<const T extends string>(values: readonly T[], def: T) {
  return withDefault((raw: string | undefined, name: string): T => {
    if (raw === undefined || raw === '') return def;
    if (!(values as readonly string[]).includes(raw))
      throw new ConfigError(name, `must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    return raw as T;
  }, def);
}

export function bool(def: boolean) {
  return withDefault((raw: string | undefined, name: string): boolean => {
    if (raw === undefined || raw === '') return def;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(name, `expected true or false, got ${JSON.stringify(raw)}`);
  }, String(def));
}

export function json<T>(def: T, check: (v: unknown) => T) {
  return withDefault((raw: string | undefined, name: string): T => {
    if (raw === undefined || raw === '') return def;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError(name, 'is not valid JSON');
    }
    try {
      return check(value);
    } catch (err) {
      throw new ConfigError(name, (err as Error).message);
    }
  }, JSON.stringify(def));
}

export interface PublicKeyDef {
  alg: 'RS256' | 'ES256';
  key: string;
}

export function publicKeys(value: unknown): Record<string, PublicKeyDef> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('expected {"<kid>": {"alg": "RS256"|"ES256", "key": "<PEM>"}}');
  const out: Record<string, PublicKeyDef> = {};
  for (const [kid, def] of Object.entries(value)) {
    const d = def as Partial<PublicKeyDef>;
    if ((d.alg !== 'RS256' && d.alg !== 'ES256') || typeof d.key !== 'string' || !d.key.includes('BEGIN')) {
      throw new Error(`key ${kid}: expected {"alg": "RS256"|"ES256", "key": "<PEM public key>"}`);
    }
    out[kid] = { alg: d.alg, key: d.key };
  }
  return out;
}

export interface ListenAddress {
  ip: string;
  announcedAddress?: string;
}

export function listenAddresses(value: unknown): ListenAddress[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 8)
    throw new Error('expected 1 to 8 entries like [{"ip":"0.0.0.0","announcedAddress":"203.0.113.5"}]');
  return value.map((v, i) => {
    const e = v as Partial<ListenAddress>;
    if (typeof e.ip !== 'string' || (e.announcedAddress !== undefined && typeof e.announcedAddress !== 'string'))
      throw new Error(`entry ${i}: expected {"ip": string, "announcedAddress"?: string}`);
    return e.announcedAddress ? { ip: e.ip, announcedAddress: e.announcedAddress } : { ip: e.ip };
  });
}

export function stringList(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Error('expected a JSON array of strings');
  return value as string[];
}

/** A comma-separated list of IP addresses or CIDR ranges (`10.0.0.0/8`, `::1`), checked with net.BlockList. */
export function cidrList() {
  return withDefault((raw: string | undefined, name: string): string[] => {
    if (raw === undefined || raw.trim() === '') return [];
    const out: string[] = [];
    const items = raw
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const item of items) {
      const [ip, prefix] = item.split('/');
      const family = isIP(ip ?? '');
      const max = family === 4 ? 32 : 128;
      if (family === 0 || (prefix !== undefined && (!/^\d+$/.test(prefix) || Number(prefix) > max)))
        throw new ConfigError(name, `not an address or CIDR range: ${JSON.stringify(item)}`);
      out.push(item);
    }
    return out;
  }, '(none)');
}

export const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;
