/**
 * bench:sfu — consumers per mediasoup worker. Producers are fed with recorded real VP8
 * (bench/fixtures/vp8-720p.rtp, replayed with rewritten SSRC/sequence numbers/timestamps);
 * subscribers are added in steps until the loss seen by light receivers passes 1 % or the
 * worker saturates. Each step reports forwarded packets per second, loss, worker CPU, packets
 * per second per core and worker CPU per 1,000 packets.
 *
 * Systems, one after the other in the same run on the same machine, with the same producers,
 * subscribers and consumers: a bare mediasoup script (bench/baselines/mediasoup-bare.ts) and
 * moim (`npm start` with MOIM_SFU_WORKERS=1 and MOIM_SFU_ALLOW_PLAIN=true, its signalling
 * creating every consumer in standard-tier rooms). Variants: plain RTP, and SRTP on the
 * subscriber transports with the suite WebRTC clients get: Chromium negotiates AEAD_AES_256_GCM
 * with mediasoup's WebRtcTransport (RTCTransportStats.srtpCipher "SRTP_AEAD_AES_256_GCM",
 * Chromium 156). The receivers only read RTP headers, which SRTP leaves in the clear.
 *
 * `node bench/sfu.ts` (quick) or `node bench/sfu.ts --full`; `--only=ramp` or `--only=chromium`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { benchArgs, benchParams, commandLine, wants } from './lib/args.ts';
import { sleep, waitUntil, watchdog } from './lib/bounded.ts';
import { type SinkStats, startSink } from './lib/csink.ts';
import { Generator } from './lib/generators.ts';
import { Histogram } from './lib/histogram.ts';
import { mintTokens, startMoim } from './lib/moim.ts';
import { pinCores, pinToServerCore } from './lib/pin.ts';
import { childPids, ProcMeter, procMem, procStat } from './lib/proc.ts';
import { profileFile, REPO_ROOT } from './lib/processes.ts';
import { carryOver, Report, runsOf } from './lib/report.ts';
import { udpDrops } from './lib/rtp.ts';

const args = benchArgs();
// the SFU under test (moim or bare, with its worker) on core 0, the replayers and receivers on the others, as
// the issue measured (`--no-pin`: off)
pinCores(args.pin ?? true);
const QUICK = {
  producersPerRoom: 10,
  subscribersPerRoom: 40,
  startConsumers: 200,
  stepConsumers: 200,
  maxConsumers: 2400,
  windowSec: 4,
  settleSec: 2,
  /**
   * Seconds from a step's first request to its measurement window, the same for every system (at
   * least settleSec after every consumer flows). The light receivers send no RTCP, so a transport's
   * send-side bandwidth estimator keeps every packet it sent for 60 s (mediasoup's SendTimeHistory,
   * a tree per transport) and its cost per packet grows with that history: a system whose
   * signalling is slower would otherwise be measured later, with more history, and look slower
   * per packet.
   */
  stepLeadSec: 8,
  sinks: 1,
  /** 1: light receivers in Node instead of the native one (bench/lib/rtpsink.c). */
  nodeReceivers: 0,
  lossLimit: 0.01,
  saturation: 0.95,
  /** 0: skip the plain RTP ramps (only the SRTP ones). */
  plainRtp: 1,
  srtp: 1,
  /** SRTP crypto suite of the SRTP ramps, an index into SRTP_SUITES (0: what Chromium negotiates). */
  srtpSuite: 0,
  chromiumJoins: 10,
  maxMinutes: 20,
  /**
   * 1: moim records every room of the ramp (each producer into a WebM by its own niced ffmpeg),
   * to show what recording costs the SFU (compare with a run without). 0: no recording.
   */
  record: 0,
  /**
   * Ablation of what moim's worker does beyond the bare script (README, "What moim costs the SFU
   * beyond bare mediasoup"). workerLogs 0: both workers at log level `none` (moim:
   * MOIM_SFU_LOG_LEVEL=none), so no warning crosses the worker's channel. bareLikeMoim 1: the bare
   * script also runs what moim adds around its routers — an ActiveSpeakerObserver and an
   * AudioLevelObserver per router and a WebRtcServer on the worker.
   */
  workerLogs: 1,
  bareLikeMoim: 0,
  /** Ramps per system and variant, each on a newly started server (the targets must hold in every one). */
  rampRuns: 1,
  /**
   * 1: an A/A control — moim's place is taken by a second bare mediasoup script ("mediasoup bare
   * (B)"), so the targets compare bare with bare: how far they move between two identical systems
   * on this machine, i.e. what margin an every-run target needs here.
   */
  control: 0,
  /**
   * 1: record the worker's CPU samples over each step's window with Linux perf (`perf record -e
   * cpu-clock -F 1999 -g`) into bench/results/profiles/sfu-<system>-<variant>-<consumers>-<run>.perf.data
   * (`perf report -i <file> --no-children --sort sym`): where a worker spends its time.
   */
  perfWorker: 0,
  /**
   * 0: the subscribers receive without transport-wide congestion control (no transport-cc header
   * extension or feedback in their capabilities, in both systems), so no transport keeps a send
   * history (see stepLeadSec): the forwarding cost without the bandwidth estimator's bookkeeping.
   */
  tcc: 1,
};
const FULL: typeof QUICK = {
  ...QUICK,
  startConsumers: 100,
  stepConsumers: 100,
  maxConsumers: 3000,
  windowSec: 10,
  settleSec: 3,
  stepLeadSec: 10,
  chromiumJoins: 30,
  rampRuns: 3,
  maxMinutes: 120,
};
const P = benchParams(args, QUICK, FULL);
/** The suites mediasoup offers; the first is the one Chromium negotiates with a WebRtcTransport. */
const SRTP_SUITES = [
  'AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
] as const;
const SRTP_SUITE = SRTP_SUITES[P.srtpSuite];
if (!SRTP_SUITE) throw new Error(`srtpSuite must be 0..${SRTP_SUITES.length - 1} (${SRTP_SUITES.join(', ')})`);
type System = 'mediasoup bare' | 'mediasoup bare (B)' | 'moim';
/** What the targets compare with bare mediasoup: moim, or bare itself in the A/A control. */
const SUBJECT: System = P.control === 1 ? 'mediasoup bare (B)' : 'moim';
const SUBJECT_LABEL = P.control === 1 ? 'bare (B)' : 'moim';
/** Before each target's statement in the A/A control. */
const CONTROL = P.control === 1 ? 'A/A control, bare (B) in moim’s place: ' : '';
type Variant = 'plain RTP' | 'SRTP';
const systems: System[] = (['mediasoup bare', SUBJECT] as const).filter((s) =>
  wants(args.systems, s === SUBJECT ? 'moim' : 'baseline'),
);
const report = new Report('sfu', commandLine('bench:sfu', args), { mode: args.full ? 'full' : 'quick', ...P });
interface StepRow {
  system: System;
  /** Which ramp (`rampRuns`), each on a newly started server; absent in results from before. */
  run?: number;
  variant: Variant;
  consumers: number;
  producers: number;
  rooms: number;
  outPps: number;
  inPps: number;
  lossPct: number;
  silent: number;
  workerCpuPct: number;
  ppsPerCore: number;
  workerCpuMsPer1000: number;
  nodeCpuPct: number | null;
  receiverCpuPct: number[];
  receiverDrops: number;
  workerDrops: number;
  /** Seconds from the step's first request to its window (stepLeadSec unless the step took longer); absent before. */
  leadSec?: number;
  /** The worker's resident memory at the end of the window, MiB; absent before. */
  workerRssMb?: number;
  ok: boolean;
}
const results: { steps: StepRow[]; chromium: unknown[]; unsupported: string[] } = {
  steps: [],
  chromium: [],
  unsupported: [],
};
report.data.results = results;
carryOver(report, args.only, results as unknown as Record<string, unknown>, {
  chromium: ['chromium'],
  ramp: ['steps', 'unsupported'],
});
const dog = watchdog(P.maxMinutes * 60_000, () => finish(true));
const RTP_GEN = `${REPO_ROOT}/bench/gen/rtp-gen.ts`;
let receiverKind: string = 'native';

