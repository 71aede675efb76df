import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALL_LEFT_REASON, CALL_ROOM_PREFIX, type ErrorCode, RECORDING_STOP_MS } from '@moim/protocol';
import type { AuditAnchors } from './audit/AuditAnchors.ts';
import { RefusalAudit } from './audit/RefusalAudit.ts';
import { startAudit } from './audit/startAudit.ts';
import { personKey } from './auth/Principal.ts';
import { type SignIn, startSignIn } from './auth/SignIn.ts';
import type { StepUp } from './auth/StepUp.ts';
import { TokenService } from './auth/TokenService.ts';
import { SocketIoCallBus } from './calls/CallBus.ts';
import { StoredCallHistory } from './calls/CallHistory.ts';
import { CallService } from './calls/CallService.ts';
import { addCallRoutes } from './calls/callRoutes.ts';
import { Attachments, attachmentLinkKey } from './chat/Attachments.ts';
import { addAttachmentRoutes } from './chat/attachmentRoutes.ts';
import { SocketIoChatBus } from './chat/ChatBus.ts';
import { ChatService } from './chat/ChatService.ts';
import type { RedisPersonLimits } from './cluster/index.ts';
import type { Config } from './config.ts';
import { refOf } from './docs/DocAccess.ts';
import { DocService } from './docs/DocService.ts';
import { wireDocTitleBus } from './docs/DocTitleBus.ts';
import { addDocRoutes } from './docs/routes.ts';
import { YjsEndpoint } from './docs/YjsEndpoint.ts';
import { wireCalls } from './gateway/callHandlers.ts';
import { wireChat } from './gateway/chatHandlers.ts';
import { Gateway } from './gateway/Gateway.ts';
import { mediaHandlers, wireMedia } from './gateway/mediaHandlers.ts';
import { wirePresence } from './gateway/presenceHandlers.ts';
import { recordingHandlers } from './gateway/recordingHandlers.ts';
import { systemHandlers } from './gateway/systemHandlers.ts';
import { wireTeleworkPresence } from './gateway/teleworkPresence.ts';
import { boundUrlFor } from './http/boundUrl.ts';
import { TrustedProxies } from './http/clientAddress.ts';
import { HttpRouter } from './http/HttpRouter.ts';
import { addCoreRoutes, staticFiles } from './http/routes.ts';
import { hardened, OriginPolicy } from './http/security.ts';
import { SocketLimiter, UpgradeRouter } from './http/Upgrades.ts';
import type { Logger } from './logger.ts';
import { createMediaService } from './media/createMediaService.ts';
import type { MediaService } from './media/MediaService.ts';
import { Metrics } from './observability/Metrics.ts';
import type { ContentPolicy } from './policy/ContentPolicy.ts';
import { wireContentPolicy } from './policy/wirePolicy.ts';
import { SocketIoPresenceBus } from './presence/PresenceBus.ts';
import { PresenceService } from './presence/PresenceService.ts';
import { createRecordings } from './recording/createRecordings.ts';
import type { Recordings } from './recording/Recordings.ts';
import { addRecordingRoutes } from './recording/routes.ts';
import { openStores, type Stores } from './storage/index.ts';
import { Approvals, ESCALATION_JOB } from './telework/Approvals.ts';
import { Attendance } from './telework/Attendance.ts';
import { addApprovalRoutes } from './telework/approvalRoutes.ts';
import { addAttendanceRoutes } from './telework/attendanceRoutes.ts';
import { Bookings } from './telework/Bookings.ts';
import { CheckIn } from './telework/CheckIn.ts';
import { Corrections } from './telework/Corrections.ts';
import type { TeleworkType } from './telework/contracts.ts';
import { Dashboard } from './telework/Dashboard.ts';
import { addDashboardRoutes } from './telework/dashboardRoutes.ts';
import { addDirectoryRoutes } from './telework/directoryRoutes.ts';
import { ChatNotices } from './telework/Notices.ts';
import { OrgDirectory } from './telework/OrgDirectory.ts';
import { Requests } from './telework/Requests.ts';
import { addReportRoutes } from './telework/reportRoutes.ts';
import { addRequestRoutes } from './telework/requestRoutes.ts';
import { addBookingRoutes, addTeleworkRoutes } from './telework/routes.ts';
import { type Clock, Scheduler, systemClock } from './telework/Scheduler.ts';
import { Sites } from './telework/Sites.ts';
import { Whereabouts } from './telework/Whereabouts.ts';
import { WorkReports } from './telework/WorkReports.ts';

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly http: HttpServer;
  readonly router: HttpRouter;
  readonly gateway: Gateway;
  readonly stores: Stores;
  readonly tokens: TokenService;
  readonly metrics: Metrics;
  /** Presence of everyone connected (the media service feeds `setMeeting`). */
  readonly presence: PresenceService;
  /** Channels, direct messages, history, receipts. */
  readonly chat: ChatService;
  /** Video rooms (the SFU); emits memberJoined/memberLeft for presence. */
  readonly media: MediaService;
  /** Calls that ring: their state machines and ring timers. */
  readonly calls: CallService;
  /** Shared documents (y-websocket on `/yjs/<doc>`, HTTP under `/docs`). */
  readonly docs: DocService;
  /** Telework's periodic jobs (no-show release, automatic check-out, escalation, reminders) on one clock. */
  readonly scheduler: Scheduler;
  /** Telework's org directory (managers, approval chains, priority categories) and holiday calendar. */
  readonly orgDirectory: OrgDirectory;
  /** The approval engine (e-approval): documents, steps, delegations, escalation; emits `decided`. */
  readonly approvals: Approvals;
  /** Telework requests (quota, eligibility, centre seats and waiting lists); the approved plans of people's days. */
  readonly teleworkRequests: Requests;
  /** Work reports of telework days (a guarded document each), their review and reminders. */
  readonly reports: WorkReports;
  /** Sign-in: moim's session tokens and keys, OIDC, passkeys, certificates, step-up, revocation (auth/SignIn.ts). */
  readonly signIn: SignIn;
  /** Meeting recordings (start/stop, files, downloads, retention). */
  readonly recordings: Recordings;
  /** Data-leak policies: `check(principal, 'room', id, 'download')` before returning stored content. */
  readonly contentPolicy: ContentPolicy;
  /** Signs the audit chain's head (periodically and at close); `anchorNow()` for tests and tools. */
  readonly auditAnchors: AuditAnchors;
  /** Listen on HOST:PORT and return the URL (PORT=0 → the port actually bound). */
  listen(): Promise<string>;
  /** Graceful shutdown: stop accepting, close sockets and services, flush stores. Idempotent. */
  close(): Promise<void>;
}

