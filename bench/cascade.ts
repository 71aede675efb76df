/**
 * bench:cascade — bytes on the HQ↔site link for one meeting of `people` (half at headquarters,
 * half at the site), cascaded vs all on one node, in one run:
 *
 * - cascaded: two node processes, HQ on 127.0.0.1 and the site (MOIM_NODE_SITE) on 127.0.0.2; the
 *   site's people are served by the site node. Link bytes = bytes on HQ's pipe transports to the
 *   site, both directions (`moim_cascade_link_bytes`).
 * - one node: the site's people are served by HQ too. Link bytes = bytes HQ exchanges with the
 *   site's clients (their transports' bytes received and sent, `media:getStats`).
 *
 * Everyone publishes simulcast video (3 encodings) and audio from an RTP generator and receives
 * everyone else on a plain-RTP sink; figures are deltas over `durationSec` once media flows. The
 * machine is shared (2 cores): quick mode by default; `--full` measures longer.
 * Needs `redis-server` on the PATH and the local PostgreSQL's `test` database.
 */
import { waitFor } from '@moim/sfu/testing';
import {
  consumerBytes,
  createRoom,
  type MediaTestPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testing/testPeers.ts';
import { peerOn } from '../test/cluster/media.ts';
import { call, clusterEnv, startNode, startRedis } from '../test/cluster/support.ts';
import type { ServerProcess } from '../test/support/serverProcess.ts';
import { benchArgs, benchParams, commandLine } from './lib/args.ts';
import { watchdog } from './lib/bounded.ts';
import { Report } from './lib/report.ts';

const args = benchArgs();
const QUICK = { people: 10, durationSec: 8, maxMinutes: 5 };
const FULL: typeof QUICK = { people: 10, durationSec: 30, maxMinutes: 10 };
const P = benchParams(args, QUICK, FULL);
const report = new Report('cascade', commandLine('bench:cascade', args), { mode: args.full ? 'full' : 'quick', ...P });
const MEDIA = { MOIM_SFU_ALLOW_PLAIN: 'true', MOIM_PEER_GRACE_MS: '0', MOIM_MAX_SOCKETS_PER_ADDRESS: '5000' };
const SITE = { HOST: '127.0.0.2', MOIM_RTC_LISTEN: '[{"ip":"127.0.0.2"}]', MOIM_NODE_SITE: 'site' };
/** The site's network: its node on 127.0.0.2, its clients' media from 127.0.0.3. */
const SITE_CLIENTS = '127.0.0.3';

interface Result {
  system: 'cascaded' | 'one node';
  linkBytes: number;
  linkBitrateKbps: number;
  /** Bytes all receivers got over the window (the meeting's size, the same in both). */
  receivedBytes: number;
}
const results: Result[] = [];
report.data.results = results;
const closers: Array<() => unknown> = [];
const dog = watchdog(P.maxMinutes * 60_000, () => finish(true));

async function metric(node: ServerProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

interface Member {
  peer: MediaTestPeer;
  atSite: boolean;
  transports: string[];
}

/** One meeting: `people` members, the site's half on `siteNode`; returns them once every consumer got media. */
async function meeting(
  hq: ServerProcess,
  siteNode: ServerProcess,
  tag: string,
): Promise<{ roomId: string; members: Member[] }> {
  const owner = await peerOn(hq, `${tag}-owner`);
  closers.push(() => owner.close());
  const { roomId } = await createRoom(owner, 'standard');
  const members: Member[] = [];
  for (let i = 0; i < P.people; i++) {
    const atSite = i % 2 === 1;
    const peer = await peerOn(atSite ? siteNode : hq, `${tag}-${atSite ? 'site' : 'hq'}-${i}`);
    closers.push(() => peer.close());
    const joined = await peer.join(roomId);
    const base = 10_000 + i * 10;
    const pub = await publishPlain(peer, roomId, {
      video: [base + 1, base + 2, base + 3],
      maxBitrates: [150_000, 500_000, 1_200_000],
      audio: base + 4,
      // the site's clients send and receive from the site's address
      ...(atSite ? { bindIp: SITE_CLIENTS } : {}),
    });
    closers.push(() => pub.gen.close());
    const sub = await subscribePlain(
      peer,
      roomId,
      joined.routerRtpCapabilities,
      atSite ? { bindIp: SITE_CLIENTS } : {},
    );
    closers.push(() => sub.sink.close());
    members.push({ peer, atSite, transports: [pub.transport.transportId, sub.transport.transportId] });
  }
  // every member receives the other members' audio and video
  const want = (P.people - 1) * 2;
  for (const m of members)
    await waitFor(() => m.peer.consumers.length >= want, { what: `${tag}: consumers`, timeoutMs: 30_000 });
  return { roomId, members };
}

/** Bytes HQ's transports of member `m` exchanged with the site's client address (their tuple's remote IP). */
async function transportBytes(m: Member, roomId: string): Promise<number> {
  let sum = 0;
  for (const id of m.transports) {
    const { stats } = await call<{
      stats: Array<{ bytesReceived: number; bytesSent: number; tuple?: { remoteIp?: string } }>;
    }>(m.peer.socket, 'media:getStats', { roomId, type: 'transport', id });
    for (const s of stats) if (s.tuple?.remoteIp === SITE_CLIENTS) sum += s.bytesReceived + s.bytesSent;
  }
  return sum;
}

async function received(members: Member[], roomId: string): Promise<number> {
  let sum = 0;
  for (const m of members)
    for (const c of m.peer.consumers) sum += await consumerBytes(m.peer, roomId, c.consumerId).catch(() => 0);
  return sum;
}

async function measure(
  system: Result['system'],
  link: () => Promise<number>,
  members: Member[],
  roomId: string,
): Promise<void> {
  await new Promise((r) => setTimeout(r, 2000)); // key frames, layers settled
  const l0 = await link();
  const r0 = await received(members, roomId);
  await new Promise((r) => setTimeout(r, P.durationSec * 1000));
  const linkBytes = (await link()) - l0;
  const receivedBytes = (await received(members, roomId)) - r0;
  results.push({
    system,
    linkBytes,
    linkBitrateKbps: Math.round((linkBytes * 8) / P.durationSec / 1000),
    receivedBytes,
  });
}

async function closeAll(): Promise<void> {
  for (const c of closers.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      report.note(`closing: ${String(err)}`);
    }
  }
}

async function run(): Promise<void> {
  const redis = await startRedis();
  const cluster = clusterEnv();
  const hq = await startNode(cluster, redis.url, 'hq', MEDIA);
  const site = await startNode(cluster, redis.url, 'site', { ...MEDIA, ...SITE });
  site.url = site.url.replace('127.0.0.1', '127.0.0.2');
  try {
    // all on one node: the site's people connect to headquarters
    {
      const { roomId, members } = await meeting(hq, hq, 'one');
      const siteMembers = members.filter((m) => m.atSite);
      const link = async () => {
        let sum = 0;
        for (const m of siteMembers) sum += await transportBytes(m, roomId);
        return sum;
      };
      await measure('one node', link, members, roomId);
      await closeAll();
    }
    // cascaded: the site's people on the site node
    {
      const { roomId, members } = await meeting(hq, site, 'cascade');
      const link = async () =>
        (await metric(hq, 'moim_cascade_link_bytes', { peer_node: 'site', direction: 'in' })) +
        (await metric(hq, 'moim_cascade_link_bytes', { peer_node: 'site', direction: 'out' }));
      await measure('cascaded', link, members, roomId);
      await closeAll();
    }
  } finally {
    await closeAll();
    await Promise.all([hq.stop(), site.stop()]);
    await redis.stop();
    await cluster.cleanup();
  }
}

async function finish(partial: boolean): Promise<void> {
  await report.finish({
    partial,
    dryRun: args.dryRun,
    render: () => {
      report.table({
        title: `HQ↔site link, ${P.people}-person meeting (${P.people / 2} per side), ${P.durationSec} s`,
        columns: ['system', 'link bytes', 'link kbit/s', 'bytes received by everyone', 'link / received'],
        rows: results.map((r) => [
          r.system,
          r.linkBytes,
          r.linkBitrateKbps,
          r.receivedBytes,
          Math.round((r.linkBytes / Math.max(1, r.receivedBytes)) * 1000) / 1000,
        ]),
      });
      const one = results.find((r) => r.system === 'one node');
      const cas = results.find((r) => r.system === 'cascaded');
      if (one && cas)
        report.target(
          'cascaded link bytes below all-on-one-node',
          `${Math.round((cas.linkBytes / one.linkBytes) * 100)} % of one node's`,
          cas.linkBytes < one.linkBytes,
        );
      report.note(
        'one node: bytes HQ exchanged with the site’s clients (their transports whose remote address is the site clients’ 127.0.0.3); cascaded: bytes on HQ’s pipe transports to the site node, both directions. Simulcast video (3 encodings, 150/500/1200 kbit/s declared) + audio per person from RTP generators.',
      );
    },
  });
  dog.cancel();
  process.exit(partial ? 1 : 0);
}

try {
  await run();
  await finish(false);
} catch (err) {
  report.note(`the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await finish(true);
}
