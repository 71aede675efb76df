/**
 * Sign-in (issue 17), assembled: moim's session keys and tokens, revocations, the sign-in
 * methods the configuration turns on (OIDC, passkeys, certificates), step-up and the sign-in rate
 * limits. `startSignIn` attaches moim's session tokens to the TokenService (so socket.io, HTTP
 * and /yjs accept them as before), adds the routes (authRoutes.ts) and starts the mutual-TLS
 * listener. Nothing here reads process.env.
 */

import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore, AuthStore } from '../storage/index.ts';
import { type AuthRouteDeps, addAuthRoutes, certRouter } from './authRoutes.ts';
import { CertListener } from './CertSignIn.ts';
import { OidcSignIn } from './OidcSignIn.ts';
import { Passkeys } from './Passkeys.ts';
import type { Principal } from './Principal.ts';
import { type Revocation, type RevocationBus, Revocations } from './Revocations.ts';
import { SessionKeys } from './SessionKeys.ts';
import { Sessions } from './Sessions.ts';
import { type AttemptCounter, MemoryCounter, type MultiRedis, RedisCounter, SignInLimits } from './SignInLimits.ts';
import { StepUp } from './StepUp.ts';
import type { TokenService } from './TokenService.ts';

export interface SignIn {
  readonly keys: SessionKeys;
  readonly sessions: Sessions;
  readonly revocations: Revocations;
  readonly stepUp: StepUp;
  readonly oidc: OidcSignIn | undefined;
  readonly passkeys: Passkeys | undefined;
  /** URL of the mutual-TLS listener (certificate sign-in and step-up), when on. */
  readonly certUrl: string | undefined;
  close(): Promise<void>;
}

export interface SignInDeps {
  config: Config;
  store: AuthStore;
  audit: AuditStore;
  tokens: TokenService;
  router: AuthRouteDeps['router'];
  /** This node's live socket.io connections (a revocation disconnects those it covers). */
  connections: () => Iterable<{ principal: Principal; socket: { disconnect(close: boolean): unknown } }>;
  /** The client address of a request (through trusted proxies), for the per-address limits. */
  addressOf: (req: IncomingMessage) => string;
  /** The URL the main port was bound to (`http://localhost:<port>`), once listening. */
  boundUrl: () => string | undefined;
  /** Ends the `/yjs` connections of a session (`sid`) or of a person (revocation). */
  closeDocConnections: (org: string, sub: string, sid?: string) => void;
  /** Cluster: Redis for shared sign-in counters and the revocation bus. */
  redis?: { cmd: MultiRedis & RedisPubSub; sub: RedisPubSub; prefix: string; nodeId: string } | undefined;
  log: Logger;
}

/** The part of ioredis the revocation bus uses. */
export interface RedisPubSub {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', fn: (channel: string, message: string) => void): unknown;
}

/** moim's session issuer: MOIM_SESSION_ISSUER, else the public URL, else `moim`. */
export const sessionIssuerOf = (c: Config): string => c.sessionIssuer ?? c.publicUrl ?? 'moim';

