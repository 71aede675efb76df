/**
 * The sign-in routes: JWKS, session refresh and logout, revocation of people who left, OIDC,
 * passkeys, step-up; and on the mutual-TLS listener, certificate sign-in and step-up. Every
 * attempt is rate-limited per address and per account and audited (`auth.sign-in`,
 * `auth.sign-in-failed`, `auth.logout`, `auth.revoke`, `auth.step-up`).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { MoimError } from '@moim/protocol';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { bearerToken, HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore, AuthStore } from '../storage/index.ts';
import { certificatePerson, clientCertificate } from './CertSignIn.ts';
import { OIDC_COOKIE, type OidcSignIn } from './OidcSignIn.ts';
import { credentialResponseSchema, type Passkeys } from './Passkeys.ts';
import { Principal } from './Principal.ts';
import type { Revocations } from './Revocations.ts';
import type { SessionKeys } from './SessionKeys.ts';
import type { AuthMethod, IssuedSession, Sessions } from './Sessions.ts';
import type { SignInLimits } from './SignInLimits.ts';
import type { StepUp } from './StepUp.ts';
import type { TokenService, VerifiedToken } from './TokenService.ts';

export interface AuthRouteDeps {
  router: HttpRouter;
  config: Config;
  tokens: TokenService;
  sessions: Sessions;
  keys: SessionKeys;
  revocations: Revocations;
  limits: SignInLimits;
  stepUp: StepUp;
  oidc: OidcSignIn | undefined;
  passkeys: Passkeys | undefined;
  store: AuthStore;
  audit: AuditStore;
  addressOf: (req: IncomingMessage) => string;
  log: Logger;
  certUrl?: string | undefined;
}

const personSchema = z
  .object({
    sub: z.string().min(1).max(128),
  })
  .strict();
const assertionBody = z.object({ response: credentialResponseSchema }).strict();

const answer = (s: IssuedSession) => ({ body: { token: s.token, claims: s.claims, expiresAt: s.expiresAt } });

export function addAuthRoutes(d: AuthRouteDeps): void {
  const r = d.router;
  const principalOf = (ctx: RouteContext): Principal => new Principal(d.tokens.verify(bearerToken(ctx.req, ctx.url)));

  r.add('GET', '/.well-known/jwks.json', async ({ res }) => {
    res.setHeader('cache-control', 'public, max-age=60');
    return { body: d.keys.jwks() };
  });

  /** Which sign-in methods this server offers (the web app's sign-in page reads it). */
  r.add('GET', '/auth/methods', async () => ({
    body: {
      oidc: d.oidc !== undefined,
      passkeys: d.passkeys !== undefined,
      certificate: d.certUrl ?? null,
      dev: d.config.devTokensEnabled,
      stepUp: d.stepUp.required,
    },
  }));

  r.add('POST', '/auth/session/refresh', async (ctx) => {
    const t = principalOf(ctx).token;
    return answer(d.sessions.refresh(t, sstOf(t)));
  }).body('none');

  r.add('POST', '/auth/logout', async (ctx) => {
    const principal = principalOf(ctx);
    await d.sessions.logout(principal.token);
    await d.audit.append({ actor: principal.sub, action: 'auth.logout', detail: { org: principal.token.org } });
    return { body: { ok: true } };
  }).body('none');

  // people who left: every token of theirs refused at once, live connections dropped (admins, own org)
  r.add('POST', '/auth/revocations', async (ctx) => {
    const admin = requireAdmin(principalOf(ctx));
    const body = await readJson(ctx.req, personSchema, d.config.maxBodyBytes);
    await d.revocations.revoke({ kind: 'person', org: admin.token.org, sub: body.sub, at: Date.now() }, admin.sub);
    await d.audit.append({
      actor: admin.sub,
      action: 'auth.revoke',
      target: body.sub,
      detail: { org: admin.token.org },
    });
    return { body: { revoked: body.sub } };
  });
  r.add('DELETE', '/auth/revocations/:sub', async (ctx) => {
    const admin = requireAdmin(principalOf(ctx));
    const sub = personSchema.shape.sub.safeParse(ctx.params.sub);
    if (!sub.success) throw new MoimError('INVALID_PAYLOAD', 'sub: a person id');
    const done = await d.revocations.reinstate(admin.token.org, sub.data);
    if (!done) throw new MoimError('NOT_FOUND', `${sub.data} is not revoked`);
    await d.audit.append({
      actor: admin.sub,
      action: 'auth.reinstate',
      target: sub.data,
      detail: { org: admin.token.org },
    });
    return { body: { reinstated: sub.data } };
  });

  if (d.oidc) {
    const oidc = d.oidc;
    r.add('GET', '/auth/oidc/start', async (ctx) => {
      await d.limits.address(d.addressOf(ctx.req));
      const { url, cookie } = await oidc.start();
      const secure = ctx.req.socket && (ctx.req.socket as TLSSocket).encrypted ? '; Secure' : '';
      ctx.res.writeHead(302, {
        location: url,
        'set-cookie': `${OIDC_COOKIE}=${cookie}; HttpOnly; SameSite=Lax; Path=/auth/oidc; Max-Age=${d.config.authChallengeTtlS}${secure}`,
        'cache-control': 'no-store',
      });
      ctx.res.end();
      return undefined;
    });
    r.add('GET', '/auth/oidc/callback', async (ctx) => {
      await d.limits.address(d.addressOf(ctx.req));
      let issued: IssuedSession;
      try {
        const person = await oidc.finish(ctx.url.searchParams, cookieOf(ctx.req, OIDC_COOKIE));
        await d.limits.account(`${person.org}\0${person.sub}`);
        issued = await signIn(d, person.org, person.sub, person.profile, ['oidc'], ctx.req);
      } catch (err) {
        await failed(d, 'oidc', ctx.req, err);
        // a browser goes back to the web app, which shows the code's text; API clients get JSON
        if (err instanceof MoimError && (ctx.req.headers.accept ?? '').includes('text/html')) {
          ctx.res.writeHead(302, { location: `/#signin-error=${err.code}`, 'cache-control': 'no-store' });
          ctx.res.end();
          return undefined;
        }
        throw err;
      }
      // the web app reads the token from the fragment (never sent to a server, not in logs)
      ctx.res.writeHead(302, {
        location: `/#token=${encodeURIComponent(issued.token)}`,
        'set-cookie': `${OIDC_COOKIE}=; HttpOnly; SameSite=Lax; Path=/auth/oidc; Max-Age=0`,
        'cache-control': 'no-store',
      });
      ctx.res.end();
      return undefined;
    });
  }

  if (d.passkeys) {
    const passkeys = d.passkeys;
    r.add('POST', '/auth/passkeys/register/options', async (ctx) => {
      const p = principalOf(ctx);
      // each options call stores a challenge: bounded like sign-in attempts
      await d.limits.address(d.addressOf(ctx.req));
      return { body: { options: await passkeys.registrationOptions(p.token.org, p.sub, p.name) } };
    }).body('none');
    r.add('POST', '/auth/passkeys/register', async (ctx) => {
      const p = principalOf(ctx);
      const body = await readJson(ctx.req, assertionBody, d.config.maxBodyBytes);
      const { id } = await passkeys.register(p.token.org, p.sub, body.response);
      // the profile passkey sign-ins will carry: the registering session's
      await d.store.putAccount(p.token.org, p.sub, {
        name: p.name,
        site: p.token.site,
        role: p.token.role,
        teams: p.token.teams,
      });
      await d.audit.append({ actor: p.sub, action: 'auth.passkey-registered', detail: { org: p.token.org, id } });
      return { status: 201, body: { id } };
    });
    r.add('POST', '/auth/passkeys/login/options', async (ctx) => {
      await d.limits.address(d.addressOf(ctx.req));
      return { body: { options: await passkeys.authenticationOptions() } };
    }).body('none');
    r.add('POST', '/auth/passkeys/login', async (ctx) => {
      await d.limits.address(d.addressOf(ctx.req));
      const body = await readJson(ctx.req, assertionBody, d.config.maxBodyBytes);
      try {
        await d.limits.account(`passkey\0${body.response.id}`);
        const who = await passkeys.authenticate(body.response);
        const profile = await d.store.account(who.org, who.sub);
        if (!profile) throw new MoimError('SIGN_IN_FAILED', 'the passkey’s account is gone');
        return answer(await signIn(d, who.org, who.sub, profile, ['passkey'], ctx.req));
      } catch (err) {
        await failed(d, 'passkey', ctx.req, err);
        throw err;
      }
    });
    r.add('POST', '/auth/step-up/passkey/options', async (ctx) => {
      const p = principalOf(ctx);
      await d.limits.address(d.addressOf(ctx.req));
      return { body: { options: await passkeys.authenticationOptions({ org: p.token.org, sub: p.sub }) } };
    }).body('none');
    r.add('POST', '/auth/step-up/passkey', async (ctx) => {
      const p = principalOf(ctx);
      await d.limits.account(`${p.token.org}\0${p.sub}`);
      const body = await readJson(ctx.req, assertionBody, d.config.maxBodyBytes);
      try {
        await passkeys.authenticate(body.response, { org: p.token.org, sub: p.sub });
      } catch (err) {
        await failed(d, 'passkey-step-up', ctx.req, err);
        throw err;
      }
      await d.audit.append({ actor: p.sub, action: 'auth.step-up', detail: { org: p.token.org, method: 'passkey' } });
      return answer(d.sessions.stepUp(p.token, 'passkey', sstOf(p.token)));
    });
  }
}

