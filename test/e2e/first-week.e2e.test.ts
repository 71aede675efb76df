import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
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

/** Sign in again on a page whose person signed out (same browser context: same device). */
async function signInAgain(page: Page, who: { name: string; site: string; role?: string }): Promise<void> {
  await page.locator('#signin-name').fill(who.name);
  await page.locator('#signin-role').selectOption(who.role ?? 'member');
  await page.locator('form.signin[data-step="who"] button[type=submit]').click();
  await page.locator('#signin-site').selectOption(who.site);
  await page.locator('form.signin[data-step="where"] button[type=submit]').click();
  await page.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
}

function subOf(page: Page): Promise<string> {
  return page.evaluate(
    () => (window as unknown as { __moim: { ctx: { client: { me: { sub: string } } } } }).__moim.ctx.client.me.sub,
  );
}

/** The page's last messages and its toasts, as text. */
function pageSummary(page: Page): Promise<string> {
  return page.evaluate(() => {
    const texts = (selector: string) =>
      [...document.querySelectorAll(selector)].map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim());
    const messages = [...document.querySelectorAll('#messages .message')]
      .slice(-5)
      .map((e) => `[seq ${e.getAttribute('data-seq') ?? 'pending'}] ${(e.textContent ?? '').replace(/\s+/g, ' ')}`);
    return [...messages, ...texts('.toast').map((t) => `toast: ${t}`)].join('\n');
  });
}

/** Korean and emoji glyphs render from real fonts (Noto CJK / Noto Color Emoji), not boxes. */
async function expectFonts(page: Page, text: string): Promise<void> {
  const ok = await page.evaluate(async (s) => {
    await document.fonts.ready;
    return {
      cjk: document.fonts.check('16px "Noto Sans CJK KR"', s),
      emoji: document.fonts.check('16px "Noto Color Emoji"', '👍🎉'),
      // a glyph the fonts have is as wide as a CJK ideograph, not the narrow "missing glyph" box
      width: (() => {
        const c = document.createElement('canvas').getContext('2d')!;
        c.font = '16px "Noto Sans CJK KR", sans-serif';
        return c.measureText('가').width;
      })(),
    };
  }, text);
  expect(ok.cjk).toBe(true);
  expect(ok.emoji).toBe(true);
  expect(ok.width).toBeGreaterThan(12);
}

/**
 * A team's first week in the web app (issue 15): 김민준 at HQ in the Korean interface and Lee at
 * the Sejong smart office in English, against the server started as `npm start` starts it.
 */
