/**
 * Calls that ring, in Chromium (issue 16): a caller calls a callee who has two open pages (two
 * devices); both ring; one answers; media flows both ways; the other page stops ringing. A second
 * call goes unanswered and shows in the DM as a missed call.
 *
 * The browser runs WITHOUT an autoplay flag. Whether headless Chromium lets a page play the
 * ringtone is its own policy: the first callee page rings with sound or a notification; on the
 * second page `play()` is refused the way a browser refuses autoplay (NotAllowedError), and the
 * app must fall back to a Notification (allowed for the callee here). The banner says which.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  expectFlowing,
  launchBrowser,
  type Person,
  type ServerProcess,
  shot,
  shownErrors,
  signIn,
  startServer,
} from './harness.ts';

const RING_MS = 12_000;

interface Identity {
  name: string;
  site: string;
  role: string;
  sub: string;
}

const identityOf = (p: Page): Promise<Identity> =>
  p.evaluate(() => (window as unknown as { __moim: { ctx: { identity: Identity } } }).__moim.ctx.identity);

/** The same person's second device: another browser context (its own device id) signed in as them. */
async function secondDevice(
  browser: Browser,
  url: string,
  who: Identity,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'Asia/Seoul',
    permissions: ['camera', 'microphone', 'notifications'],
  });
  await context.addInitScript((id: Identity) => {
    localStorage.setItem('moim.debug', '1');
    sessionStorage.setItem('moim.identity', JSON.stringify(id));
    // this device refuses sound before a gesture, as browsers do by default
    HTMLMediaElement.prototype.play = function refuse(this: HTMLMediaElement) {
      return Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError'));
    };
  }, who);
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
  return { context, page };
}

const banner = (p: Page) => p.locator('.call-banner.incoming');

/** The id of the DM of this page's person with `other` (opened through the app's client). */
const dmWith = (p: Page, other: string): Promise<string> =>
  p.evaluate(async (sub) => {
    const w = window as unknown as {
      __moim: { ctx: { client: { request(n: string, d: unknown): Promise<{ id: string }> } } };
    };
    return (await w.__moim.ctx.client.request('chat:dm:open', { people: [sub] })).id;
  }, other);