/** The router of the mutual-TLS listener: certificate sign-in and certificate step-up. */
export function certRouter(d: Omit<AuthRouteDeps, 'router'>): HttpRouter {
  const router = new HttpRouter(d.log);
  addCertRoutes({ ...d, router });
  return router;
}

function addCertRoutes(d: AuthRouteDeps): void {
  d.router
    .add('POST', '/auth/certificate', async (ctx) => {
      await d.limits.address(d.addressOf(ctx.req));
      try {
        const cert = clientCertificate(ctx.req.socket as TLSSocket);
        await d.limits.account(`${cert.provider}\0${cert.subject}`);
        const who = await certificatePerson(d.store, cert, d.config.certClaims);
        return answer(await signIn(d, who.org, who.sub, who.profile, ['x509'], ctx.req));
      } catch (err) {
        await failed(d, 'x509', ctx.req, err);
        throw err;
      }
    })
    .body('none');
  d.router
    .add('POST', '/auth/step-up/certificate', async (ctx) => {
      const p = new Principal(d.tokens.verify(bearerToken(ctx.req, ctx.url)));
      await d.limits.account(`${p.token.org}\0${p.sub}`);
      try {
        const cert = clientCertificate(ctx.req.socket as TLSSocket);
        const link = await d.store.linkOf(cert.provider, cert.subject);
        if (!link || link.org !== p.token.org || link.sub !== p.sub)
          throw new MoimError('SIGN_IN_FAILED', 'this certificate is not linked to the signed-in person');
      } catch (err) {
        await failed(d, 'x509-step-up', ctx.req, err);
        throw err;
      }
      await d.audit.append({ actor: p.sub, action: 'auth.step-up', detail: { org: p.token.org, method: 'x509' } });
      return answer(d.sessions.stepUp(p.token, 'x509', sstOf(p.token)));
    })
    .body('none');
}

