import { BENIGN_WORKER_WARNINGS } from '@moim/sfu';
import { waitFor } from '@moim/sfu/testing';
import * as mediasoup from 'mediasoup';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRoom, mediaPeer } from '../../server/src/media/testing/testPeers.ts';
import type { TestServer } from '../../server/src/testing/index.ts';
import { launchMediaBrowser, startMediaPageServer, startPagePeer } from './mediaPage.ts';

/**
 * mediasoup's warnings in a browser meeting (issue 15), with their causes: two Chromium peers
 * publish simulcast camera and mic for ~20 s while the worker logs at debug level with the tags
 * rtp, rtx, srtp and bwe. Every warning must be one of BENIGN_WORKER_WARNINGS, with the cause
 * its comment gives visible in the worker's own debug lines, in bounded numbers; none comes from
 * SRTP refusing the worker's bandwidth probes (moim's worker build fixes that mediasoup bug).
 */

const MEETING_MS = 20_000;

let server: TestServer;
let browser: Browser;
/** Every worker log line (debug and warnings), in order. */
const lines: Array<{ level: 'debug' | 'warn' | 'error'; line: string }> = [];

beforeAll(async () => {
  server = await startMediaPageServer({ entry: 'sfu-webrtc.page.ts', globalName: 'moimSfuPage', name: 'sfu' });
  // read the worker's lines here (this replaces the server's routing of them for this test)
  mediasoup.setLogEventListeners({
    ondebug: (_ns, line) => {
      if (line.startsWith('[pid:')) lines.push({ level: 'debug', line });
    },
    onwarn: (_ns, line) => lines.push({ level: 'warn', line }),
    onerror: (_ns, line) => lines.push({ level: 'error', line }),
  });
  for (const w of server.app.media.pool.workers())
    await w.worker.updateSettings({ logLevel: 'debug', logTags: ['rtp', 'rtx', 'srtp', 'rtcp', 'bwe', 'simulcast'] });
  browser = await launchMediaBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type PageApi = {
  start(o: { url: string; token: string; roomId: string }): Promise<{ peerId: string }>;
  videoStats(): Promise<Array<{ consumerId: string; framesDecoded: number }>>;
};

describe('mediasoup worker warnings in a browser meeting', () => {
  test('are all known, bounded, and show their cause; no SRTP replay refusals', async () => {
    const owner = await mediaPeer(server, { name: 'Owner' });
    const { roomId } = await createRoom(owner, 'standard');
    owner.close();
    const started = Date.now();
    const pages: Page[] = [];
    for (const name of ['Ana', 'Ben']) pages.push(await startPagePeer(browser, server, 'sfu', name, roomId));
    for (const page of pages)
      await waitFor(
        async () =>
          (await page.evaluate(() => (globalThis as unknown as { moim: PageApi }).moim.videoStats())).some(
            (s) => s.framesDecoded > 0,
          ),
        { timeoutMs: 30_000, what: 'decoded frames' },
      );
    await new Promise((r) => setTimeout(r, Math.max(0, MEETING_MS - (Date.now() - started))));

    const warnings = lines.filter((l) => l.level !== 'debug');
    const causeOf = (line: string) => BENIGN_WORKER_WARNINGS.find((w) => w.pattern.test(line))?.key;
    expect(warnings.filter((w) => causeOf(w.line) === undefined).map((w) => w.line)).toEqual([]);
    const count = (key: string) => warnings.filter((w) => causeOf(w.line) === key).length;

    // the bug moim's worker build fixes: probes refused by SRTP
    expect(count('srtp-replay')).toBe(0);

    // an RTX packet before its encoding's first media packet: the worker says so just before
    for (const [i, l] of lines.entries()) {
      if (causeOf(l.line) !== 'unknown-rtx') continue;
      const before = lines.slice(Math.max(0, i - 10), i).map((x) => x.line);
      expect(
        before.some((b) => b.includes('ignoring RTX packet for not yet created RtpStream')),
        `${l.line}\nafter:\n${before.join('\n')}`,
      ).toBe(true);
    }
    // only at the start of an encoding: Chromium's first probe cluster of RTX padding (1 to ~9
    // packets, more on a busy machine) goes out before the first media packet; bounded per peer
    // and encoding (3 simulcast encodings), not a flow (that would be hundreds in 20 s)
    expect(count('unknown-rtx')).toBeLessThanOrEqual(2 * 3 * 10);

    // RTP before its producer existed: a media packet's SSRC becomes a producer's stream afterwards
    // (an early RTX packet — Chromium's retransmission/padding payload type, which never names a
    // stream of its own — has no stream to become; it is only counted)
    const mediaPayloadTypes = new Set(
      lines.flatMap(
        (x) =>
          /CreateRtpStream\(\) \| \[encodingIdx:\d+, ssrc:\d+, rid:[^,]*, payloadType:(\d+)/.exec(x.line)?.[1] ?? [],
      ),
    );
    for (const [i, l] of lines.entries()) {
      if (causeOf(l.line) !== 'early-rtp') continue;
      const ssrc = /\[ssrc:(\d+)/.exec(l.line)?.[1];
      expect(ssrc).toBeDefined();
      const payloadType = /payloadType:(\d+)/.exec(l.line)?.[1];
      if (payloadType !== undefined && !mediaPayloadTypes.has(payloadType)) continue;
      expect(
        lines
          .slice(i + 1)
          .some((x) => new RegExp(`CreateRtpStream\\(\\) \\| \\[encodingIdx:\\d+, ssrc:${ssrc},`).test(x.line)),
        `${l.line}: no producer stream for this SSRC afterwards`,
      ).toBe(true);
    }
    // a few packets at each start, not a flow
    expect(count('early-rtp')).toBeLessThanOrEqual(2 * 50);

    // the counter operators read, one series per cause
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const w of BENIGN_WORKER_WARNINGS)
      expect(metrics).toMatch(
        new RegExp(`^moim_sfu_worker_warnings_total\\{[^}]*warning="${w.key}"[^}]*\\} \\d+$`, 'm'),
      );
    expect(server.app.media.pool.deaths).toBe(0);
  }, 60_000);
});
