import { waitFor } from '@moim/sfu/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRoom, mediaPeer } from '../../server/src/media/testing/testPeers.ts';
import type { TestServer } from '../../server/src/testing/index.ts';
import { launchMediaBrowser, startMediaPageServer, startPagePeer } from './mediaPage.ts';

/**
 * A real WebRTC peer over DTLS: headless Chromium with a fake camera and microphone publishes
 * through a WebRtcTransport of the real server and receives another Chromium peer's media back.
 * This is the path where a worker built against Debian's OpenSSL crashes unless the build
 * fixes it (shared/MEDIASOUP.md), which plain RTP tests never reach.
 */

let server: TestServer;
let browser: Browser;

type PageApi = {
  start(o: { url: string; token: string; roomId: string }): Promise<{ peerId: string }>;
  videoStats(): Promise<Array<{ consumerId: string; framesDecoded: number; frameWidth: number }>>;
  setLayer(consumerId: string, spatialLayer: number): Promise<void>;
  layers(): Array<{ consumerId: string; spatialLayer: number | null }>;
  errors(): string[];
};

async function videoStats(page: Page) {
  return page.evaluate(() => (globalThis as unknown as { moim: PageApi }).moim.videoStats());
}

beforeAll(async () => {
  server = await startMediaPageServer({ entry: 'sfu-webrtc.page.ts', globalName: 'moimSfuPage', name: 'sfu' });
  browser = await launchMediaBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Chromium ↔ SFU over DTLS', () => {
  test('two browsers publish camera and mic and decode each other’s video; simulcast switches down', async () => {
    const owner = await mediaPeer(server, { name: 'Owner' });
    const { roomId } = await createRoom(owner, 'standard');
    owner.close();
    const ana = await startPagePeer(browser, server, 'sfu', 'Ana', roomId);
    const ben = await startPagePeer(browser, server, 'sfu', 'Ben', roomId);

    // each side decodes the other's video: framesDecoded grows
    for (const page of [ana, ben]) {
      const first = await waitFor(async () => (await videoStats(page)).find((s) => s.framesDecoded > 0), {
        timeoutMs: 30_000,
        what: 'decoded frames',
      });
      await waitFor(
        async () =>
          ((await videoStats(page)).find((s) => s.consumerId === first.consumerId)?.framesDecoded ?? 0) >
          first.framesDecoded + 10,
        { timeoutMs: 20_000, what: 'framesDecoded to grow' },
      );
    }

    // simulcast down: wait until the consumer's current layer is above 0, then ask for layer 0. The
    // current one, not any earlier one: the bandwidth estimate may take a layer up and down again
    // on its own (a busy machine), and a request for the layer the consumer already has changes nothing
    const stats = await videoStats(ben);
    const consumerId = stats[0]!.consumerId;
    const layersOf = () => ben.evaluate(() => (globalThis as unknown as { moim: PageApi }).moim.layers());
    const seen = await waitFor(
      async () => {
        const layers = await layersOf();
        const current = layers.filter((l) => l.consumerId === consumerId).at(-1);
        return (current?.spatialLayer ?? 0) >= 1 ? layers.length : undefined;
      },
      { timeoutMs: 30_000, what: 'a spatial layer above 0' },
    );
    const widthBefore = (await videoStats(ben)).find((s) => s.consumerId === consumerId)!.frameWidth;
    await ben.evaluate(([id]) => (globalThis as unknown as { moim: PageApi }).moim.setLayer(id!, 0), [consumerId]);
    await waitFor(
      async () => (await layersOf()).slice(seen).some((l) => l.consumerId === consumerId && l.spatialLayer === 0),
      { timeoutMs: 20_000, what: 'consumerLayersChanged to 0' },
    );
    await waitFor(
      async () => {
        const w = (await videoStats(ben)).find((s) => s.consumerId === consumerId)?.frameWidth ?? 0;
        return w > 0 && w < widthBefore;
      },
      { timeoutMs: 20_000, what: 'smaller decoded frames' },
    );
    expect(await ben.evaluate(() => (globalThis as unknown as { moim: PageApi }).moim.errors())).toEqual([]);
    expect(server.app.media.pool.deaths).toBe(0);
  });
});
