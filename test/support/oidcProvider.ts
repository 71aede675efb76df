/**
 * A real OpenID Connect provider for tests (`oidc-provider` v9) on a free loopback port. Its
 * login and consent steps are answered at once for the account `next.account` (no forms), so a
 * test drives the whole authorization-code flow with plain HTTP and a cookie jar.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestAccount {
  name: string;
  email?: string;
  org?: string;
  site?: string;
  groups?: string[];
  roles?: string[];
}

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface TestProvider {
  issuer: string;
  /** The account the next login is for. */
  next: { account: string };
  /** Accounts by id (the provider's `sub`). */
  accounts: Map<string, TestAccount>;
  /** Register the clients (once the redirect URIs are known) and start answering. */
  configure(clients: TestClient[]): void;
  close(): Promise<void>;
}

export async function startTestProvider(): Promise<TestProvider> {
  let handler: ((req: Parameters<Server['emit']>[1], res: unknown) => void) | undefined;
  const http = createServer((req, res) => {
    if (!handler) {
      res.writeHead(503).end();
      return;
    }
    handler(req as never, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const accounts = new Map<string, TestAccount>();
  const next = { account: '' };
  return {
    issuer,
    next,
    accounts,
    configure(clients) {
      const provider = new Provider(issuer, {
        clients: clients.map((c) => ({
          ...c,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        })),
        pkce: { required: () => true },
        cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
        features: { devInteractions: { enabled: false } },
        conformIdTokenClaims: false,
        ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
        claims: {
          openid: ['sub'],
          profile: ['name', 'org', 'site', 'groups', 'roles'],
          email: ['email'],
        },
        findAccount: (_ctx: unknown, id: string) => {
          const account = accounts.get(id);
          if (!account) return undefined;
          return { accountId: id, claims: () => ({ sub: id, ...account }) };
        },
      });
      const callback = provider.callback();
      handler = (req, res) => {
        const r = req as unknown as import('node:http').IncomingMessage;
        const s = res as import('node:http').ServerResponse;
        if (r.url?.startsWith('/interaction/')) {
          void interact(provider, r, s, next.account).catch((err: unknown) => {
            s.writeHead(500).end(String(err));
          });
          return;
        }
        void callback(r, s);
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** Answer the login or consent step for `account` at once. */
async function interact(
  provider: Provider,
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  account: string,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: account } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant!.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

/** A cookie jar good enough for one provider and one moim: every cookie goes back to its host. */
export class CookieJar {
  readonly #byHost = new Map<string, Map<string, string>>();
  store(url: string, res: Response): void {
    const host = new URL(url).host;
    const jar = this.#byHost.get(host) ?? new Map<string, string>();
    this.#byHost.set(host, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  }
  header(url: string): string {
    const jar = this.#byHost.get(new URL(url).host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }
  get(url: string, name: string): string | undefined {
    return this.#byHost.get(new URL(url).host)?.get(name);
  }
}
