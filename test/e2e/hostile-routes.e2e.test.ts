import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Person, type ServerProcess, signIn, startServer } from './harness.ts';

/**
 * Issue 11, item 14: every route parameter of the web app is decoded safely. Malformed escapes
 * and Object.prototype names in the address's hash land on a view (the presence board, or the
 * view's own "not found"), never on an uncaught page error.
 */
describe('hostile addresses in the web app', () => {
  let server: ServerProcess;
  let browser: Browser;
  let person: Person;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    person = await signIn(browser, server.url, { name: 'Hostile Hash', site: 'hq', lang: 'en' });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('malformed escapes and prototype names in every route part raise no page error', async () => {
    const hashes = [
      '#/chat/%ff',
      '#/%ff',
      '#/docs/%ZZ',
      '#/meeting/%c0%ae',
      '#/__proto__',
      '#/constructor',
      '#/toString/x',
      '#/chat/__proto__',
      '#/chat/constructor/thread/1',
      '#/docs/valueOf',
      '#/meeting/hasOwnProperty',
      '#/%E0%A4%A/chat',
    ];
    for (const hash of hashes) {
      await person.page.evaluate((h) => {
        location.hash = h;
      }, hash);
      await person.page.waitForTimeout(300);
      const view = await person.page.locator('#view').getAttribute('data-view');
      expect(['presence', 'chat', 'docs', 'meeting'], hash).toContain(view);
    }
    // the app still works afterwards: the presence board shows the person
    await person.page.evaluate(() => {
      location.hash = '#/presence';
    });
    await person.page.getByText('Hostile Hash').first().waitFor({ timeout: 10_000 });
    expect(person.errors).toEqual([]);
  });
});