function log(s: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
}

/** What a system must do for the ramp; both systems implement it. */
interface Target {
  workerPid: number;
  nodePid: number | null;
  addRoom(
    producers: number,
    ssrcBase: number,
  ): Promise<{ room: number; targets: { ssrc: number; ip: string; port: number }[] }>;
  addSubscribers(room: number, count: number, sink: { ip: string; port: number }): Promise<void>;
  stop(): Promise<void>;
}

async function bareTarget(srtp: boolean): Promise<Target> {
  const g = await Generator.start(`${REPO_ROOT}/bench/baselines/mediasoup-bare.ts`, 50);
  // the bare server is forked like a generator: move it to the server core before its worker starts
  pinToServerCore(g.pid);
  const { workerPid } = await g.call<{ workerPid: number }>('start', {
    logLevel: P.workerLogs === 1 ? 'warn' : 'none',
    likeMoim: P.bareLikeMoim === 1,
  });
  return {
    workerPid,
    nodePid: g.pid,
    addRoom: (producers, ssrcBase) => g.call('addRoom', { producers, ssrcBase }),
    addSubscribers: async (room, count, sink) => {
      await g.call(
        'addSubscribers',
        { room, count, sink, srtp, srtpCryptoSuite: SRTP_SUITE, tcc: P.tcc === 1 },
        300_000,
      );
    },
    stop: async () => {
      await g.call('close').catch(() => {});
      await g.stop();
    },
  };
}

