import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Person, type ServerProcess, signIn, startServer } from './harness.ts';

/**
 * The data-leak watermark in the web app (Chromium, the built app as the server serves it): an
 * owner switches a document's and a meeting's policy to `watermark` and the open page draws the
 * viewer's name, id and time over the editor and over the video tiles at once, without a reload;
 * removed or hidden from the page it comes back, and the removal reaches the audit log; switched
 * off, it goes.
 */
describe('watermark', () => {
  let server: ServerProcess;
  let browser: Browser;
  let ann: Person;
  let sub: string;
  let token: string;

  const put = async (kind: string, id: string, changes: object) => {
    const res = await fetch(`${server.url}/policies/${kind}/${encodeURIComponent(id)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(changes),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const removals = async (): Promise<number> => {
    const admin = (await (
      await fetch(`${server.url}/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Auditor', site: 'hq', role: 'admin', sub: 'auditor' }),
      })
    ).json()) as { token: string };
    const csv = await (
      await fetch(`${server.url}/admin/audit.csv`, { headers: { authorization: `Bearer ${admin.token}` } })
    ).text();
    return csv.split('\r\n').filter((l) => l.includes(',policy.watermark-removed,')).length;
  };

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ann = await signIn(browser, server.url, { name: 'Watermark Ann', site: 'hq', lang: 'en' });
    const identity = await ann.page.evaluate(() => JSON.parse(sessionStorage.getItem('moim.identity') ?? '{}'));
    sub = identity.sub as string;
    const minted = (await (
      await fetch(`${server.url}/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Watermark Ann', site: 'hq', role: 'member', sub }),
      })
    ).json()) as { token: string };
    token = minted.token;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('over a document: drawn live when the policy asks, restored when removed or hidden (and reported), gone when switched off', async () => {
    const page = ann.page;
    await page.evaluate(() => {
      location.hash = '#/docs';
    });
    await page.locator('#new-doc-name').fill('wm-notes');
    await page.locator('form button[type=submit]').first().click();
    await page.locator('.editor-box').waitFor({ timeout: 15_000 });
    expect(await page.locator('.editor-box .watermark').count()).toBe(0);

    await put('doc', 'wm-notes', { watermark: true });
    const mark = page.locator('.editor-box > .watermark');
    await mark.waitFor({ timeout: 10_000 });
    const text = (await mark.textContent()) ?? '';
    expect(text).toContain('Watermark Ann');
    expect(text).toContain(sub);
    expect(text).toMatch(/\d{1,2}:\d{2}/); // the time
    expect(await mark.getAttribute('aria-hidden')).toBe('true');
    expect(await mark.evaluate((el) => getComputedStyle(el).pointerEvents)).toBe('none');

    // removed from the page: back at once, and reported
    await page.evaluate(() => document.querySelector('.editor-box > .watermark')?.remove());
    await mark.waitFor({ timeout: 5_000 });
    expect(await page.locator('.editor-box > .watermark').count()).toBe(1);
    // hidden through its style: visible again
    await page.evaluate(() =>
      document.querySelector<HTMLElement>('.editor-box > .watermark')?.style.setProperty('display', 'none'),
    );
    await expect.poll(() => mark.evaluate((el) => getComputedStyle(el).display), { timeout: 5_000 }).not.toBe('none');
    // emptied: its text is written again
    await page.evaluate(() => document.querySelector('.editor-box > .watermark')?.replaceChildren());
    await expect.poll(async () => (await mark.textContent()) ?? '', { timeout: 5_000 }).toContain(sub);
    await expect.poll(removals, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);

    await put('doc', 'wm-notes', { watermark: false });
    await expect.poll(() => page.locator('.editor-box .watermark').count(), { timeout: 10_000 }).toBe(0);
    expect(ann.errors).toEqual([]);
  });

  it('over the video tiles of a meeting, when the room’s policy asks', async () => {
    const page = ann.page;
    await page.evaluate(() => {
      location.hash = '#/meeting';
    });
    await page.locator('#meeting-name').fill('Watermarked meeting');
    await page.locator('#new-meeting button[type=submit]').click();
    await page.locator('#stage .tile').first().waitFor({ timeout: 30_000 });
    const roomId = await page.locator('.meeting').getAttribute('data-room-id');
    expect(roomId).toBeTruthy();
    expect(await page.locator('#stage .watermark').count()).toBe(0);
    await put('room', roomId!, { watermark: true });
    const mark = page.locator('#stage > .watermark');
    await mark.waitFor({ timeout: 10_000 });
    expect((await mark.textContent()) ?? '').toContain(sub);
    // it covers the stage (and so every tile and screen share in it)
    const [stageBox, markBox] = await Promise.all([page.locator('#stage').boundingBox(), mark.boundingBox()]);
    expect(markBox?.width).toBeCloseTo(stageBox?.width ?? 0, 0);
    expect(markBox?.height).toBeCloseTo(stageBox?.height ?? 0, 0);
    await page.evaluate(() => document.querySelector('#stage > .watermark')?.remove());
    await mark.waitFor({ timeout: 5_000 });
    expect(ann.errors).toEqual([]);
  });
});
