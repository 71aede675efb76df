import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { makeDirs } from './storage/DataDir.ts';
import { describeFsError } from './storage/storageErrors.ts';

/**
 * Environment → typed configuration. Every variable moim reads is one row of `CONFIG_VARS`
 * (which also generates the README's configuration table). `loadConfig` is called once, by the
 * process entry point; a bad value throws a ConfigError naming the variable.
 */

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

interface VarDef<T> {
  env: string;
  doc: string;
  /** Default shown in the README. */
  defaultText: string;
  parse: (raw: string | undefined, name: string) => T;
}

function int(opts: { min: number; max: number; default: number }) {
  return (raw: string | undefined, name: string): number => {
    if (raw === undefined || raw === '') return opts.default;
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
    const n = Number(raw);
    if (n < opts.min || n > opts.max)
      throw new ConfigError(name, `must be between ${opts.min} and ${opts.max}, got ${n}`);
    return n;
  };
}

function str(opts: { default: string; pattern?: RegExp; hint?: string }) {
  return (raw: string | undefined, name: string): string => {
    if (raw === undefined || raw === '') return opts.default;
    if (opts.pattern && !opts.pattern.test(raw))
      throw new ConfigError(name, opts.hint ?? `invalid value ${JSON.stringify(raw)}`);
    return raw;
  };
}

function optionalStr(opts: { pattern?: RegExp; hint?: string } = {}) {
  return (raw: string | undefined, name: string): string | undefined => {
    if (raw === undefined || raw === '') return undefined;
    if (opts.pattern && !opts.pattern.test(raw))
      throw new ConfigError(name, opts.hint ?? `invalid value ${JSON.stringify(raw)}`);
    return raw;
  };
}

