import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../support/serverProcess.ts';
import { launchBrowser, type Person, type ServerProcess, signIn, startServer } from './harness.ts';

/**
 * Issue 17: passkeys in Chromium with a DevTools virtual authenticator (CTAP2, resident keys,
 * user verification) on http://localhost (the relying-party id is `localhost`, never an IP): a
 * person registers a passkey from the web app, signs out, signs in with the passkey alone, and
 * gets a moim session token; before that, approving a document asks for the passkey again
 * (step-up) and goes through; the captured sign-in answer replayed later is refused (its
 * challenge was used). The unverified-user refusal is tested on the server with a crafted
 * assertion (test/auth-passkeys.test.ts): Chromium will not send one when verification is required.
 */
describe('passkeys in the web app', () => {
  let server: ServerProcess;
  let browser: Browser;
  let person: Person;
  let url: string;

  beforeAll(async () => {
    server = await startServer({ MOIM_PASSKEY_RP_ID: 'localhost', MOIM_STEP_UP: 'on' });
    url = server.url.replace('127.0.0.1', 'localhost');
    browser = await launchBrowser();
    person = await signIn(browser, url, { name: 'Passkey Person', site: 'hq', role: 'manager', lang: 'en' });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('registers a passkey, signs in with it, and a replayed answer is refused', async () => {
    const { page } = person;
    const cdp = await person.context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    await page.locator('#passkey-register').click();
    await page.locator('.toast', { hasText: 'Passkey added' }).waitFor({ timeout: 20_000 });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(true);
    expect(credentials[0]!.rpId).toBe('localhost');

    // step-up: approving needs a fresh passkey; the app proves it and sends the decision again
    const me = await page.evaluate(
      () => (JSON.parse(sessionStorage.getItem('moim.identity') ?? '{}') as { sub: string }).sub,
    );
    const ann = await devToken(server.url, { name: 'Ann', sub: 'ann-e2e', role: 'member' });
    const api = async (path: string, body: unknown) =>
      (await (
        await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ann}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as { approval: { id: string } };
    const created = await api('/approvals', { title: 'New chair', body: 'For the meeting room', approvers: [me] });
    await api(`/approvals/${created.approval.id}/submit`, {});
    await page.goto(`${url}/#/approvals/${created.approval.id}`);
    await page.locator(`.approval-head[data-approval="${created.approval.id}"][data-status="pending"]`).waitFor();
    const stepUps: number[] = [];
    page.on('response', (res) => {
      if (res.url().endsWith('/auth/step-up/passkey')) stepUps.push(res.status());
    });
    await page.locator('#approve').click();
    await page.locator(`.approval-head[data-approval="${created.approval.id}"][data-status="approved"]`).waitFor({
      timeout: 20_000,
    });
    expect(stepUps).toEqual([200]);

    await page.locator('header.top button', { hasText: 'Sign out' }).click();
    const answers: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/auth/passkeys/login') && req.method() === 'POST') answers.push(req.postData() ?? '');
    });
    await page.locator('#signin-passkey').click();
    await page.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
    await expect(page.locator('header.top .me-name').textContent()).resolves.toBe('Passkey Person');
    const token = await page.evaluate(
      () => (JSON.parse(sessionStorage.getItem('moim.identity') ?? '{}') as { token?: string }).token ?? '',
    );
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      amr: string[];
      role: string;
    };
    expect(payload).toMatchObject({ amr: ['passkey'], role: 'manager' });
    expect(person.errors).toEqual([]);

    // the sign-in answer Chromium sent, replayed: its challenge is gone
    expect(answers).toHaveLength(1);
    const replay = await fetch(`${server.url}/auth/passkeys/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: answers[0],
    });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: { code: 'SIGN_IN_FAILED' } });
  });
});
