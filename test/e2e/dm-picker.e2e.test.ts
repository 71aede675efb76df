import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Person, type ServerProcess, shownErrors, signIn, startServer } from './harness.ts';

/**
 * The new-message picker keeps the person chosen: `#/chat` moves on to the site channel once the
 * channel list arrives, and that used to build the view again, so a person chosen before then was
 * forgotten and the direct message went to whoever was listed first (the "missed new-DM event"
 * of the first-week test: the DM had been opened with someone else).
 */
describe('the new-message picker', () => {
  let server: ServerProcess;
  let browser: Browser;
  let kim: Person;
  let lee: Person;
  let park: Person;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    kim = await signIn(browser, server.url, { name: '김민준', site: 'hq', lang: 'ko' });
    lee = await signIn(browser, server.url, { name: 'Lee Seo-yeon', site: 'hq', lang: 'en' });
    park = await signIn(browser, server.url, { name: '박지훈', site: 'hq', lang: 'ko' });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a person chosen while the channel list is on its way is the one written to', async () => {
    // the channel list answers late (as on a slow network), after the person has chosen
    await park.page.evaluate(() => {
      const chat = (
        window as unknown as { __moim: { ctx: { client: { chat: { channels: () => Promise<unknown> } } } } }
      ).__moim.ctx.client.chat;
      const channels = chat.channels.bind(chat);
      chat.channels = async () => {
        await new Promise((r) => setTimeout(r, 1500));
        return channels();
      };
    });
    await park.page.goto(`${server.url}/#/chat`);
    for (const name of ['김민준', 'Lee Seo-yeon'])
      await park.page.locator('#dm-person option', { hasText: name }).waitFor({ state: 'attached' });
    // the one listed last: a view built again would show the first one listed
    const listed = await park.page.locator('#dm-person option').allTextContents();
    const chosen = listed.at(-1) === 'Lee Seo-yeon' ? lee : kim;
    const other = chosen === lee ? kim : lee;
    await park.page.locator('#dm-person').selectOption({ label: chosen.name });
    // the late answer has come in
    await park.page.waitForTimeout(2500);
    await park.page.locator('#dm-person + button').click();
    await park.page.waitForURL(/#\/chat\/dm-/);
    await park.page.locator('.conversation-head h1', { hasText: chosen.name }).waitFor({ timeout: 15_000 });
    await park.page.locator('.compose-main').fill('안녕하세요');
    await park.page.locator('.compose-main').press('Enter');
    // the chosen person is told of the new conversation; the other is not in it
    await chosen.page.goto(`${server.url}/#/chat`);
    await chosen.page.locator('.dms a', { hasText: '박지훈' }).waitFor({ timeout: 15_000 });
    await other.page.goto(`${server.url}/#/chat`);
    await other.page.locator('.channels a').first().waitFor();
    expect(await other.page.locator('.dms a', { hasText: '박지훈' }).count()).toBe(0);
    for (const p of [kim, lee, park]) {
      expect(p.errors).toEqual([]);
      expect(await shownErrors(p)).toEqual([]);
    }
  });

  it('nobody is chosen until the person chooses', async () => {
    await park.page.goto(`${server.url}/#/chat/org-everyone`);
    await park.page.locator('#dm-person option', { hasText: 'Lee Seo-yeon' }).waitFor({ state: 'attached' });
    expect(await park.page.locator('#dm-person').inputValue()).toBe('');
    await park.page.locator('#dm-person + button').click();
    await park.page.waitForTimeout(500);
    expect(park.page.url()).toMatch(/#\/chat\/org-everyone$/);
  });
});