function oneOf<const T extends string>(values: readonly T[], def: T) {
  return (raw: string | undefined, name: string): T => {
    if (raw === undefined || raw === '') return def;
    if (!(values as readonly string[]).includes(raw))
      throw new ConfigError(name, `must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    return raw as T;
  };
}

function bool(def: boolean) {
  return (raw: string | undefined, name: string): boolean => {
    if (raw === undefined || raw === '') return def;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(name, `expected true or false, got ${JSON.stringify(raw)}`);
  };
}

function json<T>(def: T, check: (v: unknown) => T) {
  return (raw: string | undefined, name: string): T => {
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
  };
}

export interface PublicKeyDef {
  alg: 'RS256' | 'ES256';
  key: string;
}

function publicKeys(value: unknown): Record<string, PublicKeyDef> {
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

function listenAddresses(value: unknown): ListenAddress[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 8)
    throw new Error('expected 1 to 8 entries like [{"ip":"0.0.0.0","announcedAddress":"203.0.113.5"}]');
  return value.map((v, i) => {
    const e = v as Partial<ListenAddress>;
    if (typeof e.ip !== 'string' || (e.announcedAddress !== undefined && typeof e.announcedAddress !== 'string'))
      throw new Error(`entry ${i}: expected {"ip": string, "announcedAddress"?: string}`);
    return e.announcedAddress ? { ip: e.ip, announcedAddress: e.announcedAddress } : { ip: e.ip };
  });
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Error('expected a JSON array of strings');
  return value as string[];
}

/** A comma-separated list of IP addresses or CIDR ranges (`10.0.0.0/8`, `::1`), checked with net.BlockList. */
function cidrList() {
  return (raw: string | undefined, name: string): string[] => {
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
  };
}

const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Every environment variable moim reads. Order = order in the README table. */
export const CONFIG_VARS = {
  env: {
    env: 'MOIM_ENV',
    doc: '`development`, `production` or `test`. Production refuses dev sign-in and requires real keys.',
    defaultText: 'development',
    parse: oneOf(['development', 'production', 'test'] as const, 'development'),
  },
  host: {
    env: 'HOST',
    doc: 'Address the HTTP/socket.io port binds to.',
    defaultText: '0.0.0.0',
    parse: str({ default: '0.0.0.0' }),
  },
  port: {
    env: 'PORT',
    doc: 'HTTP port (health, metrics, REST, socket.io, `/yjs`, web app). `0` picks a free port; the printed URL says which.',
    defaultText: '3000',
    parse: int({ min: 0, max: 65535, default: 3000 }),
  },
  publicUrl: {
    env: 'MOIM_PUBLIC_URL',
    doc: 'URL clients use to reach this node (printed at start, used for links).',
    defaultText: 'http://localhost:PORT',
    parse: optionalStr({ pattern: URL_RE, hint: 'expected an absolute URL' }),
  },
  nodeId: {
    env: 'MOIM_NODE_ID',
    doc: 'Name of this node in a cluster (logs, metrics, room placement).',
    defaultText: 'hostname-pid',
    parse: optionalStr({ pattern: /^[\w.-]{1,64}$/, hint: 'letters, digits, . _ - (max 64)' }),
  },
  dataDir: {
    env: 'MOIM_DATA_DIR',
    doc: 'Folder for the SQLite database, attachments and the generated development secret. One moim per folder: a second one on the same folder refuses to start (`moim.lock`, which a killed server cannot leave stuck).',
    defaultText: './data',
    parse: str({ default: './data' }),
  },
  dataMinFreeBytes: {
    env: 'MOIM_DATA_MIN_FREE_BYTES',
    doc: 'Free-space floor of the data disk: below it `/readyz` reports `diskSpace: false` and attachment uploads are refused with `STORAGE_FULL` (507), keeping room for chat, documents and the database. 0: only a really full disk refuses.',
    defaultText: '268435456',
    parse: int({ min: 0, max: 2 ** 50, default: 256 * 1024 * 1024 }),
  },
  logLevel: {
    env: 'MOIM_LOG_LEVEL',
    doc: 'pino level: `fatal` … `trace`, or `silent`.',
    defaultText: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  },
  webRoot: {
    env: 'MOIM_WEB_ROOT',
    doc: 'Folder of the built web app served at `/`.',
    defaultText: 'web-demo/dist',
    parse: str({ default: 'web-demo/dist' }),
  },
  metricsToken: {
    env: 'MOIM_METRICS_TOKEN',
    doc: 'Bearer token `/metrics` requires (`Authorization: Bearer …`, 16–512 visible characters), from any address. Unset: in production `/metrics` answers only direct loopback connections (a scraper on the same host; never through a proxy), elsewhere anyone.',
    defaultText: '(none)',
    parse: optionalStr({ pattern: /^[\x21-\x7e]{16,512}$/, hint: 'expected 16 to 512 visible ASCII characters' }),
  },

  jwtSecret: {
    env: 'MOIM_JWT_SECRET',
    doc: 'HS256 secret (≥ 32 bytes). In development a random one is generated once into the data folder; production requires it or public keys.',
    defaultText: 'generated (dev)',
    parse: optionalStr(),
  },
  jwtSecretKid: {
    env: 'MOIM_JWT_SECRET_KID',
    doc: 'Key id (`kid`) of the HS256 secret; tokens without a `kid` use it too.',
    defaultText: 'hs-1',
    parse: str({ default: 'hs-1', pattern: /^[\w.-]{1,64}$/ }),
  },
  jwtPublicKeys: {
    env: 'MOIM_JWT_PUBLIC_KEYS',
    doc: 'RS256/ES256 verification keys by `kid`: `{"k1":{"alg":"RS256","key":"-----BEGIN PUBLIC KEY-----…"}}`. Several kids allow rotation.',
    defaultText: '{}',
    parse: json<Record<string, PublicKeyDef>>({}, publicKeys),
  },
  jwtAudience: {
    env: 'MOIM_JWT_AUDIENCE',
    doc: 'Required `aud` of every token.',
    defaultText: 'moim',
    parse: str({ default: 'moim' }),
  },
  jwtIssuer: {
    env: 'MOIM_JWT_ISSUER',
    doc: 'Required `iss` (unset: not checked). Dev tokens use `moim-dev`.',
    defaultText: '(unchecked)',
    parse: optionalStr(),
  },
  devTokens: {
    env: 'MOIM_DEV_TOKENS',
    doc: 'Enable `POST /auth/dev-token` (development sign-in). Always off when `MOIM_ENV=production`.',
    defaultText: 'true',
    parse: bool(true),
  },
  devTokenTtlS: {
    env: 'MOIM_DEV_TOKEN_TTL_S',
    doc: 'Lifetime of dev tokens (seconds).',
    defaultText: '43200',
    parse: int({ min: 10, max: 7 * 86400, default: 12 * 3600 }),
  },

  maxHttpBufferSize: {
    env: 'MOIM_MAX_MESSAGE_BYTES',
    doc: 'Largest socket.io message (socket.io `maxHttpBufferSize`).',
    defaultText: '1000000',
    parse: int({ min: 1024, max: 64 * 1024 * 1024, default: 1_000_000 }),
  },
  maxBodyBytes: {
    env: 'MOIM_MAX_BODY_BYTES',
    doc: 'Largest JSON HTTP request body.',
    defaultText: '262144',
    parse: int({ min: 1024, max: 16 * 1024 * 1024, default: 256 * 1024 }),
  },
  rateLimitPerSec: {
    env: 'MOIM_RATE_LIMIT_PER_SEC',
    doc: 'Sustained socket events per second per connection (token bucket).',
    defaultText: '50',
    parse: int({ min: 1, max: 100_000, default: 50 }),
  },
  rateLimitBurst: {
    env: 'MOIM_RATE_LIMIT_BURST',
    doc: 'Token-bucket burst per connection.',
    defaultText: '200',
    parse: int({ min: 1, max: 1_000_000, default: 200 }),
  },
  personRateLimitPerSec: {
    env: 'MOIM_RATE_LIMIT_PERSON_PER_SEC',
    doc: 'Sustained socket events per second per person, shared by all their connections (token bucket, on top of the per-connection one). 0: twice `MOIM_RATE_LIMIT_PER_SEC`.',
    defaultText: '0 (100 with the default per-connection rate)',
    parse: int({ min: 0, max: 1_000_000, default: 0 }),
  },
  personRateLimitBurst: {
    env: 'MOIM_RATE_LIMIT_PERSON_BURST',
    doc: 'Token-bucket burst per person across their connections. 0: twice `MOIM_RATE_LIMIT_BURST`.',
    defaultText: '0 (400 with the default per-connection burst)',
    parse: int({ min: 0, max: 10_000_000, default: 0 }),
  },
  maxConnectionsPerPerson: {
    env: 'MOIM_MAX_CONNECTIONS_PER_PERSON',
    doc: 'Simultaneous socket.io connections of one person (tabs and devices); more are refused at the handshake with `TOO_MANY_CONNECTIONS`.',
    defaultText: '20',
    parse: int({ min: 1, max: 100_000, default: 20 }),
  },
  trustedProxies: {
    env: 'MOIM_TRUSTED_PROXIES',
    doc: 'Comma-separated addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed (per-address limits then apply to the client behind them). Empty: none.',
    defaultText: '(none)',
    parse: cidrList(),
  },
  maxSocketsPerAddress: {
    env: 'MOIM_MAX_SOCKETS_PER_ADDRESS',
    doc: 'Open TCP connections (HTTP, socket.io, /yjs) from one client address; more are closed at once. Behind a trusted proxy, open WebSockets per forwarded address.',
    defaultText: '256',
    parse: int({ min: 1, max: 1_000_000, default: 256 }),
  },
  shutdownTimeoutMs: {
    env: 'MOIM_SHUTDOWN_TIMEOUT_MS',
    doc: 'Graceful shutdown deadline before a forced exit.',
    defaultText: '10000',
    parse: int({ min: 100, max: 120_000, default: 10_000 }),
  },

  databaseUrl: {
    env: 'DATABASE_URL',
    doc: 'PostgreSQL URL (cluster mode, not built yet: a set value stops the node with a message). Unset: embedded SQLite in the data folder.',
    defaultText: '(SQLite)',
    parse: optionalStr({ pattern: /^postgres(ql)?:\/\//, hint: 'expected postgres://…' }),
  },
  redisUrl: {
    env: 'REDIS_URL',
    doc: 'Redis URL (cluster mode, not built yet: a set value stops the node with a message). Unset: single node.',
    defaultText: '(none)',
    parse: optionalStr({ pattern: /^rediss?:\/\//, hint: 'expected redis://…' }),
  },
  redisPrefix: {
    env: 'MOIM_REDIS_PREFIX',
    doc: 'Prefix of every Redis key and channel.',
    defaultText: 'moim:',
    parse: str({ default: 'moim:' }),
  },

  sfuWorkers: {
    env: 'MOIM_SFU_WORKERS',
    doc: 'mediasoup workers (one per core).',
    defaultText: 'number of cores',
    parse: int({ min: 0, max: 256, default: 0 }),
  },
  rtcListen: {
    env: 'MOIM_RTC_LISTEN',
    doc: 'WebRTC listen/announced address pairs, JSON: `[{"ip":"10.0.0.5"},{"ip":"0.0.0.0","announcedAddress":"203.0.113.5"}]` (intranet and internet sides).',
    defaultText: '[{"ip":"127.0.0.1"}]',
    parse: json<ListenAddress[]>([{ ip: '127.0.0.1' }], listenAddresses),
  },
  rtcPort: {
    env: 'MOIM_RTC_PORT',
    doc: 'First UDP/TCP port of the per-worker WebRtcServers (worker i uses port + i). `0` = any free port.',
    defaultText: '40000',
    parse: int({ min: 0, max: 65535, default: 40000 }),
  },
  peerGraceMs: {
    env: 'MOIM_PEER_GRACE_MS',
    doc: 'How long a media peer whose socket dropped is kept for a reconnect.',
    defaultText: '15000',
    parse: int({ min: 0, max: 600_000, default: 15_000 }),
  },
  consumersPerRouter: {
    env: 'MOIM_SFU_CONSUMERS_PER_ROUTER',
    doc: 'Consumers one router serves before a room spreads onto routers on other workers (pipeToRouter). Default from `npm run bench:sfu`: with SRTP (as WebRTC clients get it) one worker used 87 % of a core at 400 consumers and saturated at 500.',
    defaultText: '400',
    parse: int({ min: 1, max: 100_000, default: 400 }),
  },
  turnUrls: {
    env: 'MOIM_TURN_URLS',
    doc: 'TURN server URLs handed to clients, JSON array (e.g. `["turns:turn.example.org:443?transport=tcp"]`).',
    defaultText: '[]',
    parse: json<string[]>([], stringList),
  },
  turnSecret: {
    env: 'MOIM_TURN_SECRET',
    doc: 'Shared secret for TURN REST credentials (coturn `static-auth-secret`).',
    defaultText: '(none)',
    parse: optionalStr(),
  },
  turnTtlS: {
    env: 'MOIM_TURN_TTL_S',
    doc: 'Lifetime of TURN credentials.',
    defaultText: '3600',
    parse: int({ min: 60, max: 86400, default: 3600 }),
  },
  sfuAllowPlain: {
    env: 'MOIM_SFU_ALLOW_PLAIN',
    doc: 'Allow plain-RTP transports (`media:createTransport` with `kind: "plain"`, no encryption) for tests and benchmarks. Keep off in production.',
    defaultText: 'false',
    parse: bool(false),
  },
  sfuLogLevel: {
    env: 'MOIM_SFU_LOG_LEVEL',
    doc: 'mediasoup worker log level (`debug`, `warn`, `error`, `none`); its lines go to the server log.',
    defaultText: 'warn',
    parse: oneOf(['debug', 'warn', 'error', 'none'] as const, 'warn'),
  },

  awayAfterMs: {
    env: 'MOIM_AWAY_AFTER_MS',
    doc: 'A person is `away` when every device has been idle this long.',
    defaultText: '300000',
    parse: int({ min: 1000, max: 86_400_000, default: 300_000 }),
  },
  heartbeatTimeoutMs: {
    env: 'MOIM_HEARTBEAT_TIMEOUT_MS',
    doc: 'A device that sends nothing for this long is dropped (socket.io ping interval + timeout).',
    defaultText: '15000',
    parse: int({ min: 1000, max: 600_000, default: 15_000 }),
  },

  chatMaxMessageChars: {
    env: 'MOIM_CHAT_MAX_MESSAGE_CHARS',
    doc: 'Longest chat message (characters).',
    defaultText: '8000',
    parse: int({ min: 1, max: 1_000_000, default: 8000 }),
  },
  chatMessagesPerSec: {
    env: 'MOIM_CHAT_MESSAGES_PER_SEC',
    doc: 'Messages per person per second (burst of 3×).',
    defaultText: '10',
    parse: int({ min: 1, max: 100_000, default: 10 }),
  },
  chatMaxMembers: {
    env: 'MOIM_CHAT_MAX_MEMBERS',
    doc: 'Members per channel.',
    defaultText: '5000',
    parse: int({ min: 2, max: 1_000_000, default: 5000 }),
  },
  chatCommitIntervalMs: {
    env: 'MOIM_CHAT_COMMIT_INTERVAL_MS',
    doc: 'Under load, chat commits (one fsync each) start at most this often: bigger batches, less CPU per message, up to this much more latency. 0: commit as soon as the previous one is done.',
    defaultText: '3',
    parse: int({ min: 0, max: 50, default: 3 }),
  },
  attachmentMaxBytes: {
    env: 'MOIM_ATTACHMENT_MAX_BYTES',
    doc: 'Largest attachment.',
    defaultText: '26214400',
    parse: int({ min: 1, max: 2 ** 31, default: 25 * 1024 * 1024 }),
  },
  attachmentTypes: {
    env: 'MOIM_ATTACHMENT_TYPES',
    doc: 'Allowed attachment MIME types (JSON array; `type/*` wildcards).',
    defaultText: 'images, pdf, text, office',
    parse: json<string[]>(
      [
        'image/*',
        'application/pdf',
        'text/plain',
        'text/csv',
        'application/vnd.openxmlformats-officedocument.*',
        'application/zip',
      ],
      stringList,
    ),
  },
  attachmentLinkTtlS: {
    env: 'MOIM_ATTACHMENT_LINK_TTL_S',
    doc: 'Lifetime of attachment download links.',
    defaultText: '300',
    parse: int({ min: 5, max: 86400, default: 300 }),
  },
  attachmentQuotaBytes: {
    env: 'MOIM_ATTACHMENT_QUOTA_BYTES',
    doc: 'Bytes of attachments one person may have stored in all; an upload past it is refused with `QUOTA_EXCEEDED` (nothing of it is kept).',
    defaultText: '1073741824',
    parse: int({ min: 1, max: 2 ** 50, default: 1024 * 1024 * 1024 }),
  },
  attachmentUploadsPerMin: {
    env: 'MOIM_ATTACHMENT_UPLOADS_PER_MIN',
    doc: 'Attachment uploads one person may start per minute (also the burst); more get `RATE_LIMITED`.',
    defaultText: '30',
    parse: int({ min: 1, max: 100_000, default: 30 }),
  },

  docMaxUpdateBytes: {
    env: 'MOIM_DOC_MAX_UPDATE_BYTES',
    doc: 'Largest single Yjs message.',
    defaultText: '1048576',
    parse: int({ min: 1024, max: 64 * 1024 * 1024, default: 1024 * 1024 }),
  },
  docMaxBytes: {
    env: 'MOIM_DOC_MAX_BYTES',
    doc: 'Largest stored document state.',
    defaultText: '33554432',
    parse: int({ min: 1024, max: 2 ** 31, default: 32 * 1024 * 1024 }),
  },
  docMaxOpenPerPerson: {
    env: 'MOIM_DOC_MAX_OPEN_PER_PERSON',
    doc: 'Documents one person may have open at once.',
    defaultText: '20',
    parse: int({ min: 1, max: 10_000, default: 20 }),
  },
  docCompactEvery: {
    env: 'MOIM_DOC_COMPACT_EVERY',
    doc: 'Merge a document’s appended updates after this many.',
    defaultText: '500',
    parse: int({ min: 2, max: 1_000_000, default: 500 }),
  },
  docVersionIntervalMs: {
    env: 'MOIM_DOC_VERSION_INTERVAL_MS',
    doc: 'Automatic named version at most this often while a document changes (0: off).',
    defaultText: '600000',
    parse: int({ min: 0, max: 86_400_000, default: 600_000 }),
  },
  docAwarenessFlushMs: {
    env: 'MOIM_DOC_AWARENESS_FLUSH_MS',
    doc: 'Awareness (cursor) changes of a document go out as one merged message at most this late (0: next event-loop turn).',
    defaultText: '0',
    parse: int({ min: 0, max: 1000, default: 0 }),
  },
  docAwarenessRenewalMs: {
    env: 'MOIM_DOC_AWARENESS_RENEWAL_MS',
    doc: 'Unchanged awareness renewals (every 15 s per client) of a document are merged over at most this long (0: like changes).',
    defaultText: '2000',
    parse: int({ min: 0, max: 5000, default: 2000 }),
  },
  docAwarenessMaxBytes: {
    env: 'MOIM_DOC_AWARENESS_MAX_BYTES',
    doc: 'Largest awareness state (one client’s cursor, name, colour) in bytes of JSON; a larger one closes its `/yjs` connection with 4413.',
    defaultText: '8192',
    parse: int({ min: 256, max: 1024 * 1024, default: 8192 }),
  },
  docAwarenessMaxClients: {
    env: 'MOIM_DOC_AWARENESS_MAX_CLIENTS',
    doc: 'Awareness client ids one `/yjs` connection may introduce (a stock provider uses one; a read-only connection gets exactly one); others’ ids are never writable.',
    defaultText: '4',
    parse: int({ min: 1, max: 100, default: 4 }),
  },
  docMaxPendingUpdates: {
    env: 'MOIM_DOC_MAX_PENDING_UPDATES',
    doc: 'Yjs updates with missing dependencies a `/yjs` connection may send in a row (each refused and answered with sync step 1) before it is closed with 4400.',
    defaultText: '8',
    parse: int({ min: 1, max: 10_000, default: 8 }),
  },
  docMaxConnectionsPerPerson: {
    env: 'MOIM_DOC_MAX_CONNECTIONS_PER_PERSON',
    doc: '`/yjs` connections one person may have open at once, over all documents; more are closed with 4429 `TOO_MANY_CONNECTIONS`.',
    defaultText: '100',
    parse: int({ min: 1, max: 100_000, default: 100 }),
  },
} satisfies Record<string, VarDef<unknown>>;

type Vars = typeof CONFIG_VARS;
type Parsed = { [K in keyof Vars]: ReturnType<Vars[K]['parse']> };

export interface Config extends Omit<Parsed, 'jwtSecret' | 'sfuWorkers' | 'nodeId'> {
  jwtSecret: string | undefined;
  sfuWorkers: number;
  nodeId: string;
  /** True when dev sign-in is served. */
  devTokensEnabled: boolean;
}

const WEAK_SECRET_BYTES = 32;

/**
 * Parse the environment. Throws ConfigError naming the first bad variable.
 * In development with no secret, one is generated once and kept in `<dataDir>/dev-secret`.
 */
export function loadConfig(env: Env, opts: { cpus?: number } = {}): Config {
  const parsed = {} as Record<string, unknown>;
  for (const [key, def] of Object.entries(CONFIG_VARS) as [string, VarDef<unknown>][]) {
    parsed[key] = def.parse(env[def.env], def.env);
  }
  const p = parsed as Parsed;
  const production = p.env === 'production';
  let jwtSecret = p.jwtSecret;
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < WEAK_SECRET_BYTES) {
    if (production)
      throw new ConfigError('MOIM_JWT_SECRET', `too weak: at least ${WEAK_SECRET_BYTES} bytes are required`);
  }
  const weakness = jwtSecret === undefined ? undefined : secretWeakness(jwtSecret);
  if (production && weakness !== undefined)
    throw new ConfigError('MOIM_JWT_SECRET', `too weak: ${weakness}; generate one with: openssl rand -base64 48`);
  if (production) {
    if (jwtSecret === undefined && Object.keys(p.jwtPublicKeys).length === 0) {
      throw new ConfigError('MOIM_JWT_SECRET', 'production needs MOIM_JWT_SECRET (≥ 32 bytes) or MOIM_JWT_PUBLIC_KEYS');
    }
  } else if (jwtSecret === undefined) {
    jwtSecret = devSecret(p.dataDir);
  }
  return {
    ...p,
    jwtSecret,
    sfuWorkers: p.sfuWorkers || (opts.cpus ?? 1),
    nodeId: p.nodeId ?? `${hostname()}-${process.pid}`,
    devTokensEnabled: p.devTokens && !production,
  };
}

function devSecret(dataDir: string): string {
  const file = path.resolve(dataDir, 'dev-secret');
  try {
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    makeDirs(dataDir);
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return secret;
  } catch (err) {
    // a missing, read-only or unwritable data folder: one line naming the file and the reason
    throw new ConfigError('MOIM_DATA_DIR', `cannot keep the development secret ${file}: ${describeFsError(err)}`);
  }
}

/** Names people put in secrets by hand; a secret made only of these (and repeats) is guessable. */
const WELL_KNOWN_SECRET_WORDS = [
  'secret',
  'changeme',
  'change',
  'password',
  'passw0rd',
  'passwd',
  'example',
  'default',
  'placeholder',
  'qwerty',
  'letmein',
  'admin',
  'token',
  'moim',
  'test',
  'jwt',
  'key',
  'your',
  'here',
  'production',
  'prod',
  'development',
];

/**
 * Why a JWT secret is guessable, or undefined when it looks random enough: one character
 * repeated; nothing much left once well-known words (`secret`, `changeme`, …), sequences (`abc`,
 * `123`, `987`) and repeats are taken out; or little variety (few distinct characters, low Shannon
 * entropy per character — random base64 has ~5 bits, hex ~3.7 (a 32-digit one rarely below 2.9),
 * English words ~4, a short word repeated ~2.5).
 */
export function secretWeakness(secret: string): string | undefined {
  const chars = [...secret];
  if (chars.length === 0 || chars.every((c) => c === chars[0])) return 'it is one character repeated';
  let residue = secret.toLowerCase();
  for (const word of WELL_KNOWN_SECRET_WORDS) residue = residue.replaceAll(word, '');
  if (withoutRuns([...residue]).length < 16)
    return 'it is made of well-known words (like "secret", "changeme"), sequences (like "1234") or repeats';
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / chars.length) * Math.log2(n / chars.length);
  if (counts.size < 8 || bits < 2.75)
    return `it has too little variety (${counts.size} distinct characters, ${bits.toFixed(1)} bits of entropy per character)`;
  return undefined;
}

