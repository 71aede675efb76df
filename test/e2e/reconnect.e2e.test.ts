import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  docText,
  expectFlowing,
  inbound,
  launchBrowser,
  type Person,
  type ServerProcess,
  shot,
  shownErrors,
  signIn,
  startServer,
  tcpProxy,
} from './harness.ts';

const GRACE_MS = 6000;

/** Record the room's `rejoined` events on the page. */
function watchRejoins(p: Person): Promise<void> {
  return p.page.evaluate(() => {
    const w = window as unknown as {
      __rejoins: Array<{ resumed: boolean }>;
      __moim: { ctx: { meeting: { room: { on(e: string, l: (x: { resumed: boolean }) => void): void } } } };
    };
    w.__rejoins = [];
    w.__moim.ctx.meeting.room.on('rejoined', (e) => w.__rejoins.push(e));
  });
}

const rejoins = (p: Person) =>
  p.page.evaluate(() => (window as unknown as { __rejoins: Array<{ resumed: boolean }> }).__rejoins);

/** Consumer ids of the other person's camera and microphone as this page receives them. */
async function consumerIds(p: Person): Promise<string[]> {
  return (await inbound(p.page)).map((f) => f.consumerId).sort();
}

/**
 * The server drops one browser's connection (a TCP proxy in front of the server resets it):
 * within the grace period the peer is resumed; after it, the browser rejoins from scratch.
 * Either way it comes back into the room and media flows again.
 */
describe('reconnecting browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let kim: Person;
  let lee: Person;
  let notesName = '';

  beforeAll(async () => {
    server = await startServer({ MOIM_PEER_GRACE_MS: String(GRACE_MS) });
    proxy = await tcpProxy(server.port);
    browser = await launchBrowser();
    kim = await signIn(browser, server.url, { name: 'Kim', site: 'hq', role: 'manager', lang: 'en' });
    // Lee reaches the server through the proxy (media goes straight to the SFU)
    lee = await signIn(browser, proxy.url, { name: 'Lee', site: 'home', lang: 'en' });
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.stop();
  });
  afterEach(async (c) => {
    if (c.task.result?.state === 'fail') for (const p of [kim, lee]) await shot(p.page, `failed-reconnect-${p.site}`);
    expect([...kim.errors.splice(0), ...lee.errors.splice(0)]).toEqual([]);
    expect([...(await shownErrors(kim)), ...(await shownErrors(lee))]).toEqual([]);
  });

  it('both are in a standard room with media flowing', async () => {
    await kim.page.goto(`${server.url}/#/meeting`);
    await kim.page.locator('#new-meeting button[type=submit]').click();
    await kim.page.waitForURL(/#\/meeting\/[^/]+$/);
    const hash = new URL(kim.page.url()).hash;
    notesName = `room-${decodeURIComponent(hash.split('/').pop()!)}-notes`;
    await lee.page.goto(`${proxy.url}/${hash}`);
    for (const p of [kim, lee]) {
      await expectFlowing(p.page, (f) => f.kind === 'video', 1);
      await expectFlowing(p.page, (f) => f.kind === 'audio', 1);
    }
    await watchRejoins(lee);
  });

  it('a short drop: the server kept the peer, media keeps flowing on the same consumers', async () => {
    const kimSees = await consumerIds(kim);
    proxy.cut();
    await lee.page.locator('header .conn-reconnecting').waitFor({ timeout: 15_000 });
    await shot(lee.page, 'meeting-reconnecting-en-desktop');
    proxy.restore();
    await lee.page.locator('header .conn-connected').waitFor({ timeout: 30_000 });
    await expect.poll(() => rejoins(lee), { timeout: 15_000 }).toEqual([{ resumed: true }]);
    await expectFlowing(kim.page, (f) => f.kind === 'video', 1);
    await expectFlowing(lee.page, (f) => f.kind === 'video', 1);
    await expectFlowing(kim.page, (f) => f.kind === 'audio', 1);
    expect(await consumerIds(kim)).toEqual(kimSees);
  });

  it('a drop longer than the grace period: a full rejoin with new transports, media flows again', async () => {
    const kimSees = await consumerIds(kim);
    proxy.cut();
    // the server gives up on Lee after the grace period: Kim sees Lee leave
    await expect.poll(() => kim.page.locator('#stage .tile').count(), { timeout: GRACE_MS + 20_000 }).toBe(1);
    // while Lee is away, Kim writes in the shared notes
    await kim.page.locator('#notes .cm-content').click();
    await kim.page.keyboard.type('Written while Lee was away. ');
    proxy.restore();
    await lee.page.locator('header .conn-connected').waitFor({ timeout: 30_000 });
    await expect.poll(() => rejoins(lee), { timeout: 20_000 }).toEqual([{ resumed: true }, { resumed: false }]);
    await expect.poll(() => kim.page.locator('#stage .tile').count(), { timeout: 20_000 }).toBe(2);
    for (const p of [kim, lee]) {
      await expectFlowing(p.page, (f) => f.kind === 'video', 1);
      await expectFlowing(p.page, (f) => f.kind === 'audio', 1);
    }
    // Kim receives Lee through new consumers (Lee published again)
    const now = await consumerIds(kim);
    expect(now.some((id) => kimSees.includes(id))).toBe(false);
    // the notes resynced through Yjs, and Lee's edits reach Kim again
    await expect.poll(() => docText(lee, notesName), { timeout: 15_000 }).toContain('Written while Lee was away.');
    await lee.page.locator('#notes .cm-content').click();
    await lee.page.keyboard.press('End');
    await lee.page.keyboard.type('Lee is back.');
    await expect.poll(() => docText(kim, notesName), { timeout: 15_000 }).toContain('Lee is back.');
    await shot(lee.page, 'meeting-after-reconnect-en-desktop');
  });
});
