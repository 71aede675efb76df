import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Person, type ServerProcess, shot, signIn, startServer } from './harness.ts';

/**
 * The recording indicator in the web app, against the server as `npm start` runs it: a manager
 * (Korean UI) starts a meeting and records it with the toolbar's button; the member already in it (English UI) sees the
 * indicator, so does one who joins while it runs, and it goes away for everyone when it stops.
 */
let server: ServerProcess;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
  const min = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  server = await startServer({ MOIM_RECORDING_PORT_MIN: String(min), MOIM_RECORDING_PORT_MAX: String(min + 49) });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const p of people) await p.context.close();
  await browser?.close();
  await server?.stop();
});

const badge = (p: Person) => p.page.locator('.meeting-head .recording-badge');
describe('recording indicator', () => {
  it('everyone in the meeting sees it, a late joiner too, and it goes when the recording stops', async () => {
    const kim = await signIn(browser, server.url, { name: '김민준', site: 'hq', role: 'manager', lang: 'ko' });
    const lee = await signIn(browser, server.url, { name: 'Lee', site: 'home', lang: 'en' });
    people.push(kim, lee);
    await kim.page.goto(`${server.url}/#/meeting`);
    await kim.page.locator('#meeting-name').fill('녹화 회의');
    await kim.page.locator('#new-meeting button[type=submit]').click();
    await kim.page.waitForURL(/#\/meeting\/[^/]+$/);
    const roomUrl = kim.page.url();
    await lee.page.goto(roomUrl);
    for (const p of [kim, lee]) await p.page.locator('#stage .tile video').nth(1).waitFor({ timeout: 30_000 });
    expect(await badge(lee).isHidden()).toBe(true);

    expect(await lee.page.locator('#ctl-record').count()).toBe(0); // a member has no record button
    await kim.page.locator('#ctl-record').click();
    await badge(kim).waitFor({ state: 'visible', timeout: 15_000 });
    await badge(lee).waitFor({ state: 'visible', timeout: 15_000 });
    expect(await badge(kim).textContent()).toBe('● 녹화 중');
    expect(await badge(lee).textContent()).toBe('● Recording');

    const park = await signIn(browser, server.url, { name: '박서연', site: 'hq', lang: 'ko' });
    people.push(park);
    await park.page.goto(roomUrl);
    await badge(park).waitFor({ state: 'visible', timeout: 20_000 });
    await shot(park.page, 'meeting-recording-ko');

    expect(await kim.page.locator('#ctl-record').textContent()).toBe('녹화 중지');
    await kim.page.locator('#ctl-record').click();
    for (const p of [kim, lee, park]) await badge(p).waitFor({ state: 'hidden', timeout: 20_000 });
    for (const p of people) expect(p.errors).toEqual([]);
  }, 60_000);
});
