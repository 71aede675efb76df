import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { devToken, root, type ServerProcess, startServerProcess } from '../support/serverProcess.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.ts';
import { launchMediaBrowser } from './mediaPage.ts';

export { root };
export const artifacts = path.join(root, 'test-artifacts', 'e2e');

// ------------------------------------------------------------------------------------- server

export type { ServerProcess } from '../support/serverProcess.ts';

/** Start the server exactly as `npm start` does (node server/src/main.ts) on a free port with a temporary data folder. */
export function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess(env);
}

// ------------------------------------------------------------------------------------- browser

/**
 * Debian's Chromium with fake camera(s) and microphone; never a downloaded browser. `autoplay: false` leaves out the autoplay
 * flag: a page then plays sound only as the browser's own policy allows (ringing must fall back
 * to a Notification).
 */
export function launchBrowser(opts: { cameras?: number; autoplay?: boolean } = {}): Promise<Browser> {
  return launchMediaBrowser({
    cameras: opts.cameras,
    args: [
      ...(opts.autoplay === false ? [] : ['--autoplay-policy=no-user-gesture-required']),
      // background tabs must keep decoding (two people share one browser process)
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
}

export interface Person {
  name: string;
  site: string;
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page (tests fail on any). */
  errors: string[];
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** A person in their own browser context, signed in through the dev sign-in form. */
export async function signIn(
  browser: Browser,
  url: string,
  who: { name: string; site: string; role?: 'member' | 'manager' | 'admin'; lang?: 'ko' | 'en' },
  viewport = DESKTOP,
): Promise<Person> {
  const lang = who.lang ?? 'ko';
  const context = await browser.newContext({
    viewport,
    locale: lang === 'ko' ? 'ko-KR' : 'en-US',
    timezoneId: 'Asia/Seoul',
    permissions: ['camera', 'microphone'],
  });
  await context.addInitScript(() => localStorage.setItem('moim.debug', '1'));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`${who.name}: ${err.stack ?? err.message}`));
  await ensureSite(url, who.site);
  await page.goto(url);
  // step 1: who (the app then reads the org's sites with a token at its default site)
  await page.locator('#signin-name').fill(who.name);
  await page.locator('#signin-role').selectOption(who.role ?? 'member');
  await page.locator('form.signin[data-step="who"] button[type=submit]').click();
  // step 2: where, from the server's list
  await page.locator('#signin-site').selectOption(who.site);
  await page.locator('form.signin[data-step="where"] button[type=submit]').click();
  await page.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
  return { name: who.name, site: who.site, context, page, errors };
}

/** Sites the browser tests sign in at besides the seeded `hq` and `home`, with their names. */
const TEST_SITES = new Map([
  ['so-seoul', 'Seoul Station smart office'],
  ['so-sejong', 'Sejong smart office'],
  ['so-daejeon', 'Daejeon smart office'],
  ['so-busan', 'Busan smart office'],
]);

/**
 * Sites are the organisation's data: a test signing someone in at a site the server does not
 * have yet creates it first (an admin's PUT; open every day, all day, Asia/Seoul). A site the
 * test created itself is left as it is.
 */
export async function ensureSite(url: string, id: string): Promise<void> {
  if (id === 'hq' || id === 'home') return;
  const token = await devToken(url, { name: 'Test admin', sub: 'e2e-site-admin', role: 'admin' });
  const auth = { authorization: `Bearer ${token}` };
  const found = await fetch(`${url}/telework/sites/${encodeURIComponent(id)}`, { headers: auth });
  await found.body?.cancel();
  if (found.status === 200) return;
  const allDay = { open: '00:00', close: '23:59' };
  const res = await fetch(`${url}/telework/sites/${encodeURIComponent(id)}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: TEST_SITES.get(id) ?? id,
      address: '',
      timeZone: 'Asia/Seoul',
      openingHours: Array.from({ length: 7 }, () => allDay),
      networks: [],
      kind: 'smart-work-centre',
    }),
  });
  if (!res.ok) throw new Error(`creating site ${id} failed: ${res.status} ${await res.text()}`);
}

/** Errors the app showed (error toasts), taken from the page so each test sees only its own. */
export function shownErrors(p: { page: Page }): Promise<string[]> {
  return p.page
    .evaluate(() => {
      const w = window as unknown as { __moim?: { errors: string[] } };
      return w.__moim ? w.__moim.errors.splice(0) : [];
    })
    .catch(() => []);
}

/** Save a screenshot under test-artifacts/e2e/. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Screenshots at desktop and phone width. */
export async function shots(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? DESKTOP;
  await shot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(300);
  await shot(page, `${name}-phone`);
  await page.setViewportSize(size);
}

// ------------------------------------------------------------------------------------- media

export interface InboundFigures {
  consumerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: string;
  index: number;
  framesDecoded: number;
  bytesReceived: number;
}

/** Per-consumer inbound-rtp figures of the meeting on this page (via the app's debug hook). */
export function inbound(page: Page): Promise<InboundFigures[]> {
  return page.evaluate(async () => {
    type Track = {
      consumerId: string;
      peerId: string;
      kind: 'audio' | 'video';
      source: string;
      index: number;
      getStats(): Promise<RTCStatsReport>;
    };
    const w = window as unknown as { __moim?: { ctx: { meeting?: { room: { remoteTracks: Track[] } } } } };
    const tracks = w.__moim?.ctx.meeting?.room.remoteTracks ?? [];
    const out: InboundFigures[] = [];
    for (const t of tracks) {
      const stats = await t.getStats();
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp' || s.kind !== t.kind) return;
        out.push({
          consumerId: t.consumerId,
          peerId: t.peerId,
          kind: t.kind,
          source: t.source,
          index: t.index,
          framesDecoded: Number(s.framesDecoded ?? 0),
          bytesReceived: Number(s.bytesReceived ?? 0),
        });
      });
    }
    return out;
  });
}

/**
 * Wait until every consumer matching `filter` keeps receiving: video `framesDecoded` and audio
 * `bytesReceived` grow between two readings (at least `count` such consumers).
 */
export async function expectFlowing(
  page: Page,
  filter: (f: InboundFigures) => boolean,
  count: number,
  timeoutMs = 45_000,
): Promise<InboundFigures[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = (await inbound(page)).filter(filter);
    await page.waitForTimeout(1500);
    const b = (await inbound(page)).filter(filter);
    const growing = b.filter((x) => {
      const before = a.find((y) => y.consumerId === x.consumerId);
      if (!before) return false;
      return x.kind === 'video'
        ? x.framesDecoded > before.framesDecoded && x.framesDecoded > 0
        : x.bytesReceived > before.bytesReceived;
    });
    if (growing.length >= count) return growing;
    if (Date.now() > deadline)
      throw new Error(`media not flowing (want ${count}): ${JSON.stringify({ before: a, after: b })}`);
  }
}

/** The text of an open shared document on this page (from Yjs, not the editor's DOM). */
export function docText(p: { page: Page }, name: string): Promise<string | null> {
  return p.page.evaluate((n) => {
    const w = window as unknown as { __moim?: { docText?(name: string): string | null } };
    return w.__moim?.docText?.(n) ?? null;
  }, name);
}

// ------------------------------------------------------------------------------------- network

/** A TCP proxy in front of the server for one browser (`cut()`/`restore()` its network): see test/support/tcpProxy.ts. */
export function tcpProxy(targetPort: number): Promise<TcpProxy> {
  return startTcpProxy({ targetPort, localAddress: '127.0.0.1' });
}
