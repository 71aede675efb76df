import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Person, type ServerProcess, shot, signIn, startServer } from './harness.ts';

/**
 * The recording indicator in the web app, against the server as `npm start` runs it: a manager
 * (Korean UI) starts a meeting and records it with the toolbar's button; the member already in it (English UI) sees the
 * indicator, so does one who joins while it runs, and it goes away for everyone when it stops. The
 * server's ffmpeg takes 6 s to finish a file (test/support/slow-stop-ffmpeg.sh): the stop is seen under way.
 */
let server: ServerProcess;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
  const min = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  // personal rooms are not recorded: the refusal's text is checked below
  const record = { record: true, downloadsAllowed: true, downloadBy: 'recorders', retentionDays: 30 };
  const policy = { personal: { ...record, record: false }, standard: record, immersive: record };
  server = await startServer({
    MOIM_RECORDING_PORT_MIN: String(min),
    MOIM_RECORDING_PORT_MAX: String(min + 49),
    MOIM_RECORDING_POLICY: JSON.stringify(policy),
    // ffmpeg takes 6 s to finish its file after a stop: the button shows the stop under way
    MOIM_RECORDING_FFMPEG: fileURLToPath(new URL('../support/slow-stop-ffmpeg.sh', import.meta.url)),
  });
  browser = await launchBrowser();
});

// each test's people leave when it ends: their pages would go on encoding and decoding fake video in
// their meetings, taking the CPU the next test's browser needs (on 2 cores it then timed out)
afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