describe('a team’s first week', () => {
  let server: ServerProcess;
  let browser: Browser;
  let kim: Person;
  let lee: Person;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
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
      for (const p of [kim, lee]) {
        await shot(p.page, `failed-fw-${c.task.name.slice(0, 30).replace(/\W+/g, '-')}-${p.site}`);
        // what each page showed, in the test's output (CI keeps no screenshots)
        console.error(`${p.name} at ${p.page.url()}:\n${await pageSummary(p.page)}`);
      }
    const errors = [...kim.errors.splice(0), ...lee.errors.splice(0)];
    expect(errors).toEqual([]);
    expect([...(await shownErrors(kim)), ...(await shownErrors(lee))]).toEqual([]);
  });

  it('signing in again as the same name keeps the person, their channels and direct messages', async () => {
    const before = await subOf(kim.page);
    // a channel of 김민준's and a direct message with Lee
    await kim.page.goto(`${server.url}/#/chat`);
    await kim.page.waitForURL(/#\/chat\/site-hq$/);
    await kim.page.locator('a[data-channel="site-hq"][aria-current="page"]').waitFor();
    await kim.page.locator('#new-channel').fill('본부 기획');
    await kim.page.locator('.new-channel button[type=submit]').click();
    await kim.page.locator('.channels a', { hasText: '본부 기획' }).waitFor({ timeout: 15_000 });
    await kim.page.locator('#dm-person option', { hasText: 'Lee Seo-yeon' }).waitFor({ state: 'attached' });
    await kim.page.locator('#dm-person').selectOption({ label: 'Lee Seo-yeon' });
    await kim.page.locator('#dm-person + button').click();
    await kim.page.waitForURL(/#\/chat\/dm-/);
    await kim.page.locator('.compose-main').fill('안녕하세요, 이번 주 일정 공유드려요');
    await kim.page.locator('.compose-main').press('Enter');
    await kim.page.locator('#messages .message .body', { hasText: '이번 주 일정' }).waitFor({ timeout: 15_000 });

    // a new tab on the same device opens as the same person
    const tab = await kim.context.newPage();
    await tab.goto(`${server.url}/#/chat`);
    await tab.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
    expect(await subOf(tab)).toBe(before);
    await tab.close();

    // sign out and in again under the same name: the same person, with their channels and DMs
    await kim.page.locator('header .who #sign-out').click();
    await kim.page.locator('#signin-name').waitFor();
    await signInAgain(kim.page, { name: '김민준', site: 'hq', role: 'manager' });
    expect(await subOf(kim.page)).toBe(before);
    await kim.page.goto(`${server.url}/#/chat`);
    await kim.page.locator('.channels a', { hasText: '본부 기획' }).waitFor({ timeout: 15_000 });
    await kim.page.locator('.dms a', { hasText: 'Lee Seo-yeon' }).waitFor({ timeout: 15_000 });
    await kim.page.locator('.dms a', { hasText: 'Lee Seo-yeon' }).click();
    await kim.page.locator('#messages .message .body', { hasText: '이번 주 일정' }).waitFor({ timeout: 15_000 });
    // only one 김민준 on the board
    await lee.page.goto(`${server.url}/#/presence`);
    await lee.page.locator('.person-name', { hasText: '김민준' }).first().waitFor({ timeout: 15_000 });
    expect(await lee.page.locator('.person-name', { hasText: '김민준' }).count()).toBe(1);
  });

  it('a document with a long Korean title is created, listed in full, renamed from its header; an open editor’s header follows at once, every reader lists the new title', async () => {
    // 80 characters: far more than a title carried in a document name could hold (~30)
    const title =
      '2026년 하반기 원격 근무 운영 계획과 거점 사무실 좌석 예약 정책 개정안에 대한 부서별 의견 취합 및 검토 결과 보고서 (인사팀 공동 작성)';
    expect([...title]).toHaveLength(80);
    await kim.page.goto(`${server.url}/#/docs`);
    await kim.page.locator('#new-doc-name').fill(title);
    await kim.page.locator('.docs-page form button[type=submit]').click();
    // the server names the document; the title is stored beside it
    await kim.page.waitForURL(/#\/docs\/d-[\w-]+$/);
    const name = decodeURIComponent(kim.page.url().split('#/docs/')[1] ?? '');
    const heading = kim.page.locator('.doc-page h1.doc-title');
    await heading.filter({ hasText: title }).waitFor({ timeout: 15_000 });
    expect(await heading.textContent()).toBe(title);
    await kim.page.locator('.editor-box .cm-content').click();
    await kim.page.keyboard.type('월요일: 예산 검토 👍');

    // Lee's list shows the whole title
    await lee.page.goto(`${server.url}/#/docs`);
    const leeRow = lee.page.locator(`.doc-row .doc-name[data-doc="${name}"]`);
    await leeRow.filter({ hasText: title }).waitFor({ timeout: 15_000 });
    expect(await leeRow.textContent()).toBe(title);
    await leeRow.click();
    await lee.page.locator('.editor-box .cm-content', { hasText: '월요일: 예산 검토 👍' }).waitFor({ timeout: 15_000 });
    await lee.page.locator('.doc-page h1.doc-title', { hasText: title }).waitFor({ timeout: 15_000 });
    await expectFonts(kim.page, title);
    await shots(kim.page, 'fw-document-ko');

    // 김민준 renames it from the editor's header
    const renamed = '주간 보고 — 최종본 👍';
    await kim.page.locator('.doc-head button.rename-doc').click();
    await kim.page.locator('#doc-title-input').fill(renamed);
    await kim.page.locator('.rename-form button[type=submit]').click();
    await heading.filter({ hasText: renamed }).waitFor({ timeout: 15_000 });
    expect(await heading.textContent()).toBe(renamed);
    // the editor kept its text
    await kim.page.locator('.editor-box .cm-content', { hasText: '월요일: 예산 검토 👍' }).waitFor();
    // 이서연 has it open: her editor's header follows at once, without a reload (`doc:title`)
    const leeHeading = lee.page.locator('.doc-page h1.doc-title');
    await leeHeading.filter({ hasText: renamed }).waitFor({ timeout: 5_000 });
    expect(await leeHeading.textContent()).toBe(renamed);
    expect(decodeURIComponent(lee.page.url().split('#/docs/')[1] ?? '')).toBe(name);
    await lee.page.locator('.editor-box .cm-content', { hasText: '월요일: 예산 검토 👍' }).waitFor();

    // every reader's list shows the new title, and the old one is gone
    for (const p of [lee.page, kim.page]) {
      await p.goto(`${server.url}/#/docs`);
      const row = p.locator(`.doc-row .doc-name[data-doc="${name}"]`);
      await row.filter({ hasText: renamed }).waitFor({ timeout: 15_000 });
      expect(await row.textContent()).toBe(renamed);
      expect(await p.locator('.doc-row .doc-name', { hasText: title }).count()).toBe(0);
    }
    await shots(lee.page, 'fw-document-renamed');
  });

  it('a refused attachment shows a Korean message and keeps the text and the file; HWP is allowed', async () => {
    await kim.page.goto(`${server.url}/#/chat/site-hq`);
    await kim.page.locator('a[data-channel="site-hq"][aria-current="page"]').waitFor();
    const composer = kim.page.locator('.conversation .composer');
    await composer.locator('.compose-main').fill('설치 파일 보냅니다');
    await composer
      .locator('input[type=file]')
      .setInputFiles({ name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ') });
    // the chosen file is shown before sending
    await composer.locator('.attached-file', { hasText: 'setup.exe' }).waitFor();
    await composer.locator('button[type=submit]').click();
    await kim.page.locator('.toast-error', { hasText: '허용되지 않는 파일 형식입니다' }).waitFor({ timeout: 15_000 });
    expect(await shownErrors(kim)).toEqual(['오류: 허용되지 않는 파일 형식입니다.']);
    // nothing was lost
    expect(await composer.locator('.compose-main').inputValue()).toBe('설치 파일 보냅니다');
    await composer.locator('.attached-file', { hasText: 'setup.exe' }).waitFor();
    // a 한글 document goes through
    await composer.locator('.attached-file button').click();
    await composer.locator('.compose-main').fill('주간 보고서 첨부합니다');
    await composer
      .locator('input[type=file]')
      .setInputFiles({ name: '주간보고.hwp', mimeType: 'application/x-hwp', buffer: Buffer.from('HWP Document File') });
    await composer.locator('button[type=submit]').click();
    await kim.page.locator('#messages .attachment', { hasText: '주간보고.hwp' }).waitFor({ timeout: 15_000 });
    expect(await composer.locator('.compose-main').inputValue()).toBe('');
    expect(await composer.locator('.attached-file').isHidden()).toBe(true);
  });

  it('Lee finds and joins 김민준’s channel by browsing; both are in the organisation’s channel', async () => {
    await kim.page.goto(`${server.url}/#/chat`);
    await kim.page.waitForURL(/#\/chat\/site-hq$/);
    await kim.page.locator('a[data-channel="site-hq"][aria-current="page"]').waitFor();
    await kim.page.locator('#new-channel').fill('세종 협업 공간');
    await kim.page.locator('.new-channel button[type=submit]').click();
    await kim.page
      .locator('.channels a[aria-current="page"]', { hasText: '세종 협업 공간' })
      .waitFor({ timeout: 15_000 });
    // the site channel's topic names the site in the viewer's language, not its id
    await kim.page.goto(`${server.url}/#/chat/site-hq`);
    await kim.page.locator('.conversation-head .channel-topic', { hasText: '본부' }).waitFor();
    // everyone is in the organisation's channel
    await kim.page.locator('.channels a', { hasText: '# 전체' }).waitFor({ timeout: 15_000 });

    await lee.page.goto(`${server.url}/#/chat`);
    await lee.page.locator('.channels a', { hasText: '# Everyone' }).waitFor({ timeout: 15_000 });
    expect(await lee.page.locator('.channels a', { hasText: '세종 협업 공간' }).count()).toBe(0);
    await lee.page.locator('a.browse-link').click();
    await lee.page.waitForURL(/#\/chat\/browse$/);
    await lee.page.locator('#channel-search').fill('없는 채널 이름');
    await lee.page.locator('.channel-results li', { hasText: 'No channels found' }).waitFor({ timeout: 15_000 });
    await lee.page.locator('#channel-search').fill('세종 협업');
    const found = lee.page.locator('.channel-results li', { hasText: '세종 협업 공간' });
    await found.waitFor({ timeout: 15_000 });
    expect(await lee.page.locator('.channel-results li').count()).toBe(1);
    await found.locator('button.join-channel').click();
    await lee.page
      .locator('.channels a[aria-current="page"]', { hasText: '세종 협업 공간' })
      .waitFor({ timeout: 15_000 });
    await lee.page.locator('.compose-main').fill('Joined from Sejong 👋');
    await lee.page.locator('.compose-main').press('Enter');
    await kim.page.goto(`${server.url}/#/chat`);
    await kim.page.locator('.channels a', { hasText: '세종 협업 공간' }).click();
    await kim.page.locator('#messages .message .body', { hasText: 'Joined from Sejong' }).waitFor({ timeout: 15_000 });
    // the members panel lists both by name
    await kim.page.locator('.members-panel summary').click();
    await kim.page.locator('.members-panel .member-name', { hasText: 'Lee Seo-yeon' }).waitFor({ timeout: 15_000 });
    await kim.page.locator('.members-panel .member-name', { hasText: '김민준' }).waitFor();
    await expectFonts(lee.page, '세종 협업 공간');
    await shots(lee.page, 'fw-browse-en');
  });

  it('an owner adds a person to a channel from the members panel', async () => {
    await kim.page.goto(`${server.url}/#/chat`);
    await kim.page.locator('.channels a', { hasText: '본부 기획' }).click();
    await kim.page.locator('.conversation-head h1', { hasText: '본부 기획' }).waitFor();
    await kim.page.locator('.members-panel summary').click();
    await kim.page
      .locator('#member-add option', { hasText: 'Lee Seo-yeon' })
      .waitFor({ state: 'attached', timeout: 15_000 });
    await kim.page.locator('#member-add').selectOption({ label: 'Lee Seo-yeon' });
    await kim.page.locator('.members-panel form button[type=submit]').click();
    await kim.page.locator('.members-panel .member-name', { hasText: 'Lee Seo-yeon' }).waitFor({ timeout: 15_000 });
    // Lee's list follows at once
    await lee.page.goto(`${server.url}/#/chat`);
    await lee.page.locator('.channels a', { hasText: '본부 기획' }).waitFor({ timeout: 15_000 });
  });

  it('an unread direct message shows a badge, a toast and the count in the page title while another view is open', async () => {
    const park = await signIn(browser, server.url, { name: '박지훈', site: 'hq', lang: 'ko' });
    try {
      await lee.page.goto(`${server.url}/#/docs`);
      await lee.page.locator('.docs-page').waitFor();
      const badge = lee.page.locator('header.top nav a[data-route="chat"] .nav-badge');
      const unread = async () => Number((await badge.count()) ? await badge.textContent() : 0);
      const before = await unread();
      // 박지훈 writes to Lee for the first time
      await park.page.goto(`${server.url}/#/chat`);
      await park.page
        .locator('#dm-person option', { hasText: 'Lee Seo-yeon' })
        .waitFor({ state: 'attached', timeout: 15_000 });
      await park.page.locator('#dm-person').selectOption({ label: 'Lee Seo-yeon' });
      await park.page.locator('#dm-person + button').click();
      await park.page.waitForURL(/#\/chat\/dm-/);
      await park.page.locator('.compose-main').fill('회의실 예약 확인 부탁드려요');
      await park.page.locator('.compose-main').press('Enter');
      await expect.poll(unread, { timeout: 25_000 }).toBe(before + 1);
      await expect.poll(() => lee.page.title()).toBe(`(${before + 1}) moim`);
      await lee.page.locator('.toast', { hasText: 'Message from 박지훈' }).waitFor({ timeout: 15_000 });
      expect(await lee.page.locator('.docs-page').count()).toBe(1);

      // with the tab hidden and notifications allowed, a browser notification
      await lee.page.evaluate(() => {
        const shown: Array<{ title: string; body: string }> = [];
        class FakeNotification {
          static permission = 'granted';
          static requestPermission = async () => 'granted';
          onclick: (() => void) | null = null;
          constructor(title: string, opts: { body: string }) {
            shown.push({ title, body: opts.body });
          }
          close() {}
        }
        Object.assign(window, { Notification: FakeNotification, __shown: shown });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      });
      await park.page.locator('.compose-main').fill('오후 3시에 가능할까요?');
      await park.page.locator('.compose-main').press('Enter');
      await expect
        .poll(() => lee.page.evaluate(() => (window as unknown as { __shown: unknown[] }).__shown), { timeout: 15_000 })
        .toEqual([{ title: 'Message from 박지훈', body: '오후 3시에 가능할까요?' }]);
      await expect.poll(() => lee.page.title()).toBe(`(${before + 2}) moim`);
      await lee.page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      });

      // an @mention outside the chat view is a toast too
      await park.page.goto(`${server.url}/#/chat/org-everyone`);
      await park.page.locator('.conversation-head h1', { hasText: '전체' }).waitFor();
      await park.page.locator('.compose-main').fill('@Lee Seo-yeon 자료 확인해 주세요');
      await park.page.locator('.compose-main').press('Enter');
      await lee.page.locator('.toast', { hasText: '박지훈 mentioned you' }).waitFor({ timeout: 15_000 });

      // reading the conversation clears its part of the count
      await lee.page.goto(`${server.url}/#/chat`);
      await lee.page.locator('.dms a', { hasText: '박지훈' }).click();
      await lee.page.locator('#messages .message .body', { hasText: '오후 3시에 가능할까요?' }).waitFor();
      await expect.poll(unread, { timeout: 15_000 }).toBeLessThanOrEqual(before + 1);
      await shots(lee.page, 'fw-dm-en');
    } finally {
      expect(park.errors).toEqual([]);
      expect(await shownErrors(park)).toEqual([]);
      await park.context.close();
    }
  });

  it('a thread’s reply count follows live, pluralised in both languages', async () => {
    await kim.page.goto(`${server.url}/#/chat`);
    await kim.page.locator('.channels a', { hasText: '세종 협업 공간' }).click();
    await kim.page.locator('.compose-main').fill('이번 주 안건을 여기에 모읍시다');
    await kim.page.locator('.compose-main').press('Enter');
    // the stored message (a message still being sent has no seq yet)
    const root = kim.page.locator('#messages .message[data-seq]', { hasText: '이번 주 안건을' });
    await root.waitFor({ timeout: 15_000 });
    const seq = await root.getAttribute('data-seq');
    const channel = decodeURIComponent(new URL(kim.page.url()).hash.split('/')[2]!);
    await lee.page.goto(`${server.url}/#/chat/${encodeURIComponent(channel)}/thread/${seq}`);
    await lee.page.locator('.thread-panel .compose-thread').waitFor();
    await lee.page.locator('.thread-panel .compose-thread').fill('Budget review from Sejong');
    await lee.page.locator('.thread-panel .compose-thread').press('Enter');
    await root.locator('.message-actions a', { hasText: '답글 1개' }).waitFor({ timeout: 15_000 });
    await lee.page.locator('.thread-panel .compose-thread').fill('And the seating plan');
    await lee.page.locator('.thread-panel .compose-thread').press('Enter');
    await root.locator('.message-actions a', { hasText: '답글 2개' }).waitFor({ timeout: 15_000 });
    await lee.page.goto(`${server.url}/#/chat/${encodeURIComponent(channel)}`);
    await lee.page
      .locator('#messages .message', { hasText: '이번 주 안건을' })
      .locator('.message-actions a', { hasText: '2 replies' })
      .waitFor({ timeout: 15_000 });
  });

  it('a meeting’s link pasted in chat opens the meeting; an invitation rings with a join button; hands, leaving and ending are told', async () => {
    // 김민준 starts a meeting and copies its link (an address, not the room's id)
    await kim.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await kim.page.goto(`${server.url}/#/meeting`);
    await kim.page.locator('#meeting-name').fill('주간 회의');
    await kim.page.locator('#new-meeting button[type=submit]').click();
    await kim.page.waitForURL(/#\/meeting\/[^/]+$/);
    const roomId = decodeURIComponent(new URL(kim.page.url()).hash.split('/')[2]!);
    await kim.page.locator('.meeting-head h1', { hasText: '주간 회의' }).waitFor({ timeout: 30_000 });
    await kim.page.locator('.meeting-head', { hasText: '참여자 1명' }).waitFor();
    await kim.page.locator('.meeting-head button', { hasText: /링크|link/i }).click();
    const link = await kim.page.evaluate(() => navigator.clipboard.readText());
    expect(link).toBe(`${server.url}/#/meeting/${encodeURIComponent(roomId)}`);

    // pasted in a channel, the link opens the meeting in Lee's app
    await kim.page.goto(`${server.url}/#/chat`);
    await kim.page.locator('.channels a', { hasText: '세종 협업 공간' }).click();
    await kim.page.locator('.compose-main').fill(`회의 링크입니다: ${link}`);
    await kim.page.locator('.compose-main').press('Enter');
    // stored (a message being sent has no seq yet) before Lee looks for it
    await kim.page.locator('#messages .message[data-seq]', { hasText: link }).waitFor({ timeout: 15_000 });
    await lee.page.goto(`${server.url}/#/chat`);
    await lee.page.locator('.channels a', { hasText: '세종 협업 공간' }).click();
    const anchor = lee.page.locator('#messages .message .body a.app-link', { hasText: link });
    await anchor.waitFor({ timeout: 15_000 });
    expect(await anchor.getAttribute('href')).toBe(`#/meeting/${encodeURIComponent(roomId)}`);
    await anchor.click();
    await lee.page.waitForURL(new RegExp(`#/meeting/${encodeURIComponent(roomId)}$`));
    await lee.page.locator('.meeting-head', { hasText: '2 participants' }).waitFor({ timeout: 30_000 });
    await kim.page.goto(`${server.url}/#/meeting/${encodeURIComponent(roomId)}`);
    await kim.page.locator('.meeting-head', { hasText: '참여자 2명' }).waitFor({ timeout: 30_000 });

    // the participants panel; a raised hand is queued and the moderator is told
    await kim.page.locator('.participants-panel summary').click();
    await kim.page.locator('.participants .participant', { hasText: 'Lee Seo-yeon' }).waitFor();
    // the hand button is busy from the click until the raise is answered, through the renders meanwhile
    // (the room's own hand event re-renders the toolbar): never offered for a second click before that
    await lee.page.evaluate(() => {
      const seen: string[] = [];
      const state = () => {
        const b = document.querySelector<HTMLButtonElement>('#ctl-hand');
        return b
          ? `${b.disabled && b.getAttribute('aria-busy') === 'true' ? 'busy' : 'idle'} ${b.getAttribute('aria-pressed')}`
          : 'none';
      };
      const controls = document.querySelector('#ctl-hand')?.parentElement;
      if (!controls) throw new Error('no toolbar');
      new MutationObserver(() => seen.push(state())).observe(controls, {
        subtree: true,
        childList: true,
        attributes: true,
      });
      (window as unknown as { handStates: string[] }).handStates = seen;
      document.querySelector<HTMLButtonElement>('#ctl-hand')?.click();
      // a second click at once reaches the same (disabled) button or a busy one: nothing more is sent
      document.querySelector<HTMLButtonElement>('#ctl-hand')?.click();
    });
    await lee.page.locator('#ctl-hand[aria-pressed=true]:not([disabled])').waitFor({ timeout: 15_000 });
    const states = await lee.page.evaluate(() => (window as unknown as { handStates: string[] }).handStates);
    const done = states.findIndex((s) => s.startsWith('idle'));
    expect(states[0]).toBe('busy false');
    expect(done).toBeGreaterThan(0);
    expect(states.slice(0, done).every((s) => s.startsWith('busy'))).toBe(true);
    expect(states[done]).toBe('idle true');
    await kim.page.locator('.toast', { hasText: 'Lee Seo-yeon님이 손을 들었습니다' }).waitFor({ timeout: 15_000 });
    await kim.page.locator('.hands-queue li', { hasText: 'Lee Seo-yeon' }).waitFor();
    expect(await kim.page.locator('.hands-queue li', { hasText: 'Lee Seo-yeon' }).count()).toBe(1);

    // an invitation from the meeting rings for 최수아 (looking at documents) as a call does: every
    // device, the call banner with Join, in a browser WITHOUT the autoplay flag (sound where the
    // browser's own policy allows it, else a Notification); Join takes her into the meeting
    const quiet = await launchBrowser({ autoplay: false });
    const choi = await signIn(quiet, server.url, { name: '최수아', site: 'hq', lang: 'ko' });
    try {
      await choi.context.grantPermissions(['notifications'], { origin: server.url });
      await choi.page.goto(`${server.url}/#/docs`);
      await kim.page
        .locator('#invite-person option', { hasText: '최수아' })
        .waitFor({ state: 'attached', timeout: 30_000 });
      await kim.page.locator('#invite-person').selectOption({ label: '최수아' });
      await kim.page.locator('.invite-form button[type=submit]').click();
      await kim.page.locator('.toast', { hasText: '최수아님을 초대했습니다' }).waitFor({ timeout: 15_000 });
      await kim.page.locator('.call-banner.outgoing', { hasText: '최수아님을 회의에 초대하는 중' }).waitFor();
      const ring = choi.page.locator('.call-banner.invitation', {
        hasText: '김민준님이 ‘주간 회의’ 회의에 초대했습니다',
      });
      await ring.waitFor({ timeout: 15_000 });
      await expect
        .poll(() => ring.getAttribute('data-ringtone'), { timeout: 10_000 })
        .toMatch(/^(audio|notification)$/);
      await ring.locator('button.invite-join').click();
      await kim.page.locator('.toast', { hasText: '최수아님이 초대를 수락했습니다' }).waitFor({ timeout: 15_000 });
      await choi.page.waitForURL(new RegExp(`#/meeting/${encodeURIComponent(roomId)}$`));
      await expect.poll(() => choi.page.locator('.call-banner').count(), { timeout: 10_000 }).toBe(0);
      await kim.page.locator('.meeting-head', { hasText: '참여자 3명' }).waitFor({ timeout: 30_000 });
      await expect.poll(() => kim.page.locator('.call-banner').count(), { timeout: 10_000 }).toBe(0);
      // in the meeting with video: Kim's camera reaches her page
      await expectFlowing(choi.page, (f) => f.kind === 'video', 1);
      // "최수아 left"
      await choi.page.locator('#ctl-leave').click();
      await kim.page.locator('.toast', { hasText: '최수아님이 나갔습니다' }).waitFor({ timeout: 15_000 });

      // an invitation from the presence board rings too; declined, the inviter hears it
      await kim.page.goto(`${server.url}/#/presence`);
      const row = kim.page.locator('.person', { hasText: '최수아' });
      await row.locator('button.invite-person').click();
      const again = choi.page.locator('.call-banner.invitation', { hasText: '‘주간 회의’' });
      await again.locator('button.invite-join').waitFor({ timeout: 15_000 });
      await again.locator('button.call-decline').click();
      await kim.page.locator('.toast', { hasText: '최수아님이 초대를 거절했습니다' }).waitFor({ timeout: 15_000 });
      await expect.poll(() => choi.page.locator('.call-banner').count(), { timeout: 10_000 }).toBe(0);
      // her recent calls name the meeting of both invitations and offer Join while it is open
      await choi.page.goto(`${server.url}/#/presence`);
      const invited = choi.page.locator('.call-history .call-entry', { hasText: '“주간 회의” 회의 초대' });
      await expect.poll(() => invited.count(), { timeout: 15_000 }).toBe(2);
      await choi.page.locator('.call-history .call-entry.declined', { hasText: '거절' }).waitFor();
      expect(await invited.first().locator('a.call-entry-join').textContent()).toBe('참여');
      expect(await invited.first().locator('a.call-entry-join').getAttribute('href')).toBe(
        `#/meeting/${encodeURIComponent(roomId)}`,
      );
      expect(choi.errors).toEqual([]);
      expect(await shownErrors(choi)).toEqual([]);
    } finally {
      await choi.context.close();
      await quiet.close();
    }

    // "End for everyone" asks first; dismissed, nothing ends; accepted, everyone is out
    await kim.page.goto(`${server.url}/#/meeting/${encodeURIComponent(roomId)}`);
    await kim.page.locator('#ctl-close').waitFor({ timeout: 15_000 });
    kim.page.once('dialog', (d) => void d.dismiss());
    await kim.page.locator('#ctl-close').click();
    await kim.page.waitForTimeout(500);
    expect(new URL(lee.page.url()).hash).toBe(`#/meeting/${encodeURIComponent(roomId)}`);
    kim.page.once('dialog', (d) => {
      expect(d.message()).toBe('모든 참여자의 회의를 종료할까요?');
      void d.accept();
    });
    await kim.page.locator('#ctl-close').click();
    await lee.page.waitForURL(/#\/meeting$/, { timeout: 15_000 });
    await kim.page.waitForURL(/#\/meeting$/, { timeout: 15_000 });
  });

  it('“Add camera” with one camera says why', async () => {
    await kim.page.goto(`${server.url}/#/meeting`);
    await kim.page.locator('#meeting-name').fill('몰입 회의');
    await kim.page.locator('input[name=tier][value=immersive]').check();
    await kim.page.locator('#new-meeting button[type=submit]').click();
    await kim.page.locator('.meeting-head h1', { hasText: '몰입 회의' }).waitFor({ timeout: 30_000 });
    await kim.page.locator('details.devices summary').click();
    await kim.page.locator('.add-camera-why', { hasText: '연결된 카메라가 하나뿐입니다' }).waitFor({ timeout: 15_000 });
    await kim.page.locator('#ctl-leave').click();
    await kim.page.waitForURL(/#\/meeting$/);
  });

  it('the header follows where the person is now; Korean wraps between words', async () => {
    await lee.page.goto(`${server.url}/#/presence`);
    await lee.page.locator('header .me-site', { hasText: 'Sejong smart office' }).waitFor({ timeout: 15_000 });
    await lee.page.locator('#my-site').selectOption('home');
    await lee.page.locator('header .me-site', { hasText: 'Home' }).waitFor({ timeout: 15_000 });
    await lee.page.locator('#my-site').selectOption('so-sejong');
    await lee.page.locator('header .me-site', { hasText: 'Sejong smart office' }).waitFor({ timeout: 15_000 });
    expect(await kim.page.evaluate(() => getComputedStyle(document.body).wordBreak)).toBe('keep-all');
    await shots(kim.page, 'fw-presence-ko');
    await shots(lee.page, 'fw-presence-en');
  });

  it('a member is not offered immersive rooms; a manager is', async () => {
    await lee.page.goto(`${server.url}/#/meeting`);
    await lee.page.locator('#new-meeting .tier-option').first().waitFor();
    expect(
      await lee.page
        .locator('#new-meeting input[name=tier]')
        .evaluateAll((e) => e.map((x) => (x as HTMLInputElement).value)),
    ).toEqual(['personal', 'standard']);
    await kim.page.goto(`${server.url}/#/meeting`);
    await kim.page.locator('#new-meeting input[name=tier][value=immersive]').waitFor({ state: 'attached' });
  });
});
