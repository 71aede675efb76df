import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProvider, type TestProvider } from '../support/oidcProvider.ts';
import { launchBrowser, type ServerProcess, startServer } from './harness.ts';

/**
 * Issue 17: single sign-on from the web app in Chromium against a real OpenID Connect provider
 * (`oidc-provider`, login and consent answered at once): the SSO button leads through the
 * provider (authorization code + PKCE) back to the app, signed in as the person the provider's
 * claims describe, with a moim session token; signing out ends that session on the server.
 */
describe('single sign-on in the web app', () => {
  let idp: TestProvider;
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    idp = await startTestProvider();
    server = await startServer({
      MOIM_ENV: 'test',
      MOIM_OIDC_ISSUER: idp.issuer,
      MOIM_OIDC_CLIENT_ID: 'moim',
      MOIM_OIDC_CLIENT_SECRET: 'moim-client-secret-0123456789',
      MOIM_OIDC_ALLOW_INSECURE: 'true',
      MOIM_OIDC_CLAIMS: JSON.stringify({ org: 'org', role: 'roles', roles: { manager: ['lead'] } }),
    });
    idp.configure([
      {
        client_id: 'moim',
        client_secret: 'moim-client-secret-0123456789',
        redirect_uris: [`http://localhost:${server.port}/auth/oidc/callback`],
      },
    ]);
    idp.accounts.set('sso-7', { name: 'Seo Yeon', org: 'default', roles: ['lead'] });
    idp.next.account = 'sso-7';
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await idp?.close();
  });

  it('signs in through the provider and out again', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://localhost:${server.port}/`);
    await page.locator('#signin-oidc').click();
    await page.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
    await expect(page.locator('header.top .me-name').textContent()).resolves.toBe('Seo Yeon');
    // the token left the address bar
    expect(new URL(page.url()).hash).not.toContain('token=');
    const token = await page.evaluate(
      () => (JSON.parse(sessionStorage.getItem('moim.identity') ?? '{}') as { token?: string }).token ?? '',
    );
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      amr: string[];
      role: string;
    };
    expect(claims).toMatchObject({ amr: ['oidc'], role: 'manager' });

    await page.locator('header.top button', { hasText: 'Sign out' }).click();
    await page.locator('#signin-name').waitFor();
    const res = await fetch(`${server.url}/approvals?role=applicant`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await res.json()).toMatchObject({ error: { code: 'TOKEN_REVOKED' } });
    // a refused callback (a made-up state) lands on the sign-in page with the code's text
    await page.goto(`http://localhost:${server.port}/auth/oidc/callback?state=made-up`);
    await page.locator('form.signin .error', { hasText: 'Sign-in failed' }).waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).hash).toBe('');
    expect(errors).toEqual([]);
    await context.close();
  });
});
