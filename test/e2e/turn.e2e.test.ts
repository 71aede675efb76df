import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { iceServersFor } from '@moim/sfu';
import { waitFor } from '@moim/sfu/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { coturnConfig } from '../../server/src/media/coturnConfig.ts';
import { createRoom, mediaPeer } from '../../server/src/media/testing/testPeers.ts';
import { startTestServer, type TestServer } from '../../server/src/testing/index.ts';
import { TurnClient } from '../support/turnClient.ts';
import { expectFlowing, shot, signIn } from './harness.ts';
import { launchMediaBrowser, openTestPage, startMediaPageServer } from './mediaPage.ts';

/**
 * Closed networks: coturn (Debian's turnserver) on loopback with TURN over TLS only, configured by
 * moim's own generator (coturnConfig) with a certificate from a test CA made here with openssl,
 * which Chromium trusts through the CA's SPKI hash. moim mints the TURN REST credentials; a
 * browser in strict network mode (relay only) joins a room through the relay and decodes video; a
 * wrong secret and an expired credential are refused by coturn; a transport without UDP uses TCP.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.MOIM_CHROMIUM ?? '/usr/bin/chromium';
const SECRET = 'turn-e2e-shared-secret-0123456789';

let dir: string;
let turnPort: number;
let caFile: string;
let coturn: ChildProcess | undefined;
let coturnLog = '';
let server: TestServer;
let browser: Browser;
const pages: Page[] = [];

type PageApi = {
  join(o: {
    url: string;
    token: string;
    roomId: string;
    strictNetwork: boolean;
    forceTcp: boolean;
    publish: boolean;
  }): Promise<void>;
  recvFigures(): Promise<
    | {
        state: string;
        localType: string;
        localProtocol: string;
        relayProtocol: string | undefined;
        remoteProtocol: string;
        bytesReceived: number;
        framesDecoded: number;
      }
    | undefined
  >;
  gather(iceServers: unknown[]): Promise<{
    relay: Array<{ address: string | null; relayProtocol: string | undefined }>;
    errors: Array<{ errorCode: number; url: string }>;
  }>;
  errors(): string[];
};
type Moim = { moim: PageApi };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = tcpConnect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** A test CA and a certificate for localhost signed by it; returns the CA's SPKI SHA-256 (base64). */
function makeCertificates(): { cert: string; key: string; ca: string; caSpki: string } {
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=moim TURN test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  ssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    f('turn.key'),
    '-out',
    f('turn.csr'),
  );
  writeFileSync(
    f('turn.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  ssl(
    'x509',
    '-req',
    '-in',
    f('turn.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('turn.ext'),
    '-out',
    f('turn.pem'),
  );
  // the chain coturn serves: the certificate, then the CA
  writeFileSync(f('chain.pem'), readFileSync(f('turn.pem'), 'utf8') + readFileSync(f('ca.pem'), 'utf8'));
  const ca = new X509Certificate(readFileSync(f('ca.pem')));
  const spki = ca.publicKey.export({ type: 'spki', format: 'der' });
  return {
    cert: f('chain.pem'),
    key: f('turn.key'),
    ca: f('ca.pem'),
    caSpki: createHash('sha256').update(spki).digest('base64'),
  };
}

async function openPage(name: string): Promise<Page> {
  const page = await openTestPage(browser, server, 'turn', name);
  pages.push(page);
  return page;
}

/** Join `roomId` on a turn page with `token`: publishing camera and mic or only receiving, relay-only or TCP-only if asked. */
async function join(
  page: Page,
  token: string,
  roomId: string,
  o: { publish: boolean; strictNetwork?: boolean; forceTcp?: boolean },
): Promise<void> {
  await page.evaluate((a) => (globalThis as unknown as Moim).moim.join(a), {
    url: server.url,
    token,
    roomId,
    strictNetwork: o.strictNetwork ?? false,
    forceTcp: o.forceTcp ?? false,
    publish: o.publish,
  });
}

const figures = (page: Page) => page.evaluate(() => (globalThis as unknown as Moim).moim.recvFigures());

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'moim-e2e-turn-'));
  const { cert, key, ca, caSpki } = makeCertificates();
  caFile = ca;
  turnPort = await freePort();
  const turnUrl = `turns:localhost:${turnPort}?transport=tcp`;
  server = await startMediaPageServer(
    { entry: 'turn.page.ts', globalName: 'moimTurnPage', name: 'turn' },
    {
      MOIM_RTC_PORT: '0',
      MOIM_TURN_URLS: JSON.stringify([turnUrl]),
      MOIM_TURN_SECRET: SECRET,
      MOIM_TURN_TTL_S: '300',
      // the built web app (globalSetup builds it), for the web app's strict-network setting
      MOIM_WEB_ROOT: path.resolve(here, '../../web-demo/dist'),
    },
  );
  // coturn configured by moim's generator from the same settings; loopback peers in this test only
  const conf = coturnConfig({
    urls: [turnUrl],
    secret: SECRET,
    sfuAddresses: [{ ip: '127.0.0.1' }],
    listeningIp: '127.0.0.1',
    relayIp: '127.0.0.1',
    realm: 'moim.test',
    cert,
    pkey: key,
    allowLoopbackPeers: true,
    userQuota: 6,
    extra: [
      'verbose',
      'log-file=stdout',
      'simple-log',
      `pidfile=${path.join(dir, 'turn.pid')}`,
      `userdb=${path.join(dir, 'turndb')}`,
    ],
  });
  writeFileSync(path.join(dir, 'turnserver.conf'), conf);
  coturn = spawn('turnserver', ['-c', path.join(dir, 'turnserver.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  coturn.stdout?.on('data', (d: Buffer) => {
    coturnLog += d.toString();
  });
  coturn.stderr?.on('data', (d: Buffer) => {
    coturnLog += d.toString();
  });
  await waitFor(() => accepts(turnPort), { timeoutMs: 15_000, what: `coturn on TLS port ${turnPort}` });

  // trust the test CA (not the whole web): certificates chaining to this key are accepted
  browser = await launchMediaBrowser({ args: [`--ignore-certificate-errors-spki-list=${caSpki}`] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  coturn?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TURN over TLS (closed networks)', () => {
  test('strict network: a browser joins through coturn over TLS and decodes video', async () => {
    const owner = await mediaPeer(server, { name: 'Owner' });
    const { roomId } = await createRoom(owner, 'standard');
    owner.close();

    const publisher = await openPage('publisher');
    const pubToken = await server.token({ name: 'Publisher' });
    await join(publisher, pubToken, roomId, { publish: true });

    const viewer = await openPage('viewer');
    const token = await server.token({ name: 'Viewer', sub: 'turn-viewer' });
    await join(viewer, token, roomId, { publish: false, strictNetwork: true });

    const first = await waitFor(
      async () => {
        const f = await figures(viewer);
        return f && f.framesDecoded > 0 ? f : undefined;
      },
      { timeoutMs: 30_000, what: `decoded frames through the relay (coturn log:\n${coturnLog.slice(-2000)})` },
    );
    expect(first).toMatchObject({ localType: 'relay', relayProtocol: 'tls' });
    const later = await waitFor(
      async () => {
        const f = await figures(viewer);
        return f && f.bytesReceived > first.bytesReceived && f.framesDecoded > first.framesDecoded + 10 ? f : undefined;
      },
      { timeoutMs: 20_000, what: 'bytes and frames to grow on the relayed pair' },
    );
    expect(later.localType).toBe('relay');
    expect(later.relayProtocol).toBe('tls');
    // coturn allocated for a credential moim minted for this person: "<expiry>:<org>/<sub>", expiring in
    // MOIM_TURN_TTL_S (coturn's per-person quota counts by "<org>/<sub>")
    const allocated = [...coturnLog.matchAll(/username=<(\d+):[^/>]+\/turn-viewer>/g)].map((m) => Number(m[1]));
    expect(allocated.length).toBeGreaterThan(0);
    for (const expiry of allocated) expect(Math.abs(expiry - (Date.now() / 1000 + 300))).toBeLessThan(120);
    expect(coturnLog).toMatch(/user <\d+:[^/>]+\/turn-viewer>: incoming packet ALLOCATE processed, success/);
    expect(await viewer.evaluate(() => (globalThis as unknown as Moim).moim.errors())).toEqual([]);
  });

  test('web app: strict network is a remembered setting; a meeting joined with it goes through the relay', async () => {
    const owner = await mediaPeer(server, { name: 'Owner 3' });
    const { roomId } = await createRoom(owner, 'standard');
    owner.close();
    const publisher = await openPage('publisher-3');
    await join(publisher, await server.token({ name: 'Publisher 3' }), roomId, { publish: true });

    const person = await signIn(browser, server.url, { name: 'Strict Park', site: 'hq', lang: 'en' });
    pages.push(person.page);
    await person.page.goto(`${server.url}/#/meeting`);
    const box = person.page.locator('#strict-network');
    expect(await box.isChecked()).toBe(false);
    await box.check();
    // remembered: after a reload the setting is on, and the SDK's rooms use it
    await person.page.reload();
    await person.page.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
    await person.page.goto(`${server.url}/#/meeting`);
    expect(await person.page.locator('#strict-network').isChecked()).toBe(true);
    await shot(person.page, 'turn-lobby-strict-network');
    const network = () =>
      person.page.evaluate(
        () =>
          (window as unknown as { __moim: { ctx: { client: { rooms: { network: unknown } } } } }).__moim.ctx.client
            .rooms.network,
      );
    expect(await network()).toEqual({ strictNetwork: true, forceTcp: false });

    await person.page.goto(`${server.url}/#/meeting/${encodeURIComponent(roomId)}`);
    await expectFlowing(person.page, (f) => f.kind === 'video', 1, 30_000);
    const pair = await person.page.evaluate(async () => {
      type Recv = { getStats(): Promise<RTCStatsReport> };
      const w = window as unknown as { __moim: { ctx: { meeting: { room: { transports: { recv: Recv } } } } } };
      const report = await w.__moim.ctx.meeting.room.transports.recv.getStats();
      const all = new Map<string, Record<string, unknown>>();
      report.forEach((s: Record<string, unknown>) => {
        all.set(String(s.id), s);
      });
      const transport = [...all.values()].find((s) => s.type === 'transport');
      const selected = all.get(String(transport?.selectedCandidatePairId));
      const local = all.get(String(selected?.localCandidateId));
      return { type: local?.candidateType, relayProtocol: local?.relayProtocol };
    });
    expect(pair).toEqual({ type: 'relay', relayProtocol: 'tls' });
    expect(person.errors).toEqual([]);
    await person.context.close();
  });

  test('web app without a TURN relay: strict network says so in the viewer’s language; turned off, the meeting joins', async () => {
    const plain = await startTestServer({
      MOIM_SFU_WORKERS: '1',
      MOIM_RTC_LISTEN: '[{"ip":"127.0.0.1"}]',
      MOIM_WEB_ROOT: path.resolve(here, '../../web-demo/dist'),
    });
    try {
      const person = await signIn(browser, plain.url, { name: 'Strict Kang', site: 'hq', role: 'manager', lang: 'en' });
      pages.push(person.page);
      await person.page.evaluate(() => localStorage.setItem('moim.strictNetwork', '1'));
      await person.page.reload();
      await person.page.locator('header.top .conn-connected').waitFor({ timeout: 20_000 });
      await person.page.goto(`${plain.url}/#/meeting`);
      expect(await person.page.locator('#strict-network').isChecked()).toBe(true);
      await person.page.locator('#new-meeting button[type=submit]').click();
      await person.page.waitForURL(/#\/meeting\/[^/]+$/);
      const roomUrl = person.page.url();
      const alert = person.page.locator('p.error[role=alert]');
      await alert.waitFor({ timeout: 20_000 });
      expect(await alert.textContent()).toContain('Strict network is on, but this server offers no TURN relay');

      await person.page.goto(`${plain.url}/#/meeting`);
      await person.page.locator('#strict-network').uncheck();
      await person.page.goto(roomUrl);
      await person.page.locator('.meeting').waitFor({ timeout: 20_000 });
      expect(await person.page.evaluate(() => localStorage.getItem('moim.strictNetwork'))).toBeNull();
      expect(person.errors).toEqual([]);
      await person.context.close();
    } finally {
      await plain.close();
    }
  });

  test('coturn refuses a wrong secret and an expired credential; the right one gets a relay over TLS', async () => {
    const page = pages[0] ?? (await openPage('gather'));
    const url = `turns:localhost:${turnPort}?transport=tcp`;
    const gather = (servers: unknown[]) =>
      page.evaluate((s) => (globalThis as unknown as Moim).moim.gather(s), servers);

    const good = await gather(iceServersFor('person-1', { urls: [url], secret: SECRET, ttlS: 120 }));
    expect(good.relay.length).toBeGreaterThan(0);
    expect(good.relay[0]!.address).toBe('127.0.0.1');
    expect(good.errors).toEqual([]);

    const wrong = await gather(
      iceServersFor('person-1', { urls: [url], secret: 'not-the-secret-0123456789', ttlS: 120 }),
    );
    expect(wrong.relay).toEqual([]);
    expect(wrong.errors.map((e) => e.errorCode)).toContain(401);

    // minted two hours ago with a one-hour lifetime: expired an hour ago
    const expired = await gather(
      iceServersFor('person-1', { urls: [url], secret: SECRET, ttlS: 3600 }, Date.now() - 2 * 3600_000),
    );
    expect(expired.relay).toEqual([]);
    expect(expired.errors.map((e) => e.errorCode)).toContain(401);
  });

  test('coturn relays only to the SFU’s addresses: other peers, private or public, are refused', async () => {
    const [ice] = iceServersFor('person-3', {
      urls: [`turns:localhost:${turnPort}?transport=tcp`],
      secret: SECRET,
      ttlS: 120,
    });
    const turn = await TurnClient.open({
      host: '127.0.0.1',
      port: turnPort,
      ca: readFileSync(caFile),
      servername: 'localhost',
      username: ice!.username!,
      credential: ice!.credential!,
    });
    try {
      const allocation = await turn.allocate();
      expect(allocation.ok).toBe(true);
      expect(allocation.relayed).toMatch(/^127\.0\.0\.1:\d+$/);
      // the SFU listens on 127.0.0.1 in this test (MOIM_RTC_LISTEN): allowed
      expect(await turn.createPermission('127.0.0.1')).toEqual({ ok: true });
      // the intranet behind the relay, link-local metadata, this host's other address, the internet: refused
      for (const ip of ['10.1.2.3', '172.16.0.1', '192.168.1.10', '169.254.169.254', '192.0.2.2', '8.8.8.8'])
        expect(await turn.createPermission(ip), ip).toEqual({ ok: false, errorCode: 403 });
    } finally {
      turn.close();
    }
  });

  test('a credential is checked when a relay is allocated: the allocation outlives it, a new one is refused', async () => {
    const url = `turns:localhost:${turnPort}?transport=tcp`;
    const minted = Date.now();
    const [ice] = iceServersFor('person-4', { urls: [url], secret: SECRET, ttlS: 5 }, minted);
    const open = () =>
      TurnClient.open({
        host: '127.0.0.1',
        port: turnPort,
        ca: readFileSync(caFile),
        servername: 'localhost',
        username: ice!.username!,
        credential: ice!.credential!,
      });
    const turn = await open();
    try {
      expect((await turn.allocate()).ok).toBe(true);
      // wait past the credential's expiry (whole seconds in the username)
      await new Promise((r) => setTimeout(r, Math.max(0, minted + 7000 - Date.now())));
      // a meeting that outlasts MOIM_TURN_TTL_S keeps its relay: refreshes and permissions go on
      expect(await turn.refresh(600)).toEqual({ ok: true });
      expect(await turn.createPermission('127.0.0.1')).toEqual({ ok: true });
      // but the expired credential allocates nothing new (an ICE restart needs fresh ones, which it gets)
      const late = await open();
      try {
        expect(await late.allocate()).toEqual({ ok: false, errorCode: 401 });
      } finally {
        late.close();
      }
    } finally {
      turn.close();
    }
  });

  test('one person’s simultaneous relays are bounded (user-quota); another person is not affected', async () => {
    const url = `turns:localhost:${turnPort}?transport=tcp`;
    const open = (who: string) => {
      const [ice] = iceServersFor(who, { urls: [url], secret: SECRET, ttlS: 120 });
      return TurnClient.open({
        host: '127.0.0.1',
        port: turnPort,
        ca: readFileSync(caFile),
        servername: 'localhost',
        username: ice!.username!,
        credential: ice!.credential!,
      });
    };
    const clients: TurnClient[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const c = await open('quota-person');
        clients.push(c);
        expect((await c.allocate()).ok, `allocation ${i + 1}`).toBe(true);
      }
      const extra = await open('quota-person');
      clients.push(extra);
      expect(await extra.allocate()).toEqual({ ok: false, errorCode: 486 });
      const other = await open('someone-else');
      clients.push(other);
      expect((await other.allocate()).ok).toBe(true);
    } finally {
      for (const c of clients) c.close();
    }
  });

  test('a browser that does not trust the test CA gets no relay (the TLS certificate is checked)', async () => {
    const untrusting = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await (await untrusting.newContext()).newPage();
      await page.goto(`${server.url}/e2e/turn.html`);
      const url = `turns:localhost:${turnPort}?transport=tcp`;
      const result = await page.evaluate(
        (s) => (globalThis as unknown as Moim).moim.gather(s),
        iceServersFor('person-2', { urls: [url], secret: SECRET, ttlS: 120 }),
      );
      expect(result.relay).toEqual([]);
      // 701: the TURN server could not be reached — the TLS handshake was refused, before any TURN request
      const codes = result.errors.map((e) => e.errorCode);
      expect(codes).toContain(701);
      expect(codes).not.toContain(401);
    } finally {
      await untrusting.close();
    }
  });

  test('without UDP: a transport with TCP candidates only connects over TCP', async () => {
    const owner = await mediaPeer(server, { name: 'Owner 2' });
    const { roomId } = await createRoom(owner, 'standard');
    owner.close();
    const publisher = await openPage('publisher-2');
    await join(publisher, await server.token({ name: 'Publisher 2' }), roomId, { publish: true });
    const viewer = await openPage('tcp-viewer');
    await join(viewer, await server.token({ name: 'TCP viewer' }), roomId, { publish: false, forceTcp: true });
    const first = await waitFor(
      async () => {
        const f = await figures(viewer);
        return f && f.framesDecoded > 0 ? f : undefined;
      },
      { timeoutMs: 30_000, what: 'decoded frames over TCP' },
    );
    expect(first).toMatchObject({ localProtocol: 'tcp', remoteProtocol: 'tcp' });
    await waitFor(async () => ((await figures(viewer))?.bytesReceived ?? 0) > first.bytesReceived, {
      timeoutMs: 20_000,
      what: 'bytes to grow over TCP',
    });
  });
});
