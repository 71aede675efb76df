import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
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

type SenderParams = {
  encodings: Array<{ maxBitrate?: number; maxFramerate?: number; scaleResolutionDownBy?: number }>;
};

/** Camera encodings as the browser sends them (per camera index), via the app's debug hook. */
function cameraEncodings(p: Person, index: number) {
  return p.page.evaluate((i) => {
    const w = window as unknown as {
      __moim: { ctx: { meeting: { room: { senderParameters(s: string, i: number): SenderParams | undefined } } } };
    };
    return w.__moim.ctx.meeting.room.senderParameters('camera', i)?.encodings.map((e) => ({
      maxBitrate: e.maxBitrate,
      maxFramerate: e.maxFramerate,
    }));
  }, index);
}

/**
 * An immersive room between a meeting room at HQ with two cameras (two fake devices) and a
 * person at a smart office.
 */
describe('immersive room with several cameras', () => {
  let server: ServerProcess;
  let roomBrowser: Browser;
  let personBrowser: Browser;
  let hq: Person;
  let remote: Person;

  beforeAll(async () => {
    server = await startServer();
    // Chromium's fake_device_1 is a depth camera (Y16) that cannot be encoded: with three fake
    // devices the app publishes all three, notices that one delivers no frames and turns it off
    roomBrowser = await launchBrowser({ cameras: 3 });
    personBrowser = await launchBrowser();
    hq = await signIn(roomBrowser, server.url, { name: 'HQ Room A', site: 'hq', role: 'manager', lang: 'en' });
    remote = await signIn(personBrowser, server.url, { name: '박지훈', site: 'so-daejeon', lang: 'ko' });
  });
  afterAll(async () => {
    await roomBrowser?.close();
    await personBrowser?.close();
    await server?.stop();
  });
  afterEach(async (c) => {
    if (c.task.result?.state === 'fail') for (const p of [hq, remote]) await shot(p.page, `failed-immersive-${p.site}`);
    expect([...hq.errors.splice(0), ...remote.errors.splice(0)]).toEqual([]);
    // the only error the app may show: the depth camera that cannot be sent
    const shown = [...(await shownErrors(hq)), ...(await shownErrors(remote))];
    expect(shown.filter((m) => !/Camera 2 sends no picture/.test(m))).toEqual([]);
  });

  it('publishes two cameras with the tier’s encodings and the other side receives both', async () => {
    await hq.page.goto(`${server.url}/#/meeting`);
    await hq.page.locator('#meeting-name').fill('Telepresence HQ–Daejeon');
    await hq.page.locator('input[name=tier][value=immersive]').check();
    await hq.page.locator('#new-meeting button[type=submit]').click();
    await hq.page.waitForURL(/#\/meeting\/[^/]+$/);
    // two cameras stay published (the depth camera is turned off by the stall check)
    await expect.poll(() => hq.page.locator('#stage .tile.local').count(), { timeout: 30_000 }).toBe(2);
    const published = await hq.page.evaluate(() => {
      const w = window as unknown as {
        __moim: { ctx: { meeting: { room: { localTracks: Array<{ source: string; index: number }> } } } };
      };
      return w.__moim.ctx.meeting.room.localTracks.filter((l) => l.source === 'camera').map((l) => l.index);
    });
    expect(published).toHaveLength(2);
    await remote.page.goto(hq.page.url());

    // the person at the smart office receives both cameras of the room, and its audio
    const flowing = await expectFlowing(remote.page, (f) => f.kind === 'video' && f.source === 'camera', 2, 60_000);
    expect(new Set(flowing.map((f) => f.index))).toEqual(new Set(published));
    await expectFlowing(remote.page, (f) => f.kind === 'audio', 1);
    // and the room receives the person
    await expectFlowing(hq.page, (f) => f.kind === 'video' && f.source === 'camera', 1, 60_000);

    // what the tier configured, as the browser sends it: one high-bitrate encoding per camera
    for (const index of published)
      expect(await cameraEncodings(hq, index)).toEqual([{ maxBitrate: 6_000_000, maxFramerate: 30 }]);

    // laid out per site: the room's two cameras side by side under HQ
    await expect
      .poll(() => remote.page.locator('.stage.immersive .site-row[data-site="hq"] .tile').count(), { timeout: 15_000 })
      .toBe(2);
    await remote.page.locator('.stage.immersive .site-row[data-site="so-daejeon"] .tile').first().waitFor();
    await shots(remote.page, 'meeting-immersive-ko');
    await shots(hq.page, 'meeting-immersive-en');
  });
});