async function moimTarget(srtp: boolean): Promise<Target> {
  const m = await startMoim({
    MOIM_SFU_WORKERS: '1',
    MOIM_SFU_ALLOW_PLAIN: 'true',
    ...(P.workerLogs === 1 ? {} : { MOIM_SFU_LOG_LEVEL: 'none' }),
    ...(P.record === 1 ? { MOIM_RECORDING_MAX_CONCURRENT: '1000', MOIM_RECORDING_MAX_TRACKS: '200' } : {}),
  });
  const workers = childPids(m.pid).filter((p) => procStat(p)?.comm.startsWith('mediasoup'));
  if (workers.length !== 1) throw new Error(`expected one mediasoup worker under moim, found ${workers.length}`);
  const peers = await Generator.start(`${REPO_ROOT}/bench/gen/media-peers.ts`, 51);
  await peers.call('init', { url: m.url });
  const rooms: { roomId: string; producers: number }[] = [];
  let people = 0;
  const tokens = (n: number) =>
    mintTokens(
      m.url,
      Array.from({ length: n }, () => {
        const sub = `sfu${people++}`;
        return { name: sub, sub, ttlSeconds: 6 * 3600 };
      }),
      8,
    );
  return {
    workerPid: workers[0]!,
    nodePid: m.pid,
    async addRoom(producers, ssrcBase) {
      const [owner, ...pubTokens] = await tokens(producers + 1);
      const { roomId } = await peers.call<{ roomId: string }>('createRoom', { token: owner });
      const { targets } = await peers.call<{ targets: { ssrc: number; ip: string; port: number }[] }>(
        'addPublishers',
        { roomId, pubs: pubTokens.map((token, i) => ({ token, ssrc: ssrcBase + i })) },
        120_000,
      );
      rooms.push({ roomId, producers });
      if (P.record === 1) {
        const [recorder] = await mintTokens(m.url, [{ name: 'recorder', sub: `rec${people++}`, role: 'manager' }]);
        await peers.call('startRecording', { token: recorder, roomId }, 60_000);
      }
      return { room: rooms.length - 1, targets };
    },
    async addSubscribers(room, count, sink) {
      const r = rooms[room]!;
      const subs = (await tokens(count)).map((token) => ({ token }));
      await peers.call(
        'addSubscribers',
        { roomId: r.roomId, subs, sink, producers: r.producers, srtp, srtpCryptoSuite: SRTP_SUITE, tcc: P.tcc === 1 },
        300_000,
      );
    },
    async stop() {
      await peers.call('close').catch(() => {});
      await peers.stop();
      await m.stop();
    },
  };
}

/** `perf record` of the worker over one window (perfWorker=1); resolves once perf has written its file. */
function perfWorker(pid: number, label: string): Promise<void> {
  const file = profileFile(`sfu-${label}`, '.perf.data');
  const args = ['record', '-q', '-e', 'cpu-clock', '-F', '1999', '-g', '-p', String(pid), '-o', file];
  const child = spawn('perf', [...args, '--', 'sleep', String(P.windowSec)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`perf record exited with ${code}`));
      log(`perf: ${path.relative(REPO_ROOT, file)}`);
      resolve();
    });
  });
}