export async function startSignIn(d: SignInDeps): Promise<SignIn> {
  const c = d.config;
  const log = d.log;
  const keySecret = c.sessionKeySecret ?? c.jwtSecret;
  if (!keySecret) throw new Error('MOIM_SESSION_KEY_SECRET is required to keep moim’s signing keys');
  const keys = new SessionKeys({
    store: d.store,
    secret: keySecret,
    rotateMs: c.sessionKeyRotateS * 1000,
    tokenTtlMs: c.sessionTtlS * 1000,
    log,
  });
  await keys.start();
  const revocations = new Revocations({ store: d.store, log });
  await revocations.start(5_000, d.redis && redisBus(d.redis, log));
  const issuer = sessionIssuerOf(c);
  d.tokens.attachSessions({
    issuer,
    verifyKey: (kid) => keys.verifyKey(kid),
    checkRevoked: (t) => revocations.check(t),
  });
  const sessions = new Sessions({
    keys,
    revocations,
    issuer,
    audience: c.jwtAudience,
    ttlS: c.sessionTtlS,
    maxAgeS: c.sessionMaxAgeS,
  });
  // a revocation ends the live connections it covers on this node (each node hears each revocation)
  revocations.onRevoked((r) => dropConnections(d, r));

  const counter: AttemptCounter = d.redis ? new RedisCounter(d.redis.cmd, d.redis.prefix) : new MemoryCounter();
  const limits = new SignInLimits({
    counter,
    perAddressPerMin: c.signInPerAddressPerMin,
    perAccountPerMin: c.signInPerAccountPerMin,
    log,
  });
  const stepUp = new StepUp({
    required: c.stepUp === 'on' || (c.stepUp === 'auto' && c.env === 'production'),
    maxAgeS: c.stepUpMaxAgeS,
  });
  const challengeTtlMs = c.authChallengeTtlS * 1000;
  const publicUrl = (): string => c.publicUrl ?? d.boundUrl() ?? `http://localhost:${c.port}`;
  const oidc =
    c.oidcIssuer && c.oidcClientId
      ? new OidcSignIn({
          issuer: c.oidcIssuer,
          clientId: c.oidcClientId,
          clientSecret: c.oidcClientSecret,
          redirectUri: () => c.oidcRedirectUri ?? `${publicUrl()}/auth/oidc/callback`,
          scopes: c.oidcScopes,
          claims: c.oidcClaims,
          allowInsecure: c.oidcAllowInsecure,
          challengeTtlMs,
          store: d.store,
          log,
        })
      : undefined;
  const passkeys = c.passkeyRpId
    ? new Passkeys({
        rpId: c.passkeyRpId,
        rpName: c.passkeyRpName,
        origins: () => (c.passkeyOrigins.length > 0 ? c.passkeyOrigins : [new URL(publicUrl()).origin]),
        challengeTtlMs,
        store: d.store,
        log,
      })
    : undefined;
  const routeDeps = {
    config: c,
    tokens: d.tokens,
    sessions,
    keys,
    revocations,
    limits,
    stepUp,
    oidc,
    passkeys,
    store: d.store,
    audit: d.audit,
    addressOf: d.addressOf,
    log,
  };
  let certListener: CertListener | undefined;
  let certUrl: string | undefined;
  if (c.certPort >= 0) {
    certListener = new CertListener(
      {
        host: c.host,
        port: c.certPort,
        serverCert: c.certServerCert!,
        serverKey: c.certServerKey!,
        ca: c.certCa!,
        crl: c.certCrl!,
      },
      certRouter(routeDeps).handle,
    );
    const listening = await certListener.listen();
    certUrl = c.certPublicUrl ?? listening;
  }
  addAuthRoutes({ ...routeDeps, router: d.router, certUrl });
  return {
    keys,
    sessions,
    revocations,
    stepUp,
    oidc,
    passkeys,
    certUrl,
    async close() {
      keys.stop();
      revocations.stop();
      await certListener?.close();
    },
  };
}

function dropConnections(d: SignInDeps, r: Revocation): void {
  let dropped = 0;
  for (const conn of d.connections()) {
    const t = conn.principal.token;
    if (t.org !== r.org || t.sub !== r.sub) continue;
    if (r.kind === 'session' && t.sid !== r.sid) continue;
    conn.socket.disconnect(true);
    dropped++;
  }
  d.closeDocConnections(r.org, r.sub, r.kind === 'session' ? r.sid : undefined);
  d.log.info({ org: r.org, sub: r.sub, kind: r.kind, dropped }, 'sign-in: revoked, live connections dropped');
}

function redisBus(r: NonNullable<SignInDeps['redis']>, log: Logger): RevocationBus {
  const channel = `${r.prefix}auth:revoked`;
  const listeners: Array<(rev: Revocation) => void> = [];
  r.sub.on('message', (ch, message) => {
    if (ch !== channel) return;
    try {
      const { node, rev } = JSON.parse(message) as { node: string; rev: Revocation };
      if (node === r.nodeId) return;
      for (const fn of listeners) fn(rev);
    } catch (err) {
      log.error({ err }, 'sign-in: a revocation message could not be read');
    }
  });
  r.sub.subscribe(channel).catch((err: unknown) => log.error({ err }, 'sign-in: revocation channel not subscribed'));
  return {
    publish: async (rev) => {
      await r.cmd.publish(channel, JSON.stringify({ node: r.nodeId, rev }));
    },
    onRevoked: (fn) => listeners.push(fn),
  };
}