export interface AppDeps {
  /** The telework scheduler's clock (tests move a ManualClock). @default systemClock */
  clock?: Clock;
}

/** Build every service of one node from its configuration. Nothing here reads process.env. */
export async function createApp(config: Config, log: Logger, deps: AppDeps = {}): Promise<App> {
  if (config.redisUrl && !config.databaseUrl)
    // nodes sharing Redis but each with its own SQLite would silently split chat and documents
    throw new Error('REDIS_URL (cluster mode) needs DATABASE_URL: every node must use the same PostgreSQL');

  const metrics = new Metrics(config.nodeId);
  const stores = await openStores({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    databaseSchema: config.databaseSchema,
    clustered: config.redisUrl !== undefined,
    chatCommitIntervalMs: config.chatCommitIntervalMs,
    writeThreads: config.sqliteWriteThreads,
    onChatCommit: metrics.onChatCommit,
    minFreeBytes: config.dataMinFreeBytes,
    log: log.child({ subsystem: 'storage' }),
  });
  try {
    return await buildServices(config, log, metrics, stores, deps.clock ?? systemClock);
  } catch (err) {
    metrics.close();
    // a half-built node must not keep the data folder's lock (or open databases) until the process exits
    await stores
      .close()
      .catch((closeErr: unknown) => log.error({ err: closeErr }, 'closing stores after a failed start failed'));
    throw err;
  }
}