afterAll(async () => {
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
    // the stop waits for the files: the button says so and takes no second click meanwhile
    const saving = kim.page.locator('#ctl-record[disabled][aria-busy=true]');
    await saving.waitFor({ timeout: 5_000 });
    expect(await saving.textContent()).toBe('녹화 저장 중…');
    // everyone sees it being saved (ffmpeg takes 6 s to finish its file), in the list too
    await badge(lee).filter({ hasText: '● Saving recording' }).waitFor({ timeout: 5_000 });
    await badge(park).filter({ hasText: '● 녹화 저장 중' }).waitFor({ timeout: 5_000 });
    const listed = lee.page.locator('#recordings .recording-item[data-state=saving] .recording-state');
    await listed.waitFor({ timeout: 5_000 });
    expect(await listed.textContent()).toBe('Saving');
    for (const p of [kim, lee, park]) await badge(p).waitFor({ state: 'hidden', timeout: 30_000 });
    const again = kim.page.locator('#ctl-record:not([disabled])');
    await again.waitFor({ timeout: 10_000 });
    expect(await again.textContent()).toBe('녹화');
    for (const p of people) expect(p.errors).toEqual([]);
  }, 90_000);

  it('the meeting lists its recordings; a recorder downloads a file with its bytes, a member may not', async () => {
    const choi = await signIn(browser, server.url, { name: '최지우', site: 'hq', role: 'manager', lang: 'ko' });
    const jung = await signIn(browser, server.url, { name: 'Jung', site: 'home', lang: 'en' });
    people.push(choi, jung);
    await choi.page.goto(`${server.url}/#/meeting`);
    await choi.page.locator('#meeting-name').fill('목록 회의');
    await choi.page.locator('#new-meeting button[type=submit]').click();
    await choi.page.waitForURL(/#\/meeting\/[^/]+$/);
    const roomUrl = choi.page.url();
    await jung.page.goto(roomUrl);
    for (const p of [choi, jung]) await p.page.locator('#stage .tile video').nth(1).waitFor({ timeout: 30_000 });
    expect(await choi.page.locator('#recordings .recording-item').count()).toBe(0);

    await choi.page.locator('#ctl-record').click();
    await badge(choi).waitFor({ state: 'visible', timeout: 15_000 });
    const running = choi.page.locator('#recordings .recording-item[data-state=recording]');
    await running.waitFor({ timeout: 15_000 });
    await choi.page.waitForTimeout(3000); // a few seconds of media in the files
    await choi.page.locator('#ctl-record').click();
    const done = (p: Person) => p.page.locator('#recordings .recording-item[data-state=stopped]');
    await done(choi).waitFor({ timeout: 30_000 });
    await done(jung).waitFor({ timeout: 30_000 });
    expect(await done(choi).locator('.recording-state').textContent()).toBe('완료');
    expect(await done(jung).locator('.recording-state').textContent()).toBe('Finished');
    expect(await done(choi).locator('.recording-start').textContent()).toMatch(/시작$/);
    expect(await done(choi).locator('.recording-duration').textContent()).toMatch(/^\d+분 \d+초$/);
    // downloads by recorders (the default): the member sees the list without download buttons
    expect(await done(jung).locator('.recording-file').count()).toBe(0);
    expect(await done(jung).textContent()).toContain('Downloads are not allowed for you.');

    const buttons = done(choi).locator('.recording-file');
    expect(await buttons.count()).toBeGreaterThan(0);
    const file = (await buttons.first().getAttribute('data-file')) ?? '';
    expect(file).toMatch(/^t\d+-\d+\.webm$/);
    const recordingId = (await done(choi).getAttribute('data-recording-id')) ?? '';
    const [download] = await Promise.all([choi.page.waitForEvent('download'), buttons.first().click()]);
    const path = await download.path();
    const saved = await readFile(path);
    expect(download.suggestedFilename()).toBe(`${recordingId}-${file}`);
    // the same file straight from the server with the page's token
    const token = await choi.page.evaluate(
      () => (window as unknown as { __moim: { ctx: { client: { token: string } } } }).__moim.ctx.client.token,
    );
    const res = await fetch(`${server.url}/recordings/${recordingId}/files/${file}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const direct = Buffer.from(await res.arrayBuffer());
    expect(saved.length).toBeGreaterThan(0);
    expect(createHash('sha256').update(saved).digest('hex')).toBe(createHash('sha256').update(direct).digest('hex'));
    expect(saved.subarray(0, 4).toString('hex')).toBe('1a45dfa3'); // WebM (EBML) header
    for (const p of [choi, jung]) expect(p.errors).toEqual([]);
  }, 90_000);

  it('a refusal shows its translated text; no record button without the `record` grant', async () => {
    const kang = await signIn(browser, server.url, { name: '강하늘', site: 'hq', role: 'manager', lang: 'ko' });
    const yoon = await signIn(browser, server.url, { name: 'Yoon', site: 'home', lang: 'en' });
    people.push(kang, yoon);
    // a personal room: the policy does not record this tier → POLICY_FORBIDS, in Korean
    await kang.page.goto(`${server.url}/#/meeting`);
    await kang.page.locator('#new-meeting .tier-option[data-tier=personal] input').check();
    await kang.page.locator('#new-meeting button[type=submit]').click();
    await kang.page.waitForURL(/#\/meeting\/[^/]+$/);
    await kang.page.locator('#stage .tile video').first().waitFor({ timeout: 30_000 });
    await kang.page.locator('#ctl-record').click();
    const toast = kang.page.locator('.toasts .toast-error');
    await toast.waitFor({ timeout: 15_000 });
    expect(await toast.textContent()).toContain('이 채널·회의·문서의 정보 유출 방지 정책상 허용되지 않습니다.');
    expect(await badge(kang).isHidden()).toBe(true);

    // a member who owns the meeting: the UI's moderator, but the token grants no `record`
    await yoon.page.goto(`${server.url}/#/meeting`);
    await yoon.page.locator('#new-meeting button[type=submit]').click();
    await yoon.page.waitForURL(/#\/meeting\/[^/]+$/);
    await yoon.page.locator('#stage .tile video').first().waitFor({ timeout: 30_000 });
    expect(await yoon.page.locator('#ctl-close').count()).toBe(1); // the owner's moderator controls are there
    expect(await yoon.page.locator('#ctl-record').count()).toBe(0);
    for (const p of [kang, yoon]) expect(p.errors).toEqual([]);
  }, 60_000);
});