/** `chars` without runs of 3 or more equal or consecutive characters (`aaa`, `abc`, `321`). */
function withoutRuns(chars: string[]): string[] {
  const code = (i: number) => chars[i]!.codePointAt(0)!;
  const drop = new Array<boolean>(chars.length).fill(false);
  let i = 0;
  while (i < chars.length - 1) {
    const step = code(i + 1) - code(i);
    let j = i + 1;
    if (Math.abs(step) <= 1) while (j + 1 < chars.length && code(j + 1) - code(j) === step) j++;
    if (j - i + 1 >= 3) {
      for (let k = i; k <= j; k++) drop[k] = true;
      i = j + 1;
    } else i++;
  }
  return chars.filter((_, k) => !drop[k]);
}

/**
 * Settings that are allowed but risky: the entry point logs each as a warning at start.
 * (Refusing them would break test and benchmark set-ups that use them on purpose.)
 */
export function configWarnings(c: Config): string[] {
  const warnings: string[] = [];
  if (c.env === 'production' && c.sfuAllowPlain)
    warnings.push(
      'MOIM_SFU_ALLOW_PLAIN is on in production: anyone with a room grant may create unencrypted plain-RTP transports; turn it off unless this node runs tests or benchmarks',
    );
  return warnings;
}

/** The README configuration table, generated from CONFIG_VARS. */
export function configTableMarkdown(): string {
  const rows = Object.values(CONFIG_VARS).map(
    (d) => `| \`${d.env}\` | ${d.defaultText.includes('`') ? d.defaultText : `\`${d.defaultText}\``} | ${d.doc} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