/** Everything after the stores opened, in start-up order (createApp closes the stores when this throws). */
async function buildServices(
  config: Config,
  log: Logger,
  metrics: Metrics,
  stores: Stores,
  clock: Clock,
): Promise<App> {
  const tokens = TokenService.fromConfig(config);
  const router = new HttpRouter(log.child({ subsystem: 'http' }));
  // security headers on every answer; pages of other origins refused (API, socket.io, /yjs)
  const origins = new OriginPolicy([
    ...config.allowedOrigins,
    ...(config.publicUrl ? [new URL(config.publicUrl).origin] : []),
  ]);
  const https = config.publicUrl?.startsWith('https:') ?? false;
  const http = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000 },
    hardened(router.handle, { origins, https }),
  );
  http.keepAliveTimeout = 5_000;
  // the cluster's modules (ioredis, the socket.io Redis adapter, the relays) are loaded in cluster
  // mode only: a single node never needs them, and loading them was a tenth of its time to ready
  const lib = config.redisUrl ? await loadClusterModules() : undefined;
  const cluster =
    lib && config.redisUrl
      ? {
          lib,
          ...(await lib.startCluster({
            redisUrl: config.redisUrl,
            prefix: config.redisPrefix,
            nodeId: config.nodeId,
            url: config.publicUrl ?? `http://${config.host}:${config.port}`,
            site: config.nodeSite,
            log: log.child({ subsystem: 'cluster' }),
            metrics,
          })),
        }
      : undefined;
  // failed sign-ins (refused tokens at the handshake) into the audit log, bounded per address
  const refusals = new RefusalAudit({
    audit: stores.audit,
    log: log.child({ subsystem: 'audit' }),
    perAddressPerMin: config.auditRefusalsPerAddressPerMin,
  });
  const refusalProxies = new TrustedProxies(config.trustedProxies);
  router.onTokenRefused = (req, code) => refusals.refused(refusalProxies.clientOf(req), code as ErrorCode, 'http');
  // cluster: each person's connection count and request budget are shared with the other nodes
  let personLimits: RedisPersonLimits | undefined;
  const gateway = new Gateway({
    adapter: cluster?.adapter,
    httpServer: http,
    tokens,
    metrics,
    log: log.child({ subsystem: 'gateway' }),
    maxHttpBufferSize: config.maxHttpBufferSize,
    rateLimitPerSec: config.rateLimitPerSec,
    rateLimitBurst: config.rateLimitBurst,
    personRateLimitPerSec: config.personRateLimitPerSec,
    personRateLimitBurst: config.personRateLimitBurst,
    maxConnectionsPerPerson: config.maxConnectionsPerPerson,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    allowOrigin: (req) => origins.allows(req),
    onHandshakeRefused: (req, code) => {
      if (code.startsWith('TOKEN_')) refusals.refused(refusalProxies.clientOf(req), code, 'socket.io');
    },
    sharePersonLimits:
      cluster &&
      ((local) => {
        personLimits = new cluster.lib.RedisPersonLimits({
          redis: cluster.redis,
          registry: cluster.registry,
          local,
          log: log.child({ subsystem: 'person-limits' }),
        });
        return personLimits;
      }),
  });
  // socket.io's long-polling answers bypass the router: the same headers there
  gateway.io.engine.on('headers', (headers: Record<string, string>) => {
    headers['X-Content-Type-Options'] = 'nosniff';
    headers['Referrer-Policy'] = 'no-referrer';
  });
  gateway.register(systemHandlers({ tokens, nodeId: config.nodeId, gateway }));
  // every WebSocket upgrade goes through one router: socket.io's prefix, /yjs, and 404 for the rest
  const sockets = new SocketLimiter({
    http,
    proxies: new TrustedProxies(config.trustedProxies),
    maxPerAddress: config.maxSocketsPerAddress,
    log: log.child({ subsystem: 'http' }),
    metrics,
  });
  const upgrades = new UpgradeRouter({
    http,
    log: log.child({ subsystem: 'http' }),
    limiter: sockets,
    metrics,
    admit: (req) => origins.allows(req),
  });
  upgrades.adopt('/socket.io/');

  // Services register their handlers, routes and close hooks here, in start-up order.
  const closers: Array<() => Promise<void>> = [];
  // the data folder takes a write (and is still locked by this node); free space ≥ MOIM_DATA_MIN_FREE_BYTES
  const readiness: Array<[string, () => Promise<boolean>]> = [
    ['storage', async () => (await stores.checks()).storage],
    ['diskSpace', async () => (await stores.checks()).diskSpace],
  ];
  // the audit chain's signed anchors (closed late: the final head is anchored after the services stopped)
  const auditAnchors = startAudit({
    config,
    audit: stores.audit,
    router,
    tokens,
    log: log.child({ subsystem: 'audit' }),
  });
  closers.push(() => auditAnchors.close());
  // data-leak policies: one gate for every route and event registered with a content mark
  // step-up for policy changes comes from sign-in, started further down
  let stepUp: StepUp | undefined;
  const contentPolicy = wireContentPolicy({
    router,
    gateway,
    tokens,
    stores,
    maxBodyBytes: config.maxBodyBytes,
    stepUp: () => stepUp,
    log: log.child({ subsystem: 'policy' }),
    clustered: cluster !== undefined,
  });
  if (cluster) {
    readiness.push(['redis', async () => cluster.healthy()]);
    // closed last (closers run in reverse): the node leaves the registry once its services stopped
    closers.push(() => cluster.close());
    closers.push(async () => personLimits?.close());
  }

  const presenceBus = new SocketIoPresenceBus(gateway.io);
  const presenceLog = log.child({ subsystem: 'presence' });
  // in a cluster each node reports its devices to Redis, which merges every node's (late-bound: the
  // directory asks the service for its local people after a Redis restart)
  let presence: PresenceService | undefined;
  const directory = cluster
    ? new cluster.lib.RedisPresence({
        redis: cluster.redis,
        registry: cluster.registry,
        bus: presenceBus,
        store: stores.presence,
        log: presenceLog,
        localPeople: () => presence?.localPeople() ?? [],
        metrics: cluster.metrics,
      })
    : undefined;
  presence = new PresenceService({
    store: stores.presence,
    bus: presenceBus,
    log: presenceLog,
    awayAfterMs: config.awayAfterMs,
    graceMs: config.presenceGraceMs,
    directory,
  });
  if (directory) closers.push(() => directory.close());
  // presence requests, device lifecycle, and subscriptions that follow a connection's token (`reauth`)
  wirePresence(gateway, presence);
  closers.push(() => presence.close());

  const chat = new ChatService({
    store: stores.chat,
    bus: new SocketIoChatBus(gateway.io),
    audit: stores.audit,
    log: log.child({ subsystem: 'chat' }),
    limits: {
      maxMessageChars: config.chatMaxMessageChars,
      messagesPerSec: config.chatMessagesPerSec,
      maxMembers: config.chatMaxMembers,
    },
  });
  const attachments = new Attachments({
    chat,
    store: stores.chat,
    blobs: stores.blobs,
    audit: stores.audit,
    maxBytes: config.attachmentMaxBytes,
    quotaBytes: config.attachmentQuotaBytes,
    uploadsPerMin: config.attachmentUploadsPerMin,
    types: config.attachmentTypes,
    linkTtlS: config.attachmentLinkTtlS,
    linkKey: attachmentLinkKey(config.jwtSecret),
  });
  // chat requests, and the chat rooms that follow a connection's token (`reauth`)
  wireChat(gateway, chat, attachments);
  addAttachmentRoutes({ router, tokens, attachments, log: log.child({ subsystem: 'chat' }) });
  closers.push(() => chat.close());

  const media = await createMediaService(config, { log, metrics, stores });
  // meeting recordings: ffmpeg per track on the room's home node, files as blobs any node serves
  const recordings = createRecordings(config, { stores, media, contentPolicy, clock, log });
  if (stores.kind === 'sqlite') await recordings.failInterrupted();
  cluster?.registry.on('nodeDead', (node) => {
    recordings
      .failNode(node)
      .catch((err: unknown) => log.error({ err, node }, 'failing the recordings of a dead node failed'));
  });
  // cluster: a room's signalling reaches its home node whichever node the socket is on
  const mediaRelay = cluster
    ? new cluster.lib.MediaRelay({
        redis: cluster.redis,
        registry: cluster.registry,
        homes: new cluster.lib.RoomHomes(cluster.redis, cluster.registry),
        io: gateway.io,
        media,
        handlers: (channelOf) => ({ ...mediaHandlers(media, channelOf), ...recordingHandlers(recordings) }),
        onRemoteMember: (roomId, sub, connectionId, joined) => presence.setMeeting(sub, connectionId, roomId, joined),
        log: log.child({ subsystem: 'media' }),
        metrics: cluster.metrics,
        slowRequests: new Map([['room:stopRecording', RECORDING_STOP_MS]]),
        servesLocally: config.nodeSite !== undefined,
        siteNode: (
          (sites) => (site: string) =>
            sites.nodeOf(site)
        )(new cluster.lib.SiteNodes(cluster.registry)),
      })
    : undefined;
  await mediaRelay?.start();
  // cluster: a room served by several nodes has a router on each, producers piped between them
  const cascade = cluster ? cluster.lib.createCascade(config, { cluster, media, log, metrics }) : undefined;
  await cascade?.start();
  if (cascade) media.peersElsewhere = (roomId) => cascade.peersElsewhere(roomId);
  // room requests, closed sockets (grace period), and rooms that follow a connection's token (`reauth`)
  wireMedia(gateway, media, mediaRelay, recordingHandlers(recordings));
  closers.push(() => media.close());
  // before the media closes (closers run in reverse): running recordings end and keep their files
  closers.push(() => recordings.close());
  if (mediaRelay) closers.push(() => mediaRelay.close());
  if (cascade) closers.push(() => cascade.close());
  readiness.push(['media', async () => media.ready]);
  // in-meeting presence is derived from video-room membership
  media.on('memberJoined', (roomId, sub, connectionId) => presence.setMeeting(sub, connectionId, roomId, true));
  media.on('memberLeft', (roomId, sub, connectionId) => presence.setMeeting(sub, connectionId, roomId, false));

  // calls that ring: every device of each person; a call's room is a `call-…` media room (presence: in a call)
  // cluster: a call lives on the node that placed it; other nodes find it and relay to it through Redis
  const callDirectory = cluster
    ? new cluster.lib.RedisCallDirectory({
        redis: cluster.redis,
        registry: cluster.registry,
        log: log.child({ subsystem: 'calls' }),
        ringTimeoutMs: config.callRingTimeoutMs,
      })
    : undefined;
  const calls = new CallService({
    directory: callDirectory,
    metrics,
    bus: new SocketIoCallBus(gateway.io),
    rooms: {
      create: async (caller, tier, roomId) => {
        await media.createRoom(caller, { tier, name: 'call' }, roomId);
      },
      end: async (org, roomId) => {
        await media.endRoom(org, roomId, 'call-ended');
        await mediaRelay?.endRoom(org, roomId, 'call-ended');
      },
      removePerson: async (org, roomId, sub) => {
        media.removePerson(org, roomId, sub, CALL_LEFT_REASON);
        await mediaRelay?.removePerson(org, roomId, sub, CALL_LEFT_REASON);
      },
      // meeting invitations: the room record (shared by every node), and who is in it: this node's
      // live room or its connections in rooms homed elsewhere, then presence (every node's devices)
      meeting: async (org, roomId) => {
        const record = await stores.rooms.get(org, roomId);
        return record && { name: record.name, tier: record.tier, closed: record.closedAt !== null };
      },
      isIn: async (org, sub, roomId) =>
        media.hasPerson(org, sub, roomId) ||
        (mediaRelay?.hasPersonAway(personKey(org, sub), roomId) ?? false) ||
        presence.inRoom(org, sub, roomId),
    },
    people: {
      lookup: async (org, subs) =>
        new Map(
          (await presence.get(org, subs)).map((p) => [p.sub, { name: p.name, busy: p.busy && p.state === 'busy' }]),
        ),
    },
    notices: {
      // the message's own time says when; its sender is the caller, in their DM with the callee
      missed: async (org, caller, callee, _at, meeting) => {
        if (!meeting) {
          await chat.dmNotice(org, caller, callee, `📞 Missed call from ${caller.name} · 부재중 전화`);
          return;
        }
        const name = meeting.name ?? meeting.roomId;
        const base = config.publicUrl ? `${config.publicUrl.replace(/\/+$/, '')}/` : '';
        const link = `${base}#/meeting/${encodeURIComponent(meeting.roomId)}`;
        const text = `📨 ${caller.name} invited you to “${name}” — missed · ${caller.name}님의 회의 초대(“${name}”)를 놓쳤습니다 ${link}`;
        await chat.dmNotice(org, caller, callee, text);
      },
    },
    // an invitation's entry offers "Join" while its meeting's room is not closed
    history: new StoredCallHistory(stores.calls, config.callHistoryMax, async (org, roomId) => {
      const record = await stores.rooms.get(org, roomId);
      return record !== undefined && record.closedAt === null;
    }),
    log: log.child({ subsystem: 'calls' }),
    limits: {
      ringTimeoutMs: config.callRingTimeoutMs,
      maxCallees: config.callMaxCallees,
      maxCallsPerPerson: config.callMaxPerPerson,
      startsPerMinute: config.callStartsPerMinute,
      rejoinGraceMs: config.invitationRejoinGraceMs,
    },
  });
  // a call's people join its room whatever their token's room grants (others: as their token says)
  media.giveRoomAccess((caller, roomId) => calls.roomAccess(caller, roomId));
  const callRelay =
    cluster && callDirectory
      ? new cluster.lib.CallRelay({
          redis: cluster.redis,
          registry: cluster.registry,
          directory: callDirectory,
          calls,
          bus: new SocketIoCallBus(gateway.io),
          log: log.child({ subsystem: 'calls' }),
        })
      : undefined;
  await callRelay?.start();
  // a ringing invitation lasts no longer than the meeting for its inviter: a leave or a room's
  // close has the invitations into it checked (cluster: on the nodes holding them)
  const callsLog = log.child({ subsystem: 'calls' });
  // (a room closed under its people with WORKER_DIED: they join again, so its close — not each of
  // their leaves — has the invitations into it checked, after the rejoin grace)
  media.on('memberLeft', (roomId, sub, _connectionId, org, rejoining) => {
    if (roomId.startsWith(CALL_ROOM_PREFIX) || rejoining) return;
    if (!callRelay) return calls.meetingChanged(roomId, sub);
    callRelay
      .meetingLeft(org, roomId, sub)
      .catch((err: unknown) => callsLog.warn({ err, room: roomId, sub }, 'calls: invitations of a leave not checked'));
  });
  media.on('roomClosed', (roomId, reason) => {
    if (roomId.startsWith(CALL_ROOM_PREFIX)) return;
    const rejoining = reason === 'WORKER_DIED';
    if (!callRelay) return calls.meetingChanged(roomId, undefined, rejoining);
    callRelay
      .meetingClosed(roomId, rejoining)
      .catch((err: unknown) => callsLog.warn({ err, room: roomId }, 'calls: invitations of a closed room not checked'));
  });
  wireCalls(gateway, calls, {
    dropGraceMs: config.callDropGraceMs,
    relay: callRelay,
    // cluster: a person still connected to another node has not gone (presence counts every node's devices)
    connected: cluster ? async (org, sub) => ((await presence.get(org, [sub]))[0]?.devices ?? 0) > 0 : undefined,
  });
  addCallRoutes({ router, history: calls.history, tokens, maxBodyBytes: config.maxBodyBytes });
  closers.push(() => calls.close());
  if (callRelay) closers.push(() => callRelay.close());

  // cluster: committed updates and awareness reach the other nodes serving a document
  const relay = cluster
    ? new cluster.lib.RedisDocRelay({
        redisUrl: config.redisUrl!,
        redis: cluster.redis,
        registry: cluster.registry,
        log: log.child({ subsystem: 'docs' }),
        metrics: cluster.metrics,
      })
    : undefined;
  if (relay) closers.push(() => relay.close());
  const docs = new DocService({
    relay,
    sharedLimits: personLimits,
    store: stores.docs,
    titles: stores.docTitles,
    audit: stores.audit,
    tokens,
    metrics,
    log: log.child({ subsystem: 'docs' }),
    limits: {
      maxUpdateBytes: config.docMaxUpdateBytes,
      maxDocBytes: config.docMaxBytes,
      maxOpenPerPerson: config.docMaxOpenPerPerson,
      maxConnectionsPerPerson: config.docMaxConnectionsPerPerson,
      maxPendingUpdates: config.docMaxPendingUpdates,
      compactEvery: config.docCompactEvery,
      versionIntervalMs: config.docVersionIntervalMs,
      awarenessFlushMs: config.docAwarenessFlushMs,
      awarenessRenewalMs: config.docAwarenessRenewalMs,
      awarenessMaxBytes: config.docAwarenessMaxBytes,
      awarenessMaxClients: config.docAwarenessMaxClients,
    },
  });
  // the compaction thread boots before the node says it is ready (bounded), like the write threads:
  // its module loading must not compete with a fresh node's first edits for the CPU
  await docs
    .warm(10_000)
    .catch((err: unknown) =>
      log.warn({ err }, 'the document merge thread did not start before ready; merges start it'),
    );
  const yjs = new YjsEndpoint({
    upgrades,
    service: docs,
    log: log.child({ subsystem: 'yjs' }),
    maxMessageBytes: config.docMaxUpdateBytes,
  });
  addDocRoutes({ router, service: docs, tokens, maxBodyBytes: config.maxBodyBytes });
  // opening a document on /yjs returns its content: the data-leak policy's guests rule applies
  docs.guards.openCheck = async (principal, name) => {
    await contentPolicy.check(principal, 'doc', name, 'read');
  };
  // a stored title is content: held back from guests where the document's policy refuses guests
  docs.guards.refusesGuests = async (ref) => !(await contentPolicy.effective(ref.org, 'doc', ref.name)).guests;
  docs.guards.contentHidden = async (principal, name) =>
    contentPolicy.isGuest(principal, 'doc') && (await docs.guards.guestsRefused(refOf(principal, name)));
  // a rename reaches the people who have the document open, on every node (`doc:title`)
  wireDocTitleBus(docs.titleNotices, gateway.io, { clustered: !!cluster, log: log.child({ subsystem: 'docs' }) });
  // guests shut out of a document: their open /yjs connections on this node end now
  contentPolicy.on('changed', (org, view) => {
    if (view.kind === 'doc' && !view.policy.guests) docs.closeGuests(org, view.id);
  });
  // a refreshed socket.io token with fewer document rights ends the person's /yjs connections it no longer allows
  gateway.on('reauth', (_conn, previous, next) => docs.reauthorize(previous, next));
  closers.push(async () => {
    await docs.close();
    yjs.close();
  });

  // sign-in: moim's own session tokens (accepted wherever tokens are), its methods and revocation
  const signInProxies = new TrustedProxies(config.trustedProxies);
  let boundUrl: string | undefined;
  const signIn = await startSignIn({
    config,
    store: stores.auth,
    audit: stores.audit,
    tokens,
    router,
    connections: () => gateway.connections(),
    addressOf: (req) => signInProxies.clientOf(req),
    boundUrl: () => boundUrl,
    closeDocConnections: (org, sub, sid) => docs.closeRevoked(org, sub, sid),
    redis: cluster && {
      cmd: cluster.redis.cmd,
      sub: cluster.redis.sub,
      prefix: cluster.redis.prefix,
      nodeId: config.nodeId,
    },
    log: log.child({ subsystem: 'auth' }),
  });
  closers.push(() => signIn.close());
  stepUp = signIn.stepUp;
  // a recording's files: a sensitive download (step-up, issue 17)
  addRecordingRoutes({ router, tokens, recordings, stepUp: signIn.stepUp, log: log.child({ subsystem: 'recording' }) });

  // telework sites, places and bookings (HTTP under /telework; an org's first request seeds hq and home)
  const teleworkLog = log.child({ subsystem: 'telework' });
  const scheduler = new Scheduler({ clock, log: teleworkLog });
  closers.push(async () => scheduler.stop());
  const sites = new Sites({ store: stores.telework, audit: stores.audit, log: teleworkLog });
  addTeleworkRoutes({ router, sites, tokens, maxBodyBytes: config.maxBodyBytes });
  // the org directory and holiday calendar: approval chains, eligibility and the manager's view rest on it
  const orgDirectory = new OrgDirectory({
    store: stores.directory,
    sites,
    telework: stores.telework,
    audit: stores.audit,
    log: teleworkLog,
    approvalSteps: config.teleworkApprovalSteps,
    importMaxRows: config.teleworkDirectoryImportMaxRows,
  });
  addDirectoryRoutes({
    router,
    directory: orgDirectory,
    tokens,
    maxBodyBytes: config.maxBodyBytes,
    importMaxBytes: config.teleworkDirectoryImportMaxBytes,
  });
  // approvals (any document needing sign-off) and telework requests; notices are chat DMs from `moim`
  const notices = new ChatNotices({ chat, log: teleworkLog });
  const approvals = new Approvals({
    store: stores.approvals,
    telework: stores.telework,
    audit: stores.audit,
    notices,
    chains: orgDirectory,
    clock,
    log: teleworkLog,
    maxSteps: config.teleworkApprovalMaxSteps,
    escalateAfterMs: config.teleworkEscalateAfterHours * 3_600_000,
  });
  addApprovalRoutes({ router, approvals, tokens, maxBodyBytes: config.maxBodyBytes, stepUp: signIn.stepUp });
  scheduler.add({
    name: ESCALATION_JOB,
    everyMs: config.teleworkEscalationIntervalMs,
    run: (now) => approvals.escalateDue(now),
  });
  const teleworkRequests = new Requests({
    store: stores.approvals,
    telework: stores.telework,
    sites,
    approvals,
    audit: stores.audit,
    notices,
    people: orgDirectory,
    calendar: orgDirectory,
    clock,
    log: teleworkLog,
    quotaPerWeek: config.teleworkQuotaPerWeek,
    quotaPerMonth: config.teleworkQuotaPerMonth,
    maxDays: config.teleworkRequestMaxDays,
    maxTasks: config.teleworkRequestMaxTasks,
  });
  addRequestRoutes({ router, requests: teleworkRequests, tokens, maxBodyBytes: config.maxBodyBytes });
  // reactions to decisions under way finish before the stores close
  closers.push(() => teleworkRequests.idle());
  // work reports: one per approved telework day, its text a guarded document made from a template
  const reports = new WorkReports({
    store: stores.reports,
    telework: stores.telework,
    sites,
    docs,
    plans: teleworkRequests,
    people: orgDirectory,
    notices,
    audit: stores.audit,
    log: teleworkLog,
    clock,
  });
  addReportRoutes({ router, reports, tokens, maxBodyBytes: config.maxBodyBytes });
  scheduler.add(reports.remindJob);
  // an approved request opens the reports of its approved days (waitlisted days get theirs on first use)
  approvals.on('decided', (org, approval) => {
    if (approval.kind !== 'telework-request' || approval.status !== 'approved') return;
    const payload = approval.payload as { days?: unknown; tasks?: unknown } | null;
    const days = Array.isArray(payload?.days) ? payload.days.filter((d): d is string => typeof d === 'string') : [];
    const tasks = Array.isArray(payload?.tasks) ? payload.tasks.filter((t): t is string => typeof t === 'string') : [];
    void (async () => {
      await teleworkRequests.idle();
      for (const day of days) await reports.openFor(org, approval.applicant, day, tasks);
    })().catch((err: unknown) =>
      teleworkLog.error({ err, org, approval: approval.id }, 'opening the work reports of an approved request failed'),
    );
  });
  const bookings = new Bookings({
    store: stores.telework,
    sites,
    audit: stores.audit,
    log: teleworkLog,
    maxBookingsPerPerson: config.teleworkMaxBookingsPerPerson,
    plans: config.teleworkCentreNeedsPlan ? teleworkRequests : undefined,
    rooms: stores.rooms,
    now: () => clock.now(),
  });
  // check-in (from a site's network, or by hand) and no-shows; attendance days from connections
  const teleworkProxies = new TrustedProxies(config.trustedProxies);
  const checkIn = new CheckIn({
    store: stores.telework,
    sites,
    audit: stores.audit,
    log: teleworkLog,
    now: () => clock.now(),
    beforeMs: config.teleworkCheckinBeforeMinutes * 60_000,
    graceMs: config.teleworkCheckinGraceMinutes * 60_000,
    manualAllowed: config.teleworkManualCheckin,
    noShowLimit: config.teleworkNoShowLimit,
    noShowWindowDays: config.teleworkNoShowWindowDays,
    suspensionDays: config.teleworkSuspensionDays,
  });
  addBookingRoutes({
    router,
    bookings,
    checkIn,
    clientAddressOf: (req) => teleworkProxies.clientOf(req),
    tokens,
    maxBodyBytes: config.maxBodyBytes,
  });
  const attendance = new Attendance({
    store: stores.attendance,
    telework: stores.telework,
    sites,
    audit: stores.audit,
    log: teleworkLog,
    now: () => clock.now(),
    lateAfterMinutes: config.teleworkLateAfterMinutes,
    maxDays: config.teleworkAttendanceMaxDays,
    calendar: orgDirectory,
    reports: orgDirectory,
    plans: teleworkRequests,
    // an org's approved days in one look per site: its absences without one query per person
    approvedOn: async (org, day) => {
      const queues = await Promise.all(
        (await stores.telework.listSites(org)).map((site) => stores.approvals.queue(org, site.id, day)),
      );
      return queues.flat().flatMap((d) => (d.status === 'approved' ? [d] : []));
    },
  });
  // attendance corrections: approval documents that replace a day once approved
  const corrections = new Corrections({
    approvals,
    attendance,
    telework: stores.telework,
    sites,
    clock,
    log: teleworkLog,
  });
  addAttendanceRoutes({ router, attendance, corrections, tokens, maxBodyBytes: config.maxBodyBytes });
  // the central manager's view: everyone the caller may see, expected where and checked in or not
  const dashboard = new Dashboard({
    sites,
    telework: stores.telework,
    directory: stores.directory,
    attendance: stores.attendance,
    calendar: orgDirectory,
    plansOn: async (org, day) => {
      const all = await Promise.all(
        (await stores.telework.listSites(org)).map((site) => stores.approvals.queue(org, site.id, day)),
      );
      return all
        .flat()
        .flatMap((d) =>
          d.status === 'approved' ? [{ sub: d.sub, siteId: d.siteId, type: d.type as TeleworkType }] : [],
        );
    },
    online: (org) => presence.query({ org, limit: 1_000_000 }),
    pendingApprovals: async (org, approver) => {
      const docs = await stores.approvals.list(org, {
        status: 'pending',
        ...(approver === undefined ? {} : { approvers: [approver] }),
        limit: 10_000,
      });
      return approver === undefined
        ? docs.length
        : docs.filter((doc) => doc.steps.some((st) => st.approver === approver && st.status === 'pending')).length;
    },
    clock,
    lateAfterMinutes: config.teleworkLateAfterMinutes,
    freshMs: config.teleworkDashboardFreshMs,
    log: teleworkLog,
  });
  addDashboardRoutes({ router, dashboard, tokens });
  const whereabouts = new Whereabouts({
    sites,
    telework: stores.telework,
    checkIn,
    attendance,
    log: teleworkLog,
    now: () => clock.now(),
    alwaysLook: cluster !== undefined,
  });
  wireTeleworkPresence(gateway, whereabouts, teleworkProxies);
  scheduler.add({
    name: 'telework.bookings.no-shows',
    everyMs: 60_000,
    // people already on a site's network when a booking's window opens are checked in first
    run: async (now) => (await whereabouts.checkInConnected()) + (await checkIn.releaseNoShows(now)),
  });
  scheduler.add({
    name: 'telework.attendance',
    everyMs: 60_000,
    // forgotten days close at their site's closing time; people still connected get the new day
    run: async (now) => (await attendance.closeDue(now)) + (await whereabouts.openDays(now)),
  });

  scheduler.add({
    name: 'recording.retention',
    everyMs: config.recordingSweepIntervalMs,
    run: (now) => recordings.sweep(now),
  });

  addCoreRoutes({
    router,
    metrics,
    tokens,
    audit: stores.audit,
    devTokensEnabled: config.devTokensEnabled,
    maxBodyBytes: config.maxBodyBytes,
    metricsAccess: { token: config.metricsToken, loopbackOnly: config.env === 'production' },
    ready: async () => {
      const checks: Record<string, boolean> = {};
      for (const [name, check] of readiness)
        checks[name] = await check().catch((err: unknown) => {
          log.error({ err, check: name }, 'readiness check failed');
          return false;
        });
      return { ok: Object.values(checks).every(Boolean) && !closing, checks };
    },
  });
  router.fallback = staticFiles(config.webRoot, log.child({ subsystem: 'http' }));

  let closing = false;
  let closed: Promise<void> | undefined;
  return {
    config,
    log,
    http,
    router,
    gateway,
    stores,
    tokens,
    metrics,
    presence,
    chat,
    media,
    calls,
    docs,
    scheduler,
    approvals,
    teleworkRequests,
    reports,
    orgDirectory,
    signIn,
    recordings,
    auditAnchors,
    contentPolicy,
    listen: () =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, () => {
          http.off('error', reject);
          scheduler.start();
          const { port } = http.address() as AddressInfo;
          boundUrl = boundUrlFor(config.host, port);
          resolve(config.publicUrl ?? boundUrl);
        });
      }),
    close() {
      closed ??= (async () => {
        closing = true;
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        // cluster drain: the rooms homed here close first (their homes are released), while the
        // adapter still reaches other nodes' sockets: those clients join again on a live node
        if (cluster) media.closeLiveRooms();
        await gateway.close();
        for (const close of closers.reverse()) {
          await close().catch((err: unknown) => log.error({ err }, 'service close failed'));
        }
        http.closeAllConnections();
        await httpClosed;
        await stores.close();
        metrics.close();
      })();
      return closed;
    },
  };
}

/** The cluster's modules, loaded when a node starts in cluster mode (see `createApp`). */
async function loadClusterModules() {
  const [cluster, cascade, sites] = await Promise.all([
    import('./cluster/index.ts'),
    import('./cluster/createCascade.ts'),
    import('./cluster/SiteNodes.ts'),
  ]);
  return { ...cluster, createCascade: cascade.createCascade, SiteNodes: sites.SiteNodes };
}