async function ramp(system: System, variant: Variant, run: number): Promise<void> {
  const srtp = variant === 'SRTP';
  const replay = await Generator.start(RTP_GEN, 60);
  const sinks = await Promise.all(
    Array.from({ length: P.sinks }, (_, i) => startSink(61 + i, 1, P.nodeReceivers === 1)),
  );
  receiverKind = sinks[0]!.kind;
  const sinkAddr = sinks.map((s) => s.addresses[0]!);
  let target: Target | undefined;
  try {
    target = system === 'moim' ? await moimTarget(srtp) : await bareTarget(srtp);
    const rooms: { room: number; subscribers: number }[] = [];
    let consumers = 0;
    let subscribers = 0;
    let producers = 0;
    let saturatedSteps = 0;
    const K = P.producersPerRoom;
    for (let goal = P.startConsumers, i = 0; goal <= P.maxConsumers && i < 200; goal += P.stepConsumers, i++) {
      const stepStart = performance.now();
      while (consumers + K <= goal) {
        let r = rooms.find((x) => x.subscribers < P.subscribersPerRoom);
        if (!r) {
          const added = await target.addRoom(K, 0x10000 + producers);
          producers += K;
          await replay.call('replayAdd', { streams: added.targets });
          r = { room: added.room, subscribers: 0 };
          rooms.push(r);
        }
        const n = Math.min(P.subscribersPerRoom - r.subscribers, Math.floor((goal - consumers) / K));
        // spread the new subscribers over the receivers
        const bySink = new Map<number, number>();
        for (let k = 0; k < n; k++) {
          const s = (subscribers + k) % sinks.length;
          bySink.set(s, (bySink.get(s) ?? 0) + 1);
        }
        for (const [s, count] of bySink) await target.addSubscribers(r.room, count, sinkAddr[s]!);
        r.subscribers += n;
        subscribers += n;
        consumers += n * K;
      }
      // every consumer flowing (a video consumer starts at the next key frame, ≤ 1 s)
      const flowing = await waitUntil(
        async () => {
          const st: SinkStats[] = await Promise.all(sinks.map((s) => s.stats()));
          return st.reduce((a, x) => a + x.active, 0) >= consumers ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, label: 'consumers flowing', orUndefined: true },
      );
      await sleep(P.settleSec * 1000);
      const ready = (performance.now() - stepStart) / 1000;
      if (ready < P.stepLeadSec) await sleep((P.stepLeadSec - ready) * 1000);
      else
        log(
          `${system} ${consumers} consumers: the step took ${ready.toFixed(1)} s, more than stepLeadSec (${P.stepLeadSec})`,
        );
      const leadSec = (performance.now() - stepStart) / 1000;
      await Promise.all(sinks.map((s) => s.reset()));
      const sent0 = (await replay.call<{ sent: number }>('replayStats')).sent;
      const workerMeter = new ProcMeter(() => [target!.workerPid]).start();
      const nodeMeter = target.nodePid ? new ProcMeter(() => [target!.nodePid!]).start() : undefined;
      const sinkMeters = sinks.map((s) => new ProcMeter(() => [s.pid]).start());
      const drops0 = sinks.reduce((a, s) => a + udpDrops(s.pid), 0);
      const wdrops0 = udpDrops(target.workerPid);
      const perf =
        P.perfWorker === 1 ? perfWorker(target.workerPid, `${system}-${variant}-${consumers}-${run}`) : undefined;
      await sleep(P.windowSec * 1000);
      await perf;
      const workerRss = procMem(target.workerPid)?.rssBytes;
      const st = await Promise.all(sinks.map((s) => s.stats()));
      const cpu = workerMeter.stop();
      const node = nodeMeter?.stop();
      const sinkCpu = sinkMeters.map((x) => x.stop().cores);
      const sent = (await replay.call<{ sent: number }>('replayStats')).sent - sent0;
      const receiverDrops = sinks.reduce((a, s) => a + udpDrops(s.pid), 0) - drops0;
      const workerDrops = udpDrops(target.workerPid) - wdrops0;
      const received = st.reduce((a, x) => a + x.received, 0);
      const expectedSeq = st.reduce((a, x) => a + x.expected, 0);
      const silent = st.reduce((a, x) => a + x.silent, 0);
      const perStream = (sent / Math.max(1, producers)) | 0;
      const expected = expectedSeq + silent * perStream;
      const loss = expected > 0 ? Math.max(0, expected - received) / expected : 1;
      const outPps = received / cpu.wallSec;
      const row: StepRow = {
        system,
        run,
        variant,
        consumers,
        producers,
        rooms: rooms.length,
        outPps,
        inPps: sent / cpu.wallSec,
        lossPct: loss * 100,
        silent,
        workerCpuPct: cpu.cores * 100,
        ppsPerCore: cpu.cores > 0 ? outPps / cpu.cores : Number.NaN,
        workerCpuMsPer1000: received > 0 ? (cpu.cpuSec * 1000) / (received / 1000) : Number.NaN,
        nodeCpuPct: node ? node.cores * 100 : null,
        receiverCpuPct: sinkCpu.map((c) => c * 100),
        receiverDrops,
        workerDrops,
        leadSec,
        ...(workerRss !== undefined ? { workerRssMb: workerRss / 2 ** 20 } : {}),
        ok: loss <= P.lossLimit && flowing === true,
      };
      results.steps.push(row);
      log(
        `${system} ${variant}${P.rampRuns > 1 ? ` #${run}` : ''} ${consumers} consumers: ${Math.round(outPps)} pps out, loss ${row.lossPct.toFixed(2)} % (silent ${silent}), ` +
          `worker ${row.workerCpuPct.toFixed(0)} %, receivers ${row.receiverCpuPct.map((c) => c.toFixed(0)).join('/')} % (drops ${receiverDrops})`,
      );
      // a saturated worker that still forwards everything is sustaining its load: go on until loss
      // shows, but never more than one step past saturation
      if (!row.ok) break;
      if (cpu.cores >= P.saturation) {
        if (saturatedSteps++ >= 1) break;
      }
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (srtp && system === 'moim' && /INVALID_PAYLOAD/.test(msg)) {
      results.unsupported.push(`${system} ${variant}`);
      report.note(
        `moim SRTP ramp skipped: the server refused an SRTP plain transport with ${SRTP_SUITE} (${msg.slice(0, 200)}); the bare SRTP figures show what encryption costs the worker.`,
      );
    } else throw err;
  } finally {
    await target?.stop().catch(() => {});
    await replay.call('close').catch(() => {});
    await Promise.all([replay.stop(), ...sinks.map((s) => s.stop())]);
  }
}

/**
 * Join-to-first-frame for a WebRTC client: headless Chromium (the flags of the e2e tests) loads
 * a receive-only mediasoup-client page served by moim, joins a standard room whose one
 * publisher sends the recorded VP8, and times `room:join` → first video frame presented.
 * Each join is a fresh page and a fresh person.
 */
async function chromiumJoins(): Promise<void> {
  const web = mkdtempSync(path.join(tmpdir(), 'moim-bench-web-'));
  const replay = await Generator.start(RTP_GEN, 70);
  let peers: Generator | undefined;
  let m: Awaited<ReturnType<typeof startMoim>> | undefined;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    await build({
      configFile: false,
      logLevel: 'warn',
      root: REPO_ROOT,
      build: {
        outDir: web,
        emptyOutDir: false,
        minify: true,
        lib: {
          entry: path.join(REPO_ROOT, 'bench', 'chromium', 'join-page.ts'),
          name: 'moimJoinPage',
          formats: ['iife'],
          fileName: () => 'join.js',
        },
      },
    });
    const html = '<!doctype html><meta charset="utf-8"><title>moim bench</title><script src="/join.js"></script>';
    writeFileSync(path.join(web, 'index.html'), html);
    writeFileSync(path.join(web, 'join.html'), html);
    m = await startMoim({ MOIM_SFU_WORKERS: '1', MOIM_SFU_ALLOW_PLAIN: 'true', MOIM_WEB_ROOT: web });
    peers = await Generator.start(`${REPO_ROOT}/bench/gen/media-peers.ts`, 71);
    await peers.call('init', { url: m.url });
    const tokens = await mintTokens(
      m.url,
      Array.from({ length: P.chromiumJoins + 2 }, (_, i) => ({
        name: `viewer${i}`,
        sub: `viewer${i}`,
        ttlSeconds: 3600,
      })),
    );
    const { roomId } = await peers.call<{ roomId: string }>('createRoom', { token: tokens[0] });
    const { targets } = await peers.call<{ targets: { ssrc: number; ip: string; port: number }[] }>('addPublishers', {
      roomId,
      pubs: [{ token: tokens[1], ssrc: 0x7000 }],
    });
    await replay.call('replayAdd', { streams: targets });
    browser = await chromium.launch({
      executablePath: process.env.MOIM_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
      ],
    });
    const first = new Histogram();
    const withConnect = new Histogram();
    const all: Record<string, number>[] = [];
    const failures: string[] = [];
    for (let i = 0; i < P.chromiumJoins; i++) {
      const page = await browser.newPage();
      try {
        await page.goto(`${m.url}/join.html`, { timeout: 30_000 });
        const t = (await page.evaluate(
          ({ token, roomId }) =>
            Promise.race([
              (globalThis as unknown as { moim: { join(o: unknown): Promise<Record<string, number>> } }).moim.join({
                token,
                roomId,
              }),
              new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no frame within 20 s')), 20_000)),
            ]),
          { token: tokens[i + 2]!, roomId },
        )) as Record<string, number>;
        all.push(t);
        first.record((t.firstFrame ?? 0) * 1000);
        withConnect.record((t.connectToFirstFrame ?? 0) * 1000);
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      } finally {
        await page.close().catch(() => {});
      }
    }
    const mean = (k: string) => all.reduce((a, t) => a + (t[k] ?? 0), 0) / Math.max(1, all.length);
    const row = {
      joins: P.chromiumJoins,
      ok: all.length,
      failures,
      joinToFirstFrame: first.summary(),
      connectToFirstFrame: withConnect.summary(),
      meanStagesMs: {
        joined: mean('joined'),
        transport: mean('transport'),
        consumer: mean('consumer'),
        transportConnected: mean('transportConnected'),
        firstFrame: mean('firstFrame'),
      },
      keyFrameRequests: (await replay.call<{ keyFrameRequests: number }>('replayStats')).keyFrameRequests,
      samples: all,
    };
    results.chromium.push(row);
    log(
      `chromium: ${all.length}/${P.chromiumJoins} joins, join → first frame p50 ${row.joinToFirstFrame.p50Ms} p95 ${row.joinToFirstFrame.p95Ms} ms`,
    );
  } finally {
    await browser?.close().catch(() => {});
    await peers?.call('close').catch(() => {});
    await peers?.stop();
    await m?.stop();
    await replay.call('close').catch(() => {});
    await replay.stop();
    rmSync(web, { recursive: true, force: true });
  }
}