async function signIn(
  d: AuthRouteDeps,
  org: string,
  sub: string,
  profile: Parameters<Sessions['issue']>[2],
  amr: AuthMethod[],
  req: IncomingMessage,
): Promise<IssuedSession> {
  if (d.revocations.isPersonRevoked(org, sub)) throw new MoimError('TOKEN_REVOKED', 'this person’s access was revoked');
  const issued = d.sessions.issue(org, sub, profile, amr);
  await d.audit.append({
    actor: sub,
    action: 'auth.sign-in',
    detail: { org, method: amr[0], address: d.addressOf(req), sid: issued.sid },
  });
  return issued;
}

async function failed(d: AuthRouteDeps, method: string, req: IncomingMessage, err: unknown): Promise<void> {
  if (!(err instanceof MoimError)) return;
  await d.audit
    .append({
      actor: 'anonymous',
      action: 'auth.sign-in-failed',
      detail: { method, code: err.code, reason: err.message.slice(0, 200), address: d.addressOf(req) },
    })
    .catch((auditErr: unknown) => d.log.error({ err: auditErr, method }, 'sign-in: auditing a failure failed'));
}

function requireAdmin(p: Principal): Principal {
  if (!p.isAdmin) throw new MoimError('FORBIDDEN', 'only admins revoke access');
  return p;
}

/** When the caller's session began (`sst`), for the session's maximum age. */
function sstOf(t: VerifiedToken): number {
  return t.sst ?? Math.floor(Date.now() / 1000);
}

/** One cookie of a request (names and values are plain; a malformed header finds nothing). */
export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
