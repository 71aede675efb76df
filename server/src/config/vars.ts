import {
  bool,
  cidrList,
  int,
  json,
  type ListenAddress,
  listenAddresses,
  oneOf,
  optionalStr,
  type PublicKeyDef,
  publicKeys,
  str,
  stringList,
  URL_RE,
  type VarDef,
} from './parse.ts';

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
    parse: str({ default: './data' }),
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
    doc: 'First UDP/TCP port of the per-worker WebRtcServers (worker i uses port + i). `0` = any free port.',
    parse: int({ min: 0, max: 65535, default: 40000 }),
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
    doc: 'TURN server URLs handed to clients, JSON array (e.g. `["turns:turn.example.org:443?transport=tcp"]`).',
    parse: json<string[]>([], stringList),
  },
  turnSecret: {
    env: 'MOIM_TURN_SECRET',
    doc: 'Shared secret for TURN REST credentials (coturn `static-auth-secret`).',
    parse: optionalStr(),
  },
  turnTtlS: {
    env: 'MOIM_TURN_TTL_S',
    doc: 'Lifetime of TURN credentials.',
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
    doc: 'Merge a document’s appended updates after this many.',
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
} satisfies Record<string, VarDef<unknown>>;