try {
  if (wants(args.only, 'chromium') && P.chromiumJoins > 0) await chromiumJoins();
  if (wants(args.only, 'ramp'))
    // `rampRuns` ramps per system, each on a new server, the order alternating between runs
    for (let run = 1; run <= P.rampRuns; run++) {
      const order = run % 2 ? systems : [...systems].reverse();
      if (P.plainRtp) for (const s of order) await ramp(s, 'plain RTP', run);
      if (P.srtp) for (const s of [...order].reverse()) await ramp(s, 'SRTP', run);
    }
} catch (err) {
  report.note(`run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}
await finish(false);

async function finish(partial: boolean): Promise<void> {
  dog.cancel();
  await report.finish({ partial, dryRun: args.dryRun, render: tables });
}

function capacity(system: System, variant: Variant, run = 1): number {
  const ok = results.steps.filter((s) => s.system === system && s.variant === variant && (s.run ?? 1) === run && s.ok);
  return ok.length ? Math.max(...ok.map((s) => s.consumers)) : 0;
}

function tables(): void {
  type Ch = {
    joins: number;
    ok: number;
    failures: string[];
    joinToFirstFrame: ReturnType<Histogram['summary']>;
    connectToFirstFrame: ReturnType<Histogram['summary']>;
    meanStagesMs: Record<string, number>;
  };
  const ch = results.chromium as Ch[];
  if (ch.length) {
    const c = ch[0]!;
    report.table({
      title: 'Join-to-first-frame, WebRTC client (headless Chromium, mediasoup-client, recorded VP8 publisher)',
      columns: [
        'joins',
        'ok',
        'p50 ms',
        'p95 ms',
        'max ms',
        'with socket connect: p95 ms',
        'mean stages ms (joined / transport / consumer / ICE+DTLS / frame)',
      ],
      rows: [
        [
          c.joins,
          c.ok,
          c.joinToFirstFrame.p50Ms,
          c.joinToFirstFrame.p95Ms,
          c.joinToFirstFrame.maxMs,
          c.connectToFirstFrame.p95Ms,
          ['joined', 'transport', 'consumer', 'transportConnected', 'firstFrame']
            .map((k) => Math.round(c.meanStagesMs[k] ?? 0))
            .join(' / '),
        ],
      ],
      notes: [
        'From the `room:join` request (socket already connected) to the first frame presented by a <video> element (requestVideoFrameCallback). The publisher answers key-frame requests at once, as an encoder does.',
      ],
    });
    report.target(
      'join-to-first-frame p95 < 1 s',
      `p95 ${c.joinToFirstFrame.p95Ms} ms over ${c.ok} joins${c.failures.length ? ` (${c.failures.length} failed)` : ''}`,
      c.ok > 0 && c.failures.length === 0 ? c.joinToFirstFrame.p95Ms < 1000 : false,
    );
  }
  for (const variant of ['plain RTP', 'SRTP'] as const) {
    const rows = results.steps.filter((s) => s.variant === variant);
    if (!rows.length) continue;
    report.table({
      title: `Consumers per worker, ${variant === 'SRTP' ? `SRTP (${SRTP_SUITE})` : variant} subscribers (${P.producersPerRoom} VP8 producers per room, ≤ ${P.subscribersPerRoom} subscribers each consuming all of them; ${P.windowSec} s windows)`,
      columns: [
        'run',
        'system',
        'consumers',
        'rooms',
        'packets/s out',
        'loss %',
        'worker CPU %',
        'packets/s per core',
        'worker CPU ms / 1,000 packets',
        'node CPU %',
        'receivers CPU %',
        'receiver drops',
        'worker RSS MiB',
        'step to window s',
      ],
      rows: rows.map((r) => [
        r.run ?? 1,
        r.system,
        r.consumers,
        r.rooms,
        Math.round(r.outPps),
        r.lossPct,
        r.workerCpuPct,
        Math.round(r.ppsPerCore),
        r.workerCpuMsPer1000,
        r.nodeCpuPct,
        r.receiverCpuPct.map((c) => Math.round(c)).join(' / '),
        r.receiverDrops,
        r.workerRssMb ?? null,
        r.leadSec ?? null,
      ]),
      notes: [
        `Receivers: ${receiverKind === 'native' ? 'bench/lib/rtpsink.c (recvmmsg, RTP headers only)' : 'Node (bench/lib/rtp.ts)'}. Loss: sequence gaps (and silent consumers) at the light receivers over the window. “receiver drops”: datagrams the receivers’ own sockets dropped (kernel counters) — loss there is the receiver’s, not the SFU’s. “node CPU”: moim’s server process (signalling) or the bare script’s. Every step is measured ${P.stepLeadSec} s after its first request in every system (“step to window”; more only when a step took longer): the receivers send no RTCP, so each transport’s bandwidth estimator keeps a record of every packet it sent for 60 s and its cost per packet grows with that history (see “worker RSS”).`,
        ...(variant === 'SRTP'
          ? [
              `SRTP: every subscriber transport encrypts with ${SRTP_SUITE}${P.srtpSuite === 0 ? ', the suite Chromium negotiates with a mediasoup WebRtcTransport' : ''}; the receivers count RTP headers (not encrypted) and decrypt nothing.`,
            ]
          : []),
      ],
    });
    // per run (each a fresh server); a target holds only if it holds in every run
    const runs = runsOf(rows);
    const per = runs.map((run) => {
      const of = rows.filter((r) => (r.run ?? 1) === run);
      const m = of.filter((r) => r.system === SUBJECT && r.ok);
      // every step both served without loss
      const pairs = m
        .map((r) => ({ m: r, b: of.find((x) => x.system === 'mediasoup bare' && x.ok && x.consumers === r.consumers) }))
        .filter((x): x is { m: StepRow; b: StepRow } => x.b !== undefined);
      // worker CPU per packet over all of them (CPU over packets, equal windows): one 4-s window's
      // figure moves by ±15 % from step to step on this machine, the pooled one by a few %
      const pooled = (side: 'm' | 'b') =>
        pairs.reduce((a, x) => a + x[side].workerCpuMsPer1000 * x[side].outPps, 0) /
        pairs.reduce((a, x) => a + x[side].outPps, 0);
      const both = pairs.length
        ? {
            from: pairs[0]!.m.consumers,
            to: pairs.at(-1)!.m.consumers,
            steps: pairs.length,
            m: pooled('m'),
            b: pooled('b'),
            last: pairs.at(-1)!,
          }
        : undefined;
      return {
        run,
        subject: capacity(SUBJECT, variant, run),
        bare: capacity('mediasoup bare', variant, run),
        hasSubject: of.some((r) => r.system === SUBJECT),
        hasBare: of.some((r) => r.system === 'mediasoup bare'),
        both,
      };
    });
    const tag = (run: number) => (runs.length > 1 ? `#${run} ` : '');
    const every = (ok: (x: (typeof per)[number]) => boolean | null) => {
      const v = per.map(ok);
      return v.some((x) => x === null) ? null : v.every(Boolean);
    };
    const ratio = (m: number, b: number) => (b ? (m / b).toFixed(2) : '?');
    // consumers per worker, moim (or bare (B)) against bare (plain RTP and SRTP alike)
    const consumersVsBare = per
      .map((x) => `${tag(x.run)}${SUBJECT_LABEL} ${x.subject} vs bare ${x.bare} (${ratio(x.subject, x.bare)}×)`)
      .join('; ');
    const atLeast09xBare = every((x) => (x.bare > 0 ? x.subject >= 0.9 * x.bare : null));
    if (variant === 'plain RTP' && per.some((x) => x.hasSubject && x.hasBare))
      report.target(
        `${CONTROL}moim rooms sustain ≥ 0.9× the consumers per worker of bare mediasoup at < 1 % loss (plain RTP)`,
        consumersVsBare,
        atLeast09xBare,
      );
    if (variant === 'SRTP') {
      const m = per.some((x) => x.hasSubject);
      report.target(
        `${CONTROL}≥ 500 consumers per worker with SRTP`,
        m
          ? per.map((x) => `${tag(x.run)}${SUBJECT_LABEL} ${x.subject} (bare ${x.bare})`).join('; ')
          : `moim not measurable (SRTP plain transport refused); bare mediasoup ${per.map((x) => x.bare).join(' / ')}`,
        m ? every((x) => x.subject >= 500) : null,
      );
      // issue 18: consumers per worker, and worker CPU per packet over every step both served
      if (m && per.some((x) => x.hasBare)) {
        report.target(`${CONTROL}SRTP consumers per worker ≥ 0.9× bare mediasoup`, consumersVsBare, atLeast09xBare);
        report.target(
          `${CONTROL}SRTP worker CPU per 1,000 packets ≤ 1.1× bare mediasoup (over every step both served)`,
          per
            .map((x) => {
              if (!x.both) return `${tag(x.run)}no step both served`;
              const { from, to, steps, m, b, last } = x.both;
              const lastRatio = ratio(last.m.workerCpuMsPer1000, last.b.workerCpuMsPer1000);
              return `${tag(x.run)}${from}–${to} consumers (${steps} steps): ${SUBJECT_LABEL} ${m.toFixed(1)} ms vs bare ${b.toFixed(1)} ms (${ratio(m, b)}×; at ${to} alone ${lastRatio}×)`;
            })
            .join('; '),
          every((x) => (x.both ? x.both.m <= 1.1 * x.both.b : null)),
        );
      }
    }
  }
}