describe('calls that ring in the browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let caller: Person;
  let callee: Person;
  let calleeOther: { context: BrowserContext; page: Page };
  let calleeId: Identity;
  let callerId: Identity;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await startServer({ MOIM_CALL_RING_TIMEOUT_MS: String(RING_MS) });
    browser = await launchBrowser({ autoplay: false });
    caller = await signIn(browser, server.url, { name: 'Caller Kim', site: 'hq', lang: 'en' });
    callee = await signIn(browser, server.url, { name: 'Callee Lee', site: 'home', lang: 'en' });
    await callee.context.grantPermissions(['camera', 'microphone', 'notifications'], { origin: server.url });
    calleeId = await identityOf(callee.page);
    callerId = await identityOf(caller.page);
    calleeOther = await secondDevice(browser, server.url, calleeId);
    calleeOther.page.on('pageerror', (err) => pageErrors.push(`callee's second page: ${err.stack ?? err.message}`));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  afterEach(async (c) => {
    if (c.task.result?.state === 'fail')
      for (const [name, page] of [
        ['caller', caller.page],
        ['callee', callee.page],
        ['callee-2', calleeOther.page],
      ] as const)
        await shot(page, `failed-calls-${name}`);
    expect([...caller.errors.splice(0), ...callee.errors.splice(0), ...pageErrors.splice(0)]).toEqual([]);
    expect([...(await shownErrors(caller)), ...(await shownErrors(callee))]).toEqual([]);
  });

  it('both callee pages ring; one answers; media flows both ways; the other page stops ringing', async () => {
    // the callee looks at the chat, the caller presses the callee's call button on the presence board
    await callee.page.goto(`${server.url}/#/chat`);
    await callee.page.waitForURL(/#\/chat\/./, { timeout: 10_000 }); // the chat view opens a channel
    const calleeWasOn = new URL(callee.page.url()).hash;
    await caller.page.goto(`${server.url}/#/presence`);
    const button = caller.page.locator(`li.person[data-sub="${calleeId.sub}"] .call-button`);
    await button.waitFor({ timeout: 20_000 });
    await button.click();
    await caller.page.locator('.call-banner.outgoing').waitFor({ timeout: 10_000 });

    // both of the callee's pages ring: with sound where the browser allows it, else a notification
    for (const p of [callee.page, calleeOther.page]) {
      await banner(p).waitFor({ timeout: 10_000 });
      await expect(banner(p).textContent()).resolves.toContain('Caller Kim');
    }
    await expect
      .poll(() => banner(callee.page).getAttribute('data-ringtone'), { timeout: 10_000 })
      .toMatch(/^(audio|notification)$/);
    await expect
      .poll(() => banner(calleeOther.page).getAttribute('data-ringtone'), { timeout: 10_000 })
      .toBe('notification');
    await shot(callee.page, 'call-incoming-en-desktop');

    // answer on the first page: the second stops ringing at once
    await banner(callee.page).locator('.call-accept').click();
    await expect.poll(() => banner(calleeOther.page).count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => calleeOther.page.locator('.call-banner').count()).toBe(0);

    // caller and callee are in the call's room, media flowing both ways
    await callee.page.waitForURL(/#\/meeting\/call-/, { timeout: 15_000 });
    await caller.page.waitForURL(/#\/meeting\/call-/, { timeout: 15_000 });
    expect(new URL(callee.page.url()).hash).toBe(new URL(caller.page.url()).hash);
    for (const p of [caller, callee]) {
      await expectFlowing(p.page, (f) => f.kind === 'video', 1);
      await expectFlowing(p.page, (f) => f.kind === 'audio', 1);
    }
    await caller.page.locator('.call-banner.active').waitFor();
    await shot(caller.page, 'call-active-en-desktop');

    // the caller hangs up: the call ends for both, and both leave the room
    await caller.page.locator('.call-banner.active .call-hangup').click();
    await expect.poll(() => callee.page.locator('.call-banner').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => caller.page.locator('.call-banner').count(), { timeout: 10_000 }).toBe(0);
    // the call's room closed with the call: both pages leave the ended meeting and go back where
    // each person was before the call (the callee's chat, the caller's presence board)
    for (const [p, hash, view] of [
      [callee.page, calleeWasOn, 'chat'],
      [caller.page, '#/presence', 'presence'],
    ] as const) {
      await expect.poll(() => new URL(p.url()).hash, { timeout: 10_000 }).toBe(hash);
      await expect.poll(() => p.locator('main#view').getAttribute('data-view')).toBe(view);
      await expect(p.locator('.meeting').count()).resolves.toBe(0);
      await expect(p.locator('.meeting-bar').isHidden()).resolves.toBe(true);
    }
  });

  it('a call from the DM nobody answers is missed and shows in the DM', async () => {
    // the caller calls from the DM's call button this time
    const callerDm = await dmWith(caller.page, calleeId.sub);
    await caller.page.goto(`${server.url}/#/chat/${encodeURIComponent(callerDm)}`);
    await caller.page.locator('.conversation-head .call-button').click();
    await caller.page.locator('.call-banner.outgoing').waitFor({ timeout: 10_000 });
    for (const p of [callee.page, calleeOther.page]) await banner(p).waitFor({ timeout: 10_000 });
    // nobody answers: after the ring timeout every page stops ringing
    for (const p of [callee.page, calleeOther.page])
      await expect.poll(() => banner(p).count(), { timeout: RING_MS + 10_000 }).toBe(0);

    // the callee opens the DM with the caller: the missed call is there
    const dmId = await dmWith(callee.page, callerId.sub);
    expect(dmId).toBe(callerDm);
    await callee.page.goto(`${server.url}/#/chat/${encodeURIComponent(dmId)}`);
    await expect
      .poll(() => callee.page.locator('#messages').textContent(), { timeout: 15_000 })
      .toContain('Missed call from Caller Kim');
    await shot(callee.page, 'call-missed-dm-en-desktop');
  });

  it("leaving the call's meeting with its Leave button hangs up, and both pages go back to their DM", async () => {
    // both are on their DM from the test before; the caller calls from it again
    const callerWasOn = new URL(caller.page.url()).hash;
    const calleeWasOn = new URL(callee.page.url()).hash;
    expect(callerWasOn).toMatch(/^#\/chat\/./);
    expect(calleeWasOn).toMatch(/^#\/chat\/./);
    await caller.page.locator('.conversation-head .call-button').click();
    await banner(callee.page).waitFor({ timeout: 10_000 });
    await banner(callee.page).locator('.call-accept').click();
    for (const p of [caller.page, callee.page]) await p.waitForURL(/#\/meeting\/call-/, { timeout: 15_000 });
    await callee.page.locator('.meeting #ctl-leave').click();

    // a call of two ends when one leaves: the call bars go, and each page is back where it was
    for (const [p, hash] of [
      [callee.page, calleeWasOn],
      [caller.page, callerWasOn],
    ] as const) {
      await expect.poll(() => p.locator('.call-banner').count(), { timeout: 10_000 }).toBe(0);
      await expect.poll(() => new URL(p.url()).hash, { timeout: 10_000 }).toBe(hash);
      await expect.poll(() => p.locator('main#view').getAttribute('data-view')).toBe('chat');
      await expect(p.locator('.meeting').count()).resolves.toBe(0);
    }
  });
});
