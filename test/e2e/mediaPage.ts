/**
 * The set-up shared by the e2e tests whose test page (`*.page.ts`, see testPage.ts) sends real media
 * through the SFU: a test server with one SFU worker on loopback serving the bundled page, Debian's
 * Chromium with a fake camera and microphone, and peers opened on the page.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/src/testing/index.ts';
import { bundleTestPage, serveTestPage } from './testPage.ts';

/** A test page: its module in test/e2e, the global its bundle assigns, and the name it is served under. */
export interface MediaTestPage {
  entry: string;
  globalName: string;
  name: string;
}

/**
 * Bundle `page`, start a test server with one SFU worker listening on 127.0.0.1 (`env` adds to or
 * overrides that), and serve the page at `/e2e/<name>.html`.
 */
export async function startMediaPageServer(page: MediaTestPage, env: Record<string, string> = {}): Promise<TestServer> {
  const js = await bundleTestPage(page.entry, page.globalName);
  const server = await startTestServer({ MOIM_SFU_WORKERS: '1', MOIM_RTC_LISTEN: '[{"ip":"127.0.0.1"}]', ...env });
  serveTestPage(server.app.router, page.name, js);
  return server;
}

/**
 * Debian's headless Chromium (never a downloaded one) with a fake microphone and camera (`cameras` of
 * them, one unless said); `args` adds flags.
 */
export function launchMediaBrowser(opts: { cameras?: number; args?: string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.MOIM_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      opts.cameras
        ? `--use-fake-device-for-media-stream=device-count=${opts.cameras}`
        : '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      ...(opts.args ?? []),
    ],
  });
}

/** The test page `name` in a browser context of its own; its uncaught errors are logged under `who`. */
export async function openTestPage(browser: Browser, server: TestServer, name: string, who: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${who}] page error`, err));
  await page.goto(`${server.url}/e2e/${name}.html`);
  return page;
}

/**
 * A peer named `who` in `roomId`: the test page `name` opened and started (`moim.start`) with a token of
 * its own, which joins the room and publishes the fake camera and microphone.
 */
export async function startPagePeer(
  browser: Browser,
  server: TestServer,
  name: string,
  who: string,
  roomId: string,
): Promise<Page> {
  const page = await openTestPage(browser, server, name, who);
  const token = await server.token({ name: who });
  await page.evaluate(
    (o) =>
      (
        globalThis as unknown as {
          moim: { start(o: { url: string; token: string; roomId: string }): Promise<unknown> };
        }
      ).moim.start(o),
    { url: server.url, token, roomId },
  );
  return page;
}
