import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  docText,
  ensureSite,
  expectFlowing,
  launchBrowser,
  type Person,
  type ServerProcess,
  shot,
  shots,
  shownErrors,
  signIn,
  startServer,
} from './harness.ts';

const roomNotesName = (url: string) => `room-${decodeURIComponent(url.split('/').pop()!)}-notes`;

/**
 * Two people at two sites (HQ and the Sejong smart office), each in their own browser context,
 * against the server started as `npm start` starts it.
 */
describe('two people at two sites', () => {
  let server: ServerProcess;
  let browser: Browser;
  let kim: Person;
  let lee: Person;
  let roomUrl = '';

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    // the sign-in page, at both widths and in both languages
    for (const locale of ['ko-KR', 'en-US']) {
      const context = await browser.newContext({ locale, viewport: DESKTOP });
      const page = await context.newPage();
      await page.goto(server.url);
      await page.locator('#signin-name').waitFor();
      await shots(page, `signin-${locale.slice(0, 2)}`);
      await context.close();
    }
    // sites are the organisation's data: the Sejong centre exists before anyone signs in
    await ensureSite(server.url, 'so-sejong');
    kim = await signIn(browser, server.url, { name: '김민준', site: 'hq', role: 'manager', lang: 'ko' });
    lee = await signIn(browser, server.url, { name: 'Lee Seo-yeon', site: 'so-sejong', lang: 'en' });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  afterEach(async (c) => {
    if (c.task.result?.state === 'fail')
      for (const p of [kim, lee])
        await shot(p.page, `failed-${c.task.name.slice(0, 30).replace(/\W+/g, '-')}-${p.site}`);
    // any uncaught error in either page fails the test that caused it
    const errors = [...kim.errors.splice(0), ...lee.errors.splice(0)];
    expect(errors).toEqual([]);
    // and nothing went wrong that the app had to show
    expect([...(await shownErrors(kim)), ...(await shownErrors(lee))]).toEqual([]);
  });

  it('each sees the other on the presence board, grouped by site', async () => {
    await kim.page
      .locator('.site[data-site="so-sejong"] .person-name', { hasText: 'Lee Seo-yeon' })
      .waitFor({ timeout: 20_000 });
    await lee.page.locator('.site[data-site="hq"] .person-name', { hasText: '김민준' }).waitFor({ timeout: 20_000 });
    // a status message typed by one person shows as text for the other
    await lee.page.locator('#my-status').fill('<b>회의 준비</b> & notes');
    await lee.page.locator('.my-status button[type=submit]').click();
    await kim.page
      .locator('.person[data-sub] .person-status', { hasText: '<b>회의 준비</b> & notes' })
      .waitFor({ timeout: 15_000 });
    expect(await kim.page.locator('.person-status b').count()).toBe(0);
    await shots(kim.page, 'presence-ko');
    await shots(lee.page, 'presence-en');
    // the interface language switches at once (and back)
    await kim.page.locator('header select.lang').selectOption('en');
    await kim.page.locator('header nav a[data-route="presence"]', { hasText: 'People' }).waitFor();
    await kim.page.locator('.site-group[data-kind="hq"] h2', { hasText: 'Headquarters' }).waitFor();
    await kim.page.locator('header select.lang').selectOption('ko');
    await kim.page.locator('header nav a[data-route="presence"]', { hasText: '근무 현황' }).waitFor();
  });

  it('a chat message goes both ways', async () => {
    await kim.page.goto(`${server.url}/#/chat`);
    // the chat opens the person's site channel first
    await kim.page.waitForURL(/#\/chat\/site-hq$/);
    // the view for the site channel has rendered (the URL changes before it does): fill its form, not the old one
    await kim.page.locator('a[data-channel="site-hq"][aria-current="page"]').waitFor();
    await kim.page.locator('#new-channel').fill('본부-세종 협업');
    await kim.page.locator('.new-channel button[type=submit]').click();
    await expect.poll(() => new URL(kim.page.url()).hash, { timeout: 15_000 }).toMatch(/^#\/chat\/(?!site-)[^/]+$/);
    const channelPath = new URL(kim.page.url()).hash;
    await lee.page.goto(`${server.url}/${channelPath}`);
    await lee.page.locator('.conversation-head h1').waitFor();

    const hostile = '<img src=x onerror="window.__pwned=1"> 안녕하세요';
    await kim.page.locator('.compose-main').fill(hostile);
    await kim.page.locator('.compose-main').press('Enter');
    await lee.page.locator('#messages .message .body', { hasText: '안녕하세요' }).waitFor({ timeout: 15_000 });
    expect(await lee.page.locator('#messages .message .body').first().textContent()).toBe(hostile);
    expect(await lee.page.locator('#messages img').count()).toBe(0);
    expect(await lee.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    await lee.page.locator('.compose-main').fill('Hello from Sejong');
    await lee.page.locator('.composer button[type=submit]').click();
    await kim.page.locator('#messages .message .body', { hasText: 'Hello from Sejong' }).waitFor({ timeout: 15_000 });
    await shots(kim.page, 'chat-ko');
    await shots(lee.page, 'chat-en');
  });

  it('both join a standard room, receive each other’s video and audio, and write the notes together', async () => {
    await kim.page.goto(`${server.url}/#/meeting`);
    await kim.page.locator('#meeting-name').fill('주간 회의');
    await kim.page.locator('input[name=tier][value=standard]').check();
    await shots(kim.page, 'meeting-lobby-ko');
    await kim.page.locator('#new-meeting button[type=submit]').click();
    await kim.page.waitForURL(/#\/meeting\/[^/]+$/);
    roomUrl = kim.page.url();
    await lee.page.goto(roomUrl);

    for (const p of [kim, lee]) await p.page.locator('#stage .tile video').nth(1).waitFor({ timeout: 30_000 });
    // each receives the other's camera (frames decoded keep growing) and microphone (bytes keep growing)
    for (const p of [kim, lee]) {
      await expectFlowing(p.page, (f) => f.kind === 'video' && f.source === 'camera', 1);
      await expectFlowing(p.page, (f) => f.kind === 'audio', 1);
    }
    // the standard tier publishes three simulcast layers
    const encodings = await kim.page.evaluate(() => {
      const w = window as unknown as {
        __moim: {
          ctx: {
            meeting: { room: { senderParameters(s: string): RTCRtpSendParameters | undefined } };
          };
        };
      };
      return w.__moim.ctx.meeting.room.senderParameters('camera')?.encodings.map((e) => e.maxBitrate);
    });
    expect(encodings).toEqual([150_000, 500_000, 1_500_000]);

    // shared notes beside the meeting converge
    await kim.page.locator('#notes .cm-content').click();
    await kim.page.keyboard.type('회의록: 예산 검토. ');
    await lee.page.locator('#notes .cm-content').click();
    await lee.page.keyboard.press('End');
    await lee.page.keyboard.type('Action: Lee drafts the plan.');
    const notes = (p: Person) => docText(p, roomNotesName(roomUrl));
    for (const p of [kim, lee]) {
      await expect
        .poll(() => notes(p), { timeout: 15_000 })
        .toMatch(
          /회의록: 예산 검토\..*Action: Lee drafts the plan\.|Action: Lee drafts the plan\..*회의록: 예산 검토\./,
        );
    }
    expect(await notes(kim)).toBe(await notes(lee));
    // raise hand: the other side sees it on the tile
    await lee.page.locator('#ctl-hand').click();
    await kim.page.locator('#stage .tile:not(.local) .flag.hand').waitFor({ timeout: 15_000 });
    // a moderator mutes the other person: their microphone shows muted on both sides
    await kim.page.locator('#stage .tile:not(.local)').hover();
    await kim.page.locator('#stage .tile:not(.local) .mod-menu button').first().click();
    await lee.page.locator('#ctl-mic[aria-pressed="true"]').waitFor({ timeout: 15_000 });
    await kim.page.locator('#stage .tile:not(.local) .flag.muted').waitFor({ timeout: 15_000 });
    await shots(kim.page, 'meeting-standard-ko');
    await shots(lee.page, 'meeting-standard-en');
  });

  it('one leaves and the other sees it', async () => {
    const tilesBefore = await kim.page.locator('#stage .tile').count();
    expect(tilesBefore).toBe(2);
    await lee.page.locator('#ctl-leave').click();
    await lee.page.waitForURL(/#\/meeting$/);
    await expect.poll(() => kim.page.locator('#stage .tile').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(async () => (await kim.page.locator('.meeting-head').textContent()) ?? '').toMatch(/1/);
    await shots(kim.page, 'meeting-alone-ko');
  });

  it('documents: a standalone document edited by both converges', async () => {
    await kim.page.goto(`${server.url}/#/docs`);
    await kim.page.locator('#new-doc-name').fill('plan-2026');
    await kim.page.locator('.docs-page form button[type=submit]').click();
    await kim.page.waitForURL(/#\/docs\/plan-2026$/);
    await lee.page.goto(`${server.url}/#/docs/plan-2026`);
    await kim.page.locator('.editor-box .cm-content').click();
    await kim.page.keyboard.type('2026 계획');
    await lee.page.locator('.editor-box .cm-content', { hasText: '2026 계획' }).waitFor({ timeout: 15_000 });
    await lee.page.locator('.editor-box .cm-content').click();
    await lee.page.keyboard.press('End');
    await lee.page.keyboard.type(' — reviewed');
    await kim.page.locator('.editor-box .cm-content', { hasText: '2026 계획 — reviewed' }).waitFor({ timeout: 15_000 });
    // remote cursor of the other person, with their name
    await kim.page.locator('.cm-ySelectionInfo', { hasText: 'Lee Seo-yeon' }).waitFor({ state: 'attached' });
    await shots(kim.page, 'document-ko');
    await lee.page.goto(`${server.url}/#/docs`);
    await lee.page.locator('.doc-row', { hasText: 'plan-2026' }).waitFor();
    await shots(lee.page, 'documents-en');
  });
});
