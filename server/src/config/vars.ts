import { DEFAULT_RECORDING_POLICIES, type RecordingPolicy, recordingPoliciesSchema, type Tier } from '@moim/protocol';
import { originList } from './origins.ts';
import {
  bool,
  cidrList,
  int,
  json,
  type ListenAddress,
  listenAddresses,
  oneOf,
  optionalInt,
  optionalStr,
  type PublicKeyDef,
  publicKeys,
  str,
  stringList,
  URL_RE,
  type VarDef,
} from './parse.ts';
import { claimsMap, DEFAULT_CERT_CLAIMS_MAP, DEFAULT_CLAIMS_MAP } from './signIn.ts';

/**
 * Every environment variable moim reads. Order = order in the README table. A row names its
 * `defaultText` only when the README says more than the parser's default (`parse.defaultText`).
 */
export const CONFIG_VARS = {
  env: {
    env: 'MOIM_ENV',
    doc: '`development`, `production` or `test`. Production refuses dev sign-in and requires real keys.',
    parse: oneOf(['development', 'production', 'test'] as const, 'development'),
  },
  host: {
    env: 'HOST',
    doc: 'Address the HTTP/socket.io port binds to.',
    parse: str({ default: '0.0.0.0' }),
  },
  port: {
    env: 'PORT',
    doc: 'HTTP port (health, metrics, REST, socket.io, `/yjs`, web app). `0` picks a free port; the printed URL says which.',
    parse: int({ min: 0, max: 65535, default: 3000 }),
  },
  publicUrl: {
    env: 'MOIM_PUBLIC_URL',
    doc: 'URL clients use to reach this node (printed at start, used for links).',
    defaultText: 'http://localhost:PORT (http://HOST:PORT when HOST is an address localhost does not reach)',
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
    doc: 'Folder for the SQLite database, attachments, the generated development secret and the compile cache. One moim per folder: a second one on the same folder refuses to start (`moim.lock`, which a killed server cannot leave stuck).',
    parse: str({ default: './data' }),
  },
  compileCache: {
    env: 'MOIM_COMPILE_CACHE',
    doc: "V8's compile cache of moim's modules, written once the server is ready: a restart then compiles none of them again (start to ready 0.15–0.25 s sooner here, ~10 %; the TypeScript type stripping is not cached). `on`: in `<MOIM_DATA_DIR>/compile-cache`; a folder: there (several moims of one installation may share it); `off`: every module compiled at each start.",
    parse: str({ default: 'on' }),
  },
  dataMinFreeBytes: {
    env: 'MOIM_DATA_MIN_FREE_BYTES',
    doc: 'Free-space floor of the data disk: below it `/readyz` reports `diskSpace: false` and attachment uploads are refused with `STORAGE_FULL` (507), keeping room for chat, documents and the database. 0: only a really full disk refuses.',
    parse: int({ min: 0, max: 2 ** 50, default: 256 * 1024 * 1024 }),
  },
  logLevel: {
    env: 'MOIM_LOG_LEVEL',
    doc: 'pino level: `fatal` … `trace`, or `silent`.',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  },
  webRoot: {
    env: 'MOIM_WEB_ROOT',
    doc: 'Folder of the built web app served at `/`.',
    parse: str({ default: 'web-demo/dist' }),
  },
  metricsToken: {
    env: 'MOIM_METRICS_TOKEN',
    doc: 'Bearer token `/metrics` requires (`Authorization: Bearer …`, 16–512 visible characters), from any address. Unset: in production `/metrics` answers only direct loopback connections (a scraper on the same host; never through a proxy), elsewhere anyone.',
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
    parse: str({ default: 'hs-1', pattern: /^[\w.-]{1,64}$/ }),
  },
  jwtPublicKeys: {
    env: 'MOIM_JWT_PUBLIC_KEYS',
    doc: 'RS256/ES256 verification keys by `kid`: `{"k1":{"alg":"RS256","key":"-----BEGIN PUBLIC KEY-----…"}}`. Several kids allow rotation.',
    parse: json<Record<string, PublicKeyDef>>({}, publicKeys),
  },
  jwtAudience: {
    env: 'MOIM_JWT_AUDIENCE',
    doc: 'Required `aud` of every token.',
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
    parse: bool(true),
  },
  devTokenTtlS: {
    env: 'MOIM_DEV_TOKEN_TTL_S',
    doc: 'Lifetime of dev tokens (seconds).',
    parse: int({ min: 10, max: 7 * 86400, default: 12 * 3600 }),
  },

  maxHttpBufferSize: {
    env: 'MOIM_MAX_MESSAGE_BYTES',
    doc: 'Largest socket.io message (socket.io `maxHttpBufferSize`).',
    parse: int({ min: 1024, max: 64 * 1024 * 1024, default: 1_000_000 }),
  },
  maxBodyBytes: {
    env: 'MOIM_MAX_BODY_BYTES',
    doc: 'Largest JSON HTTP request body.',
    parse: int({ min: 1024, max: 16 * 1024 * 1024, default: 256 * 1024 }),
  },
  rateLimitPerSec: {
    env: 'MOIM_RATE_LIMIT_PER_SEC',
    doc: 'Sustained socket events per second per connection (token bucket).',
    parse: int({ min: 1, max: 100_000, default: 50 }),
  },
  rateLimitBurst: {
    env: 'MOIM_RATE_LIMIT_BURST',
    doc: 'Token-bucket burst per connection.',
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
    parse: int({ min: 1, max: 100_000, default: 20 }),
  },
  trustedProxies: {
    env: 'MOIM_TRUSTED_PROXIES',
    doc: 'Comma-separated addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed (per-address limits then apply to the client behind them). Empty: none.',
    parse: cidrList(),
  },
  maxSocketsPerAddress: {
    env: 'MOIM_MAX_SOCKETS_PER_ADDRESS',
    doc: 'Open TCP connections (HTTP, socket.io, /yjs) from one client address; more are closed at once. Behind a trusted proxy, open WebSockets per forwarded address.',
    parse: int({ min: 1, max: 1_000_000, default: 256 }),
  },
  shutdownTimeoutMs: {
    env: 'MOIM_SHUTDOWN_TIMEOUT_MS',
    doc: 'Graceful shutdown deadline before a forced exit.',
    parse: int({ min: 100, max: 120_000, default: 10_000 }),
  },

  databaseUrl: {
    env: 'DATABASE_URL',
    doc: 'PostgreSQL URL: every store (chat, documents, rooms, presence records, audit, attachments) in PostgreSQL, shared by the nodes of a cluster. Without REDIS_URL only one node may use the database (a second one refuses to start). Unset: embedded SQLite in the data folder.',
    defaultText: '(SQLite)',
    parse: optionalStr({ pattern: /^postgres(ql)?:\/\//, hint: 'expected postgres://…' }),
  },
  databaseSchema: {
    env: 'MOIM_DATABASE_SCHEMA',
    doc: 'PostgreSQL schema of moim’s tables (created when missing), so several deployments can share one database.',
    parse: str({ default: 'public', pattern: /^[a-z_][a-z0-9_]{0,62}$/, hint: 'a lower-case SQL identifier' }),
  },
  redisUrl: {
    env: 'REDIS_URL',
    doc: 'Redis URL (cluster mode, not built yet: a set value stops the node with a message). Unset: single node.',
    parse: optionalStr({ pattern: /^rediss?:\/\//, hint: 'expected redis://…' }),
  },

  redisPrefix: {
    env: 'MOIM_REDIS_PREFIX',
    doc: 'Prefix of every Redis key and channel.',
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
    parse: json<ListenAddress[]>([{ ip: '127.0.0.1' }], listenAddresses),
  },
  rtcPort: {
    env: 'MOIM_RTC_PORT',
    doc: 'First UDP/TCP port of the per-worker WebRtcServers (worker i uses port + i). `0` = any free port. A taken port stops start-up, except as MOIM_RTC_PORT_FALLBACK says (by default, unset outside production: any free ports, logged — a second moim on one machine).',
    defaultText: '40000',
    parse: optionalInt({ min: 0, max: 65535 }),
  },
  rtcPortFallback: {
    env: 'MOIM_RTC_PORT_FALLBACK',
    doc: 'When the WebRTC port is taken: `on` = listen on any free ports instead (logged, and announced in the ICE candidates), `off` = stop start-up (exit 2), `auto` = `on` when MOIM_RTC_PORT is unset outside production, else `off`. Production keeps fixed ports, which firewalls and TURN peers are set up for.',
    parse: oneOf(['auto', 'on', 'off'] as const, 'auto'),
  },
  roomIdleCloseS: {
    env: 'MOIM_ROOM_IDLE_CLOSE_S',
    doc: 'A video room left empty is closed after this many seconds (joining it then answers ROOM_CLOSED); a room nobody joined yet is not touched. `0` = never.',
    parse: int({ min: 0, max: 30 * 86400, default: 3600 }),
  },
  peerGraceMs: {
    env: 'MOIM_PEER_GRACE_MS',
    doc: 'How long a media peer whose socket dropped is kept for a reconnect.',
    parse: int({ min: 0, max: 600_000, default: 15_000 }),
  },
  consumersPerRouter: {
    env: 'MOIM_SFU_CONSUMERS_PER_ROUTER',
    doc: 'Consumers one router serves before a room spreads onto routers on other workers (pipeToRouter). Default from `npm run bench:sfu`: with SRTP (as WebRTC clients get it) one worker used 87 % of a core at 400 consumers and saturated at 500.',
    parse: int({ min: 1, max: 100_000, default: 400 }),
  },
  turnUrls: {
    env: 'MOIM_TURN_URLS',
    doc: 'TURN server URLs handed to clients, JSON array (e.g. `["turns:turn.example.org:443?transport=tcp"]`). `node scripts/turn-config.ts` writes coturn’s configuration from it (see Closed networks).',
    parse: json<string[]>([], stringList),
  },
  turnSecret: {
    env: 'MOIM_TURN_SECRET',
    doc: 'Shared secret for TURN REST credentials (coturn `static-auth-secret`).',
    parse: optionalStr(),
  },
  turnTtlS: {
    env: 'MOIM_TURN_TTL_S',
    doc: 'Lifetime of the TURN credentials minted per person with each join answer.',
    parse: int({ min: 60, max: 86400, default: 3600 }),
  },
  sfuAllowPlain: {
    env: 'MOIM_SFU_ALLOW_PLAIN',
    doc: 'Allow plain-RTP transports (`media:createTransport` with `kind: "plain"`, no encryption) for tests and benchmarks. Keep off in production.',
    parse: bool(false),
  },
  sfuLogLevel: {
    env: 'MOIM_SFU_LOG_LEVEL',
    doc: 'mediasoup worker log level (`debug`, `warn`, `error`, `none`); its lines go to the server log.',
    parse: oneOf(['debug', 'warn', 'error', 'none'] as const, 'warn'),
  },

  awayAfterMs: {
    env: 'MOIM_AWAY_AFTER_MS',
    doc: 'A person is `away` when every device has been idle this long.',
    parse: int({ min: 1000, max: 86_400_000, default: 300_000 }),
  },
  presenceGraceMs: {
    env: 'MOIM_PRESENCE_GRACE_MS',
    doc: 'A device whose connection closed under it (a network change, a proxy) still counts in presence for this long, so a reconnect within it shows no flicker to offline. A client that disconnects itself, or a device dropped by the heartbeat (`MOIM_HEARTBEAT_TIMEOUT_MS`), leaves at once. `0` = at once.',
    parse: int({ min: 0, max: 600_000, default: 10_000 }),
  },
  heartbeatTimeoutMs: {
    env: 'MOIM_HEARTBEAT_TIMEOUT_MS',
    doc: 'A device that sends nothing for this long is dropped (socket.io ping interval + timeout).',
    parse: int({ min: 1000, max: 600_000, default: 15_000 }),
  },

  chatMaxMessageChars: {
    env: 'MOIM_CHAT_MAX_MESSAGE_CHARS',
    doc: 'Longest chat message (characters).',
    parse: int({ min: 1, max: 1_000_000, default: 8000 }),
  },
  chatMessagesPerSec: {
    env: 'MOIM_CHAT_MESSAGES_PER_SEC',
    doc: 'Messages per person per second (burst of 3×).',
    parse: int({ min: 1, max: 100_000, default: 10 }),
  },
  chatMaxMembers: {
    env: 'MOIM_CHAT_MAX_MEMBERS',
    doc: 'Members per channel.',
    parse: int({ min: 2, max: 1_000_000, default: 5000 }),
  },
  chatCommitIntervalMs: {
    env: 'MOIM_CHAT_COMMIT_INTERVAL_MS',
    doc: 'Under load, chat commits (one fsync each) start at most this often: bigger batches, less CPU per message, up to this much more latency. 0: commit as soon as the previous one is done.',
    parse: int({ min: 0, max: 50, default: 3 }),
  },
  sqliteWriteThreads: {
    env: 'MOIM_SQLITE_WRITE_THREADS',
    doc: 'Single node (SQLite): commit chat messages and document updates on threads of their own (`true`), or on the event loop (`false`: no hop between threads, for a fast local disk; each commit then holds up every connection of the process until its fsync returned). Either way nothing is broadcast or acknowledged before it is committed.',
    parse: bool(true),
  },
  attachmentMaxBytes: {
    env: 'MOIM_ATTACHMENT_MAX_BYTES',
    doc: 'Largest attachment.',
    parse: int({ min: 1, max: 2 ** 31, default: 25 * 1024 * 1024 }),
  },
  attachmentTypes: {
    env: 'MOIM_ATTACHMENT_TYPES',
    doc: 'Allowed attachment MIME types (JSON array; `type/*` wildcards).',
    defaultText: 'images, pdf, text, office, HWP/HWPX (한글)',
    parse: json<string[]>(
      [
        'image/*',
        'application/pdf',
        'text/plain',
        'text/csv',
        'application/vnd.openxmlformats-officedocument.*',
        'application/zip',
        // 한글 (HWP/HWPX): what Korean offices exchange, under the names browsers and systems give them
        'application/x-hwp',
        'application/haansofthwp',
        'application/vnd.hancom.hwp',
        'application/x-hwpx',
        'application/haansofthwpx',
        'application/vnd.hancom.hwpx',
        'application/hwp+zip',
      ],
      stringList,
    ),
  },
  attachmentLinkTtlS: {
    env: 'MOIM_ATTACHMENT_LINK_TTL_S',
    doc: 'Lifetime of attachment download links.',
    parse: int({ min: 5, max: 86400, default: 300 }),
  },
  attachmentQuotaBytes: {
    env: 'MOIM_ATTACHMENT_QUOTA_BYTES',
    doc: 'Bytes of attachments one person may have stored in all; an upload past it is refused with `QUOTA_EXCEEDED` (nothing of it is kept).',
    parse: int({ min: 1, max: 2 ** 50, default: 1024 * 1024 * 1024 }),
  },
  attachmentUploadsPerMin: {
    env: 'MOIM_ATTACHMENT_UPLOADS_PER_MIN',
    doc: 'Attachment uploads one person may start per minute (also the burst); more get `RATE_LIMITED`.',
    parse: int({ min: 1, max: 100_000, default: 30 }),
  },

  docMaxUpdateBytes: {
    env: 'MOIM_DOC_MAX_UPDATE_BYTES',
    doc: 'Largest single Yjs message.',
    parse: int({ min: 1024, max: 64 * 1024 * 1024, default: 1024 * 1024 }),
  },
  docMaxBytes: {
    env: 'MOIM_DOC_MAX_BYTES',
    doc: 'Largest stored document state.',
    parse: int({ min: 1024, max: 2 ** 31, default: 32 * 1024 * 1024 }),
  },
  docMaxOpenPerPerson: {
    env: 'MOIM_DOC_MAX_OPEN_PER_PERSON',
    doc: 'Documents one person may have open at once.',
    parse: int({ min: 1, max: 10_000, default: 20 }),
  },
  docCompactEvery: {
    env: 'MOIM_DOC_COMPACT_EVERY',
    doc: 'Merge a document’s appended updates after this many — and, for a large document, once they add up to an eighth of its stored state (a merge rewrites the whole state).',
    parse: int({ min: 2, max: 1_000_000, default: 500 }),
  },
  docVersionIntervalMs: {
    env: 'MOIM_DOC_VERSION_INTERVAL_MS',
    doc: 'Automatic named version at most this often while a document changes (0: off).',
    parse: int({ min: 0, max: 86_400_000, default: 600_000 }),
  },
  docAwarenessFlushMs: {
    env: 'MOIM_DOC_AWARENESS_FLUSH_MS',
    doc: 'Awareness (cursor) changes of a document go out as one merged message at most this late (0: next event-loop turn).',
    parse: int({ min: 0, max: 1000, default: 0 }),
  },
  docAwarenessRenewalMs: {
    env: 'MOIM_DOC_AWARENESS_RENEWAL_MS',
    doc: 'Unchanged awareness renewals (every 15 s per client) of a document are merged over at most this long (0: like changes).',
    parse: int({ min: 0, max: 5000, default: 2000 }),
  },
  docAwarenessMaxBytes: {
    env: 'MOIM_DOC_AWARENESS_MAX_BYTES',
    doc: 'Largest awareness state (one client’s cursor, name, colour) in bytes of JSON; a larger one closes its `/yjs` connection with 4413.',
    parse: int({ min: 256, max: 1024 * 1024, default: 8192 }),
  },
  docAwarenessMaxClients: {
    env: 'MOIM_DOC_AWARENESS_MAX_CLIENTS',
    doc: 'Awareness client ids one `/yjs` connection may introduce (a stock provider uses one; a read-only connection gets exactly one); others’ ids are never writable.',
    parse: int({ min: 1, max: 100, default: 4 }),
  },
  docMaxPendingUpdates: {
    env: 'MOIM_DOC_MAX_PENDING_UPDATES',
    doc: 'Yjs updates with missing dependencies a `/yjs` connection may send in a row (each refused and answered with sync step 1) before it is closed with 4400.',
    parse: int({ min: 1, max: 10_000, default: 8 }),
  },
  docMaxConnectionsPerPerson: {
    env: 'MOIM_DOC_MAX_CONNECTIONS_PER_PERSON',
    doc: '`/yjs` connections one person may have open at once, over all documents; more are closed with 4429 `TOO_MANY_CONNECTIONS`.',
    parse: int({ min: 1, max: 100_000, default: 100 }),
  },
  teleworkMaxBookingsPerPerson: {
    env: 'MOIM_TELEWORK_MAX_BOOKINGS_PER_PERSON',
    doc: 'Telework bookings (seats, meeting rooms) one person may hold that are booked and not yet ended; one more is refused with `CONFLICT`.',
    parse: int({ min: 1, max: 10_000, default: 20 }),
  },
  teleworkCheckinBeforeMinutes: {
    env: 'MOIM_TELEWORK_CHECKIN_BEFORE_MINUTES',
    doc: 'A booking can be checked in (automatically from the site’s network, or by hand) from this many minutes before its start until its end.',
    parse: int({ min: 0, max: 720, default: 15 }),
  },
  teleworkCheckinGraceMinutes: {
    env: 'MOIM_TELEWORK_CHECKIN_GRACE_MINUTES',
    doc: 'A booking not checked in this many minutes after its start is released (a no-show): the place is bookable again.',
    parse: int({ min: 1, max: 1440, default: 15 }),
  },
  teleworkDashboardFreshMs: {
    env: 'MOIM_TELEWORK_DASHBOARD_FRESH_MS',
    doc: 'How old the manager’s live view (`GET /telework/dashboard`) may be: each scope (the org for admins, a manager’s team, a member) is recomputed at most this often and shared by the requests meanwhile (its `at` says when). 0: computed for each request.',
    parse: int({ min: 0, max: 60_000, default: 1000 }),
  },
  teleworkCentreNeedsPlan: {
    env: 'MOIM_TELEWORK_CENTRE_NEEDS_PLAN',
    doc: 'A booking at a smart-work centre needs an approved telework plan at that centre for its day (else `NOT_APPROVED`); off: anyone of the org books there.',
    parse: bool(true),
  },
  teleworkManualCheckin: {
    env: 'MOIM_TELEWORK_MANUAL_CHECKIN',
    doc: 'Whether `POST /telework/bookings/:id/check-in` from outside the site’s network ranges is accepted (marked `manual`); off: only from the site’s ranges.',
    parse: bool(true),
  },
  teleworkNoShowLimit: {
    env: 'MOIM_TELEWORK_NO_SHOW_LIMIT',
    doc: 'No-shows within `MOIM_TELEWORK_NO_SHOW_WINDOW_DAYS` that suspend a person’s booking (`BOOKING_SUSPENDED`) for `MOIM_TELEWORK_SUSPENSION_DAYS`; 0: never.',
    parse: int({ min: 0, max: 1000, default: 3 }),
  },
  teleworkNoShowWindowDays: {
    env: 'MOIM_TELEWORK_NO_SHOW_WINDOW_DAYS',
    doc: 'Days over which no-shows are counted (no-shows before the last suspension began do not count again).',
    parse: int({ min: 1, max: 366, default: 30 }),
  },
  teleworkSuspensionDays: {
    env: 'MOIM_TELEWORK_SUSPENSION_DAYS',
    doc: 'How long booking stays suspended after `MOIM_TELEWORK_NO_SHOW_LIMIT` no-shows.',
    parse: int({ min: 1, max: 366, default: 7 }),
  },
  teleworkLateAfterMinutes: {
    env: 'MOIM_TELEWORK_LATE_AFTER_MINUTES',
    doc: 'A first check-in of the day this many minutes after the site’s opening time is flagged `late`.',
    parse: int({ min: 0, max: 720, default: 10 }),
  },
  teleworkAttendanceMaxDays: {
    env: 'MOIM_TELEWORK_ATTENDANCE_MAX_DAYS',
    doc: 'Longest range (days, inclusive) of one `GET /telework/attendance`; a longer one is `INVALID_PAYLOAD`.',
    parse: int({ min: 1, max: 3660, default: 93 }),
  },
  teleworkApprovalSteps: {
    env: 'MOIM_TELEWORK_APPROVAL_STEPS',
    doc: 'Steps of a telework approval chain, from the org directory: 1 = the person’s manager; 2 = then the manager’s manager, and so on. A chain ends early at the top, at a manager not on record or inactive, and at a cycle.',
    parse: int({ min: 1, max: 10, default: 1 }),
  },
  teleworkDirectoryImportMaxRows: {
    env: 'MOIM_TELEWORK_DIRECTORY_IMPORT_MAX_ROWS',
    doc: 'People one CSV import of the telework directory may hold (rows after the header); more is refused with `PAYLOAD_TOO_LARGE` and nothing is stored.',
    parse: int({ min: 1, max: 1_000_000, default: 10_000 }),
  },
  teleworkDirectoryImportMaxBytes: {
    env: 'MOIM_TELEWORK_DIRECTORY_IMPORT_MAX_BYTES',
    doc: 'Largest CSV body of a telework directory import, in bytes; a larger one is refused with `PAYLOAD_TOO_LARGE`.',
    parse: int({ min: 1024, max: 256 * 1024 * 1024, default: 4 * 1024 * 1024 }),
  },
  teleworkApprovalMaxSteps: {
    env: 'MOIM_TELEWORK_APPROVAL_MAX_STEPS',
    doc: 'Approvers an applicant may name in the line of a `document` approval (`POST /approvals`); more is refused with `INVALID_PAYLOAD`.',
    parse: int({ min: 1, max: 20, default: 5 }),
  },
  teleworkEscalateAfterHours: {
    env: 'MOIM_TELEWORK_ESCALATE_AFTER_HOURS',
    doc: 'Hours an approval step may stay undecided before it is escalated to the approver’s own manager (the step’s `dueAt`).',
    parse: int({ min: 1, max: 8760, default: 48 }),
  },
  teleworkEscalationIntervalMs: {
    env: 'MOIM_TELEWORK_ESCALATION_INTERVAL_MS',
    doc: 'How often the scheduler looks for approval steps past their deadline.',
    parse: int({ min: 1000, max: 86_400_000, default: 60_000 }),
  },
  teleworkQuotaPerWeek: {
    env: 'MOIM_TELEWORK_QUOTA_PER_WEEK',
    doc: 'Telework days (pending, approved or waitlisted) one person may hold per week, Monday to Sunday; more is refused with `QUOTA_EXCEEDED`.',
    parse: int({ min: 0, max: 7, default: 3 }),
  },
  teleworkQuotaPerMonth: {
    env: 'MOIM_TELEWORK_QUOTA_PER_MONTH',
    doc: 'Telework days (pending, approved or waitlisted) one person may hold per calendar month; more is refused with `QUOTA_EXCEEDED`.',
    parse: int({ min: 0, max: 31, default: 10 }),
  },
  teleworkRequestMaxDays: {
    env: 'MOIM_TELEWORK_REQUEST_MAX_DAYS',
    doc: 'Days one telework request may name.',
    parse: int({ min: 1, max: 31, default: 10 }),
  },
  teleworkRequestMaxTasks: {
    env: 'MOIM_TELEWORK_REQUEST_MAX_TASKS',
    doc: 'Planned tasks one telework request may list (each at most 200 characters).',
    parse: int({ min: 1, max: 20, default: 10 }),
  },
  callRingTimeoutMs: {
    env: 'MOIM_CALL_RING_TIMEOUT_MS',
    doc: 'How long a call rings a callee’s devices before it is missed.',
    parse: int({ min: 100, max: 600_000, default: 45_000 }),
  },
  callMaxCallees: {
    env: 'MOIM_CALL_MAX_CALLEES',
    doc: 'People one call may ring, added ones included (also bounded by the call room’s tier); more is refused with `TOO_MANY_CALLEES`.',
    parse: int({ min: 1, max: 49, default: 8 }),
  },
  callMaxPerPerson: {
    env: 'MOIM_CALL_MAX_PER_PERSON',
    doc: 'Calls one person takes part in at once (made, or answered); one more is refused with `TOO_MANY_CALLS`.',
    parse: int({ min: 1, max: 10, default: 2 }),
  },
  callStartsPerMinute: {
    env: 'MOIM_CALL_STARTS_PER_MINUTE',
    doc: 'Calls one person may start per minute (a burst of as many); more are refused with `RATE_LIMITED`.',
    parse: int({ min: 1, max: 1000, default: 10 }),
  },
  callHistoryMax: {
    env: 'MOIM_CALL_HISTORY_MAX',
    doc: 'Call history entries kept per person (the oldest go first).',
    parse: int({ min: 1, max: 10_000, default: 200 }),
  },
  callDropGraceMs: {
    env: 'MOIM_CALL_DROP_GRACE_MS',
    doc: 'How long a person in a call may have no connection before they leave the call (a ringing call they made is cancelled).',
    parse: int({ min: 0, max: 600_000, default: 15_000 }),
  },
  invitationRejoinGraceMs: {
    env: 'MOIM_INVITATION_REJOIN_GRACE_MS',
    doc: 'How long a ringing meeting invitation waits for its inviter to join again after the meeting’s room closed under them (a media worker died, the node is fenced or draining; clients join again at once) before it ends as `inviter-left`. Leaving by choice ends it at once.',
    parse: int({ min: 0, max: 120_000, default: 10_000 }),
  },
  nodeSite: {
    env: 'MOIM_NODE_SITE',
    doc: 'Cluster: the site this node stands at (e.g. `busan`). A node with a site serves its own clients’ video rooms itself and cascades them with the rooms’ other nodes (one pipe per producer per node, cluster/Cascade.ts); a node without one (headquarters) relays to the room’s home node.',
    parse: optionalStr({ pattern: /^[\w.-]{1,64}$/, hint: 'letters, digits, . _ - (max 64)' }),
  },
  cascadeSrtp: {
    env: 'MOIM_CASCADE_SRTP',
    doc: 'Cluster: encrypt the media piped between nodes (SRTP on the PipeTransports of a cascaded room).',
    parse: bool(true),
  },
  cascadeTimeoutMs: {
    env: 'MOIM_CASCADE_TIMEOUT_MS',
    doc: 'Cluster: how long a node waits for another node to set up its side of a pipe.',
    parse: int({ min: 100, max: 60_000, default: 5000 }),
  },
  // sign-in (issue 17): moim's own session tokens, OIDC, passkeys, certificates, step-up
  sessionIssuer: {
    env: 'MOIM_SESSION_ISSUER',
    doc: '`iss` of moim’s own session tokens (ES256, keys at `/.well-known/jwks.json`).',
    defaultText: 'MOIM_PUBLIC_URL, else `moim`',
    parse: optionalStr(),
  },
  sessionTtlS: {
    env: 'MOIM_SESSION_TTL_S',
    doc: 'Lifetime of one session token; clients refresh it (`POST /auth/session/refresh`) within the session.',
    parse: int({ min: 5, max: 86400, default: 900 }),
  },
  sessionMaxAgeS: {
    env: 'MOIM_SESSION_MAX_AGE_S',
    doc: 'A session (its refreshed tokens) ends this long after sign-in.',
    parse: int({ min: 60, max: 30 * 86400, default: 12 * 3600 }),
  },
  sessionKeyRotateS: {
    env: 'MOIM_SESSION_KEY_ROTATE_S',
    doc: 'One signing key signs this long; the next is published ahead, a retired one stays in the JWKS until its tokens expired.',
    parse: int({ min: 60, max: 365 * 86400, default: 86400 }),
  },
  sessionKeySecret: {
    env: 'MOIM_SESSION_KEY_SECRET',
    doc: 'Key-encryption secret (≥ 32 bytes) of the signing keys’ private halves, stored encrypted in the database so every node signs and verifies. Same on every node. Unset outside production: derived from MOIM_JWT_SECRET.',
    defaultText: '(dev: from MOIM_JWT_SECRET)',
    parse: optionalStr(),
  },
  oidcIssuer: {
    env: 'MOIM_OIDC_ISSUER',
    doc: 'OpenID Connect issuer URL (discovery at `/.well-known/openid-configuration`). Set: `GET /auth/oidc/start` signs in with authorization code + PKCE, state and nonce.',
    parse: optionalStr({ pattern: URL_RE, hint: 'expected an absolute URL' }),
  },
  oidcClientId: {
    env: 'MOIM_OIDC_CLIENT_ID',
    doc: 'moim’s client id at the OIDC provider (the required `aud` of ID tokens).',
    parse: optionalStr(),
  },
  oidcClientSecret: {
    env: 'MOIM_OIDC_CLIENT_SECRET',
    doc: 'Client secret (`client_secret_basic`); unset: a public client (PKCE only).',
    parse: optionalStr(),
  },
  oidcRedirectUri: {
    env: 'MOIM_OIDC_REDIRECT_URI',
    doc: 'Redirect URI registered at the provider.',
    defaultText: 'MOIM_PUBLIC_URL/auth/oidc/callback',
    parse: optionalStr({ pattern: URL_RE, hint: 'expected an absolute URL' }),
  },
  oidcScopes: {
    env: 'MOIM_OIDC_SCOPES',
    doc: 'Scopes asked for.',
    parse: str({ default: 'openid profile email' }),
  },
  oidcClaims: {
    env: 'MOIM_OIDC_CLAIMS',
    doc: 'ID-token claims → moim’s person, JSON: `{"name":"name","org":"org","orgDefault":"default","site":"site","siteDefault":"hq","teams":"groups","role":"roles","roles":{"admin":["moim-admin"],"manager":["lead"]}}`. Accounts are linked by issuer + subject, never by e-mail.',
    parse: json(DEFAULT_CLAIMS_MAP, claimsMap),
  },
  oidcAllowInsecure: {
    env: 'MOIM_OIDC_ALLOW_INSECURE',
    doc: 'Allow an `http:` OIDC issuer (openid-client `allowInsecureRequests`). Only with `MOIM_ENV=test`.',
    parse: bool(false),
  },
  passkeyRpId: {
    env: 'MOIM_PASSKEY_RP_ID',
    doc: 'WebAuthn relying-party id (a host name such as `moim.example.org`, or `localhost`; never an IP address). Set: passkeys are offered.',
    parse: optionalStr({
      pattern: /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9.-]{1,253}$/,
      hint: 'a lower-case host name, not an IP address',
    }),
  },
  passkeyRpName: {
    env: 'MOIM_PASSKEY_RP_NAME',
    doc: 'Relying-party name shown by authenticators.',
    parse: str({ default: 'moim' }),
  },
  passkeyOrigins: {
    env: 'MOIM_PASSKEY_ORIGINS',
    doc: 'Origins a passkey ceremony may come from, JSON array (e.g. `["https://moim.example.org"]`).',
    defaultText: 'MOIM_PUBLIC_URL',
    parse: json<string[]>([], stringList),
  },
  certPort: {
    env: 'MOIM_CERT_PORT',
    doc: 'Port of the mutual-TLS listener for certificate sign-in and step-up (`0`: a free port; unset: off). Needs the four `MOIM_CERT_*` files.',
    parse: int({ min: -1, max: 65535, default: -1 }),
  },
  certPublicUrl: {
    env: 'MOIM_CERT_PUBLIC_URL',
    doc: 'URL clients reach the mutual-TLS listener at (`GET /auth/methods` names it).',
    defaultText: 'https://localhost:MOIM_CERT_PORT',
    parse: optionalStr({ pattern: URL_RE, hint: 'expected an absolute URL' }),
  },
  certServerCert: {
    env: 'MOIM_CERT_SERVER_CERT',
    doc: 'PEM file: the TLS certificate (chain) of the mutual-TLS listener.',
    parse: optionalStr(),
  },
  certServerKey: {
    env: 'MOIM_CERT_SERVER_KEY',
    doc: 'PEM file: its private key.',
    parse: optionalStr(),
  },
  certCa: {
    env: 'MOIM_CERT_CA',
    doc: 'PEM file: the CA bundle client certificates must chain to (GPKI stand-in).',
    parse: optionalStr(),
  },
  certCrl: {
    env: 'MOIM_CERT_CRL',
    doc: 'PEM file: the certificate revocation list(s) of those CAs; revoked certificates are refused.',
    parse: optionalStr(),
  },
  certClaims: {
    env: 'MOIM_CERT_CLAIMS',
    doc: 'Certificate subject attributes → moim’s person (same shape as MOIM_OIDC_CLAIMS, attribute names such as `CN`, `O`, `OU`). The person is linked by issuer + subject DN.',
    parse: json(DEFAULT_CERT_CLAIMS_MAP, claimsMap),
  },
  signInPerAddressPerMin: {
    env: 'MOIM_SIGNIN_PER_ADDRESS_PER_MIN',
    doc: 'Sign-in attempts (OIDC, passkey and certificate sign-in, passkey options and step-up) one client address may make per minute; more get `RATE_LIMITED`. Shared by the nodes of a cluster.',
    parse: int({ min: 1, max: 1_000_000, default: 60 }),
  },
  signInPerAccountPerMin: {
    env: 'MOIM_SIGNIN_PER_ACCOUNT_PER_MIN',
    doc: 'Sign-in attempts per account (person, passkey credential, certificate subject) per minute.',
    parse: int({ min: 1, max: 1_000_000, default: 10 }),
  },
  authChallengeTtlS: {
    env: 'MOIM_AUTH_CHALLENGE_TTL_S',
    doc: 'Lifetime of an OIDC state or passkey challenge (each is single-use).',
    parse: int({ min: 10, max: 3600, default: 300 }),
  },
  stepUp: {
    env: 'MOIM_STEP_UP',
    doc: 'Sensitive actions (approval decisions, recording downloads, …) need a fresh second factor (passkey or certificate): `on`, `off`, or `auto` (on in production).',
    parse: oneOf(['auto', 'on', 'off'] as const, 'auto'),
  },
  stepUpMaxAgeS: {
    env: 'MOIM_STEP_UP_MAX_AGE_S',
    doc: 'How fresh that second factor must be.',
    parse: int({ min: 10, max: 86400, default: 300 }),
  },
  recordingPolicy: {
    env: 'MOIM_RECORDING_POLICY',
    doc: 'Recording policy per room tier (JSON `{"personal"|"standard"|"immersive": {"record", "downloadsAllowed", "downloadBy": "recorders"|"participants", "retentionDays"}}`): whether rooms of the tier may be recorded (by people granted `record`), whether and by whom the files are downloaded, and how many days they are kept after the recording ended.',
    defaultText: 'every tier: record, downloads by recorders, 30 days',
    parse: json<Record<Tier, RecordingPolicy>>(DEFAULT_RECORDING_POLICIES, (v) => recordingPoliciesSchema.parse(v)),
  },
  recordingMaxConcurrent: {
    env: 'MOIM_RECORDING_MAX_CONCURRENT',
    doc: 'Recordings one node runs at once; one more is refused with `TOO_MANY_RECORDINGS` (each track is one ffmpeg process).',
    parse: int({ min: 0, max: 1000, default: 4 }),
  },
  recordingMaxTracks: {
    env: 'MOIM_RECORDING_MAX_TRACKS',
    doc: "Tracks (a person's camera, microphone, screen…) one recording takes at most; producers beyond are not recorded.",
    parse: int({ min: 1, max: 200, default: 24 }),
  },
  recordingPortMin: {
    env: 'MOIM_RECORDING_PORT_MIN',
    doc: 'First UDP port of the range the recording ffmpeg processes listen on (on 127.0.0.1, two ports per track).',
    parse: int({ min: 1024, max: 65534, default: 47000 }),
  },
  recordingPortMax: {
    env: 'MOIM_RECORDING_PORT_MAX',
    doc: 'Last UDP port of the recording range.',
    parse: int({ min: 1025, max: 65535, default: 47999 }),
  },
  recordingFfmpeg: {
    env: 'MOIM_RECORDING_FFMPEG',
    doc: "The ffmpeg binary recordings run (Debian's).",
    parse: str({ default: '/usr/bin/ffmpeg' }),
  },
  recordingNice: {
    env: 'MOIM_RECORDING_NICE',
    doc: '`nice` level of the recording ffmpeg processes, so they yield the CPU to the SFU.',
    parse: int({ min: 0, max: 19, default: 10 }),
  },
  recordingMaxMemoryBytes: {
    env: 'MOIM_RECORDING_MAX_MEMORY_BYTES',
    doc: 'Address-space bound of one recording ffmpeg process (`prlimit --as`); 0: none.',
    parse: int({ min: 0, max: 2 ** 40, default: 1024 * 1024 * 1024 }),
  },
  recordingKeyFrameIntervalMs: {
    env: 'MOIM_RECORDING_KEYFRAME_INTERVAL_MS',
    doc: 'How often a recorded video producer is asked for a key frame (besides at the start of each segment).',
    parse: int({ min: 500, max: 600_000, default: 10_000 }),
  },
  recordingMaxFileBytes: {
    env: 'MOIM_RECORDING_MAX_FILE_BYTES',
    doc: 'Largest recording file stored; a larger one is left out of the recording (logged, its segment marked failed).',
    parse: int({ min: 1024 * 1024, max: 2 ** 40, default: 4 * 1024 * 1024 * 1024 }),
  },
  recordingSweepIntervalMs: {
    env: 'MOIM_RECORDING_SWEEP_INTERVAL_MS',
    doc: 'How often the scheduler deletes recordings past their retention.',
    parse: int({ min: 1000, max: 86_400_000, default: 3_600_000 }),
  },

  auditKeyFile: {
    env: 'MOIM_AUDIT_KEY_FILE',
    doc: 'Ed25519 private key (PEM) that signs the audit chain’s anchors; keep it outside the database and its backups. Unset: generated once as `<dataDir>/audit-key.pem` (a cluster should share one file). `npm run audit:verify` reads it (or a public key PEM) to check the anchors.',
    defaultText: '<dataDir>/audit-key.pem',
    parse: optionalStr(),
  },
  auditAnchorFile: {
    env: 'MOIM_AUDIT_ANCHOR_FILE',
    doc: 'File (JSON lines, outside the database) each signed anchor of the audit chain is appended to, so a tail cut from the database is still detected.',
    defaultText: '<dataDir>/audit-anchors.jsonl',
    parse: optionalStr(),
  },
  auditAnchorIntervalMs: {
    env: 'MOIM_AUDIT_ANCHOR_INTERVAL_MS',
    doc: 'How often the audit chain’s head is signed (when it moved). Rows after the last anchor could be cut unnoticed: this bounds that window.',
    parse: int({ min: 1000, max: 86_400_000, default: 60_000 }),
  },
  auditExportMaxRows: {
    env: 'MOIM_AUDIT_EXPORT_MAX_ROWS',
    doc: 'Rows one admin CSV export of the audit log (`GET /admin/audit.csv`) may hold.',
    parse: int({ min: 1, max: 1_000_000, default: 100_000 }),
  },
  auditRefusalsPerAddressPerMin: {
    env: 'MOIM_AUDIT_REFUSALS_PER_ADDRESS_PER_MIN',
    doc: 'Refused sign-ins (a bad or expired token at the socket.io handshake) one client address may add to the audit log per minute; more are counted in the log, not stored (20 a second in all).',
    parse: int({ min: 1, max: 10_000, default: 10 }),
  },
  allowedOrigins: {
    env: 'MOIM_ALLOWED_ORIGINS',
    doc: 'Comma-separated web origins (`https://moim.example.go.kr`) whose pages may call the API and open socket.io and `/yjs`, besides this server’s own origin (the request’s `Host`) and `MOIM_PUBLIC_URL`. A browser request from any other `Origin` is refused with `ORIGIN_NOT_ALLOWED`; requests without `Origin` (SDK in Node, curl) are judged by their token alone.',
    parse: originList(),
  },
} satisfies Record<string, VarDef<unknown>>;
