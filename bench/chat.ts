/**
 * bench:chat — N connected clients (up to 2,000) in private channels of 10, a target aggregate
 * send rate; delivered messages per second, end-to-end latency p50/p95/p99, server CPU and
 * memory. moim (every message validated, rate-limited, stored in SQLite before its ack and
 * broadcast — `npm start` settings) against a bare socket.io server that only broadcasts (no
 * validation, no storage): the ceiling of moim's stack. Same light clients, same machine, same run.
 *
 * Phases: `fixed` (the target load, default 1,000 messages/s in), then `search` (send rate in
 * steps until p99 ≥ 100 ms or anything is lost/refused, then halving the gap between the last
 * clean step and that one `searchRefine` times: the highest clean rate; `searchRuns` times per
 * system, each on a newly started server, interleaved), and `fresh`:
 * the target load on a server started for the run, from its first message (no warm-up step, no
 * idle window), several runs interleaved across systems, with p99.9 and max next to p99.
 *
 * `node bench/chat.ts` (quick, a few minutes) or `node bench/chat.ts --full`.
 */
import { PROTOCOL_VERSION } from '@moim/protocol';
import { benchArgs, benchParams, commandLine, wants } from './lib/args.ts';
import { startBaseline } from './lib/baselines.ts';
import { sleep, waitUntil, watchdog } from './lib/bounded.ts';
import { GeneratorPool } from './lib/generators.ts';
import { Histogram, type HistogramJSON } from './lib/histogram.ts';
import { summarisedProfileWindow } from './lib/inspector.ts';
import {
  type CommitStats,
  commitPercentileMs,
  type LoopDelayStats,
  loopDelayWindow,
  mintTokens,
  scrapeCommits,
  scrapeLoopDelay,
  startMoim,
} from './lib/moim.ts';
import { pinCores } from './lib/pin.ts';
import { formatThreads, ProcMeter, threadCores, threadCpu } from './lib/proc.ts';
import { REPO_ROOT } from './lib/processes.ts';
import { carryOver, mib, Report, runsOf, spreadCell } from './lib/report.ts';

/**
 * `socket.io durable`: the bare server with every message committed to SQLite before it is broadcast
 * (bench/baselines/socketio-broadcast.ts) — the floor of any server that keeps messages; fresh phase only.
 */
const SYSTEMS = ['socket.io bare', 'socket.io durable', 'moim'] as const;
type System = (typeof SYSTEMS)[number];

const args = benchArgs();
// --pin: the server on core 0, this process and its generators on the others (the issue's method); off by
// default: on two cores every generator then shares one core, and its scheduling shows in the latencies
pinCores(args.pin ?? false);
const QUICK = {
  clients: 2000,
  channelSize: 10,
  rate: 1000,
  fixedSec: 10,
  searchStart: 1000,
  searchFactor: 1.5,
  searchMax: 20_000,
  /** Halvings of the gap between the last clean step and the first that was not. */
  searchRefine: 2,
  /** Searches per system, each on a newly started server (the target asks for three). */
  searchRuns: 1,
  /** Pause after a step that was not clean, so its queues drain before the next step. */
  settleSec: 3,
  stepSec: 5,
  textChars: 100,
  generators: 2,
  p99LimitMs: 100,
  /**
   * Idle CPU window. The clients connect within a second or two, so their heartbeats come in one
   * burst per ping interval (moim 9 s with its 15 s heartbeat, bare socket.io's default 25 s): a
   * window shorter than 25 s catches bare's burst or misses it by luck.
   */
  idleSec: 25,
  /** fresh: runs per system (each on a newly started server). */
  freshRuns: 3,
  /** fresh: 1 runs the durable baseline too (socket.io + a durable SQLite write per message), 0 leaves it out. */
  durable: 1,
  maxMinutes: 15,
};
const FULL: typeof QUICK = {
  ...QUICK,
  fixedSec: 30,
  searchFactor: 1.2,
  searchRuns: 3,
  stepSec: 10,
  idleSec: 50,
  maxMinutes: 45,
};
const P = benchParams(args, QUICK, FULL);
const systems = SYSTEMS.filter((s) => wants(args.systems, s === 'moim' ? 'moim' : 'baseline'));
/** The fixed and search phases compare moim with the bare server only. */
const rateSystems = systems.filter((s) => s !== 'socket.io durable');
const freshSystems = systems.filter((s) => s !== 'socket.io durable' || P.durable === 1);
const report = new Report('chat', commandLine('bench:chat', args), { mode: args.full ? 'full' : 'quick', ...P });
const results: { fixed: Step[]; search: Step[]; fresh: Step[] } = { fixed: [], search: [], fresh: [] };
report.data.results = results;
const carried = carryOver(report, args.only, results as unknown as Record<string, unknown>, {
  fixed: ['fixed'],
  search: ['search'],
  fresh: ['fresh'],
});
/** A checkout of moim to compare with in the fresh phase, or undefined. */
const BASE_ROOT = process.env.BENCH_MOIM_BASE || undefined;
if (BASE_ROOT) report.note(`fresh: “moim (base)” is moim from ${BASE_ROOT}, run right after each moim run`);
const dog = watchdog(P.maxMinutes * 60_000, () => finish(true));
const pool = await GeneratorPool.start(`${REPO_ROOT}/bench/gen/chat-gen.ts`, P.generators);

interface Step {
  system: System;
  phase: 'fixed' | 'search' | 'fresh';
  /** fresh, search: which run (each on a newly started server). */
  run?: number;
  /** 'base': moim from BENCH_MOIM_BASE (another checkout), for before/after in one run. */
  build?: string;
  /** moim: samples of its event-loop delay histogram more than 50 / 100 ms late in the window. */
  serverLoopStallsOver50ms?: number | null;
  serverLoopStallsOver100ms?: number | null;
  /** moim: its chat group commits in the window (per second, writes each, commit time p50/p99). */
  storeCommits?: { perSec: number; writesPerCommit: number; p50Ms: number | null; p99Ms: number | null } | null;
  clients: number;
  targetRate: number;
  fired: number;
  acked: number;
  errors: Record<string, number>;
  deliveries: number;
  expectedDeliveries: number;
  lost: number;
  deliveredPerSec: number;
  latency: ReturnType<Histogram['summary']>;
  ackLatency: ReturnType<Histogram['summary']>;
  serverCpuCores: number;
  /** The server's CPU in the window by thread name, in cores (main thread vs workers). */
  serverThreads: Record<string, number>;
  serverCpuUsPerDelivery: number;
  /** Above the idle CPU of the same server with the same clients connected. */
  serverMarginalCpuUsPerDelivery: number;
  serverIdleCpuPct: number;
  serverRssMiB: number;
  generatorCpuCores: number[];
  clean: boolean;
  generatorBound: boolean;
}

interface Conn {
  system: System;
  pid: number;
  stop(): Promise<void>;
  profile?: (label: string) => Promise<{ stop(): Promise<unknown> }>;
  /** Server CPU (cores) with every client connected and nobody sending (pings, timers). */
  idleCores: number;
  /** moim: its event-loop delay histogram (stalls) so far. */
  loopDelay?: () => Promise<LoopDelayStats | undefined>;
  /** moim: its chat store's group commits so far (count, writes, commit-time histogram). */
  commits?: () => Promise<CommitStats | null>;
}

/** `fresh`: no warm-up step and no idle window (the first message is the first the server handles). */
async function connect(system: System, opts: { fresh?: boolean; root?: string } = {}): Promise<Conn> {
  const n = P.clients;
  let url: string;
  let pid: number;
  let stop: () => Promise<void>;
  let profile: Conn['profile'];
  let loopDelay: Conn['loopDelay'];
  let commits: Conn['commits'];
  let auths: Record<string, unknown>[];
  let subs: string[];
  if (system === 'moim') {
    const m = await startMoim({}, opts.root ? { root: opts.root } : {});
    url = m.url;
    pid = m.pid;
    stop = () => m.stop();
    live.add(stop);
    profile = (label) => m.profile(label);
    loopDelay = () => scrapeLoopDelay(m.url);
    commits = () => scrapeCommits(m.url, 'chat');
    subs = Array.from({ length: n }, (_, i) => `chat${i}`);
    const tokens = await mintTokens(
      m.url,
      subs.map((sub) => ({ name: sub, sub, ttlSeconds: 6 * 3600 })),
      16,
    ).catch(async (err: unknown) => {
      await stopServer(stop);
      throw err;
    });
    auths = tokens.map((token) => ({ token, protocol: PROTOCOL_VERSION }));
  } else {
    const durable = system === 'socket.io durable';
    // --profile: the baseline's windows too, so the two main threads compare window for window
    const b = await startBaseline(system, 'socketio-broadcast.ts', {
      inspect: args.profile,
      durable,
    });
    url = b.url;
    pid = b.pid;
    stop = () => b.stop();
    live.add(stop);
    if (args.profile && b.inspectorUrl) {
      const inspectorUrl = b.inspectorUrl;
      profile = (label) => summarisedProfileWindow(inspectorUrl, `${durable ? 'durable' : 'bare'}-${label}`);
    }
    subs = Array.from({ length: n }, (_, i) => `chat${i}`);
    auths = subs.map(() => ({}));
  }
  try {
    return await join(system, { url, pid, stop, profile, loopDelay, commits, auths, subs }, opts);
  } catch (err) {
    // a load generator failed while the clients connected or joined: stop this server now (it
    // would keep the run alive), then let the run fail with the generator's message
    await stopServer(stop);
    throw err;
  }
}

/** Servers started and not stopped yet: a failed run stops them before it exits. */
const live = new Set<() => Promise<void>>();

async function stopServer(stop: () => Promise<void>): Promise<void> {
  if (!live.delete(stop)) return;
  await stop();
}

/**
 * Steps up by `searchFactor` until a step is not clean (down, if the first was not), then bisects
 * between the last clean rate and the first that was not (`searchRefine` times), so the limit is
 * known to a few per cent, not to a step.
 */
async function search(c: Conn, run: number): Promise<void> {
  let clean: number | undefined;
  let dirty: number | undefined;
  for (let rate = P.searchStart, i = 0; rate <= P.searchMax && i < 40; rate = Math.round(rate * P.searchFactor), i++) {
    const step = await runStep(c, 'search', rate, P.stepSec * 1000, true, run);
    if (!step.clean) {
      dirty = rate;
      break;
    }
    clean = rate;
  }
  // the first step was not clean already: step down until one is (a run is not "zero" by a bad start)
  for (let rate = Math.round(P.searchStart / P.searchFactor); clean === undefined && rate >= P.searchStart / 8; ) {
    await sleep(P.settleSec * 1000);
    const step = await runStep(c, 'search', rate, P.stepSec * 1000, true, run);
    if (step.clean) clean = rate;
    else dirty = rate;
    rate = Math.round(rate / P.searchFactor);
  }
  for (let k = 0; k < P.searchRefine && clean !== undefined && dirty !== undefined; k++) {
    await sleep(P.settleSec * 1000);
    const rate = Math.round((clean + dirty) / 2);
    if (rate === clean || rate === dirty) break;
    const step = await runStep(c, 'search', rate, P.stepSec * 1000, true, run);
    if (step.clean) clean = rate;
    else dirty = rate;
  }
}

async function join(
  system: System,
  s: {
    url: string;
    pid: number;
    stop: () => Promise<void>;
    profile: Conn['profile'];
    loopDelay: Conn['loopDelay'];
    commits: Conn['commits'];
    auths: Record<string, unknown>[];
    subs: string[];
  },
  opts: { fresh?: boolean },
): Promise<Conn> {
  const { url, pid, stop, profile, loopDelay, commits, auths, subs } = s;
  const n = P.clients;
  // client i lives in generator i % G: every channel spans the generators
  const G = pool.size;
  const t0 = performance.now();
  await pool.all(
    'connect',
    (g) => ({
      url,
      clients: auths.map((auth, i) => ({ i, auth })).filter((c) => c.i % G === g),
    }),
    300_000,
  );
  const channels = Math.floor(n / P.channelSize);
  const owners = Array.from({ length: channels }, (_, c) => c * P.channelSize);
  const created = await pool.all<{ ids: string[] }>(
    'createChannels',
    (g) => ({
      owners: owners
        .filter((o) => o % G === g)
        .map((o) => ({
          i: o,
          name: `bench ${o / P.channelSize}`,
          members: subs.slice(o + 1, o + P.channelSize),
        })),
    }),
    300_000,
  );
  const idOfOwner = new Map<number, string>();
  for (let g = 0; g < G; g++) {
    const mine = owners.filter((o) => o % G === g);
    for (const [k, o] of mine.entries()) idOfOwner.set(o, created[g]!.ids[k]!);
  }
  const member = Array.from({ length: channels * P.channelSize }, (_, i) => i);
  await pool.all(
    'subscribe',
    (g) => ({
      subs: member.filter((i) => i % G === g).map((i) => ({ i, channelId: idOfOwner.get(i - (i % P.channelSize))! })),
    }),
    300_000,
  );
  log(`${system}: ${n} clients connected in ${channels} channels in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const extra = {
    ...(profile ? { profile } : {}),
    ...(loopDelay ? { loopDelay } : {}),
    ...(commits ? { commits } : {}),
  };
  if (opts.fresh) return { system, pid, stop, idleCores: 0, ...extra };
  // warm-up: not recorded
  await runStep({ system, pid, stop, idleCores: 0 }, 'fixed', Math.min(200, P.rate), 2000, false);
  const prof = await profile?.('chat-idle');
  const idle = new ProcMeter(() => [pid]).start();
  await sleep(P.idleSec * 1000);
  const idleCores = idle.stop().cores;
  await prof?.stop();
  return { system, pid, stop, idleCores, ...extra };
}

async function runStep(
  c: Conn,
  phase: Step['phase'],
  rate: number,
  durationMs: number,
  keep = true,
  run?: number,
): Promise<Step> {
  const member = P.clients - (P.clients % P.channelSize);
  await pool.all('reset');
  const prof = keep ? await c.profile?.(`chat-${phase}-${rate}`) : undefined;
  const loop0 = await c.loopDelay?.();
  const commits0 = (await c.commits?.()) ?? null;
  const meter = new ProcMeter(() => [c.pid]).start();
  const threads0 = threadCpu(c.pid);
  const gen0 = pool.generators.map((g) => g.cpuSec());
  const G = pool.size;
  const sent = await pool.all<{ fired: number }>(
    'send',
    (g) => ({
      senders: Array.from({ length: member }, (_, i) => i).filter((i) => i % G === g),
      ratePerSec: rate / G,
      durationMs,
      textChars: P.textChars,
    }),
    durationMs + 60_000,
  );
  const fired = sent.reduce((a, s) => a + s.fired, 0);
  type S = {
    delivery: HistogramJSON;
    ack: HistogramJSON;
    deliveries: number;
    acked: number;
    errors: Record<string, number>;
    pendingAcks: number;
  };
  let stats: S[] = [];
  // drain: every send answered and every delivery in (bounded)
  await waitUntil(
    async () => {
      stats = await pool.all<S>('stats');
      const acked = stats.reduce((a, s) => a + s.acked, 0);
      const errs = stats.reduce((a, s) => a + Object.values(s.errors).reduce((x, y) => x + y, 0), 0);
      const deliveries = stats.reduce((a, s) => a + s.deliveries, 0);
      return acked + errs >= fired && deliveries >= acked * P.channelSize ? true : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, label: 'drain', orUndefined: true },
  );
  const cpu = meter.stop();
  const serverThreads = threadCores(threads0, threadCpu(c.pid), cpu.wallSec);
  const loop = c.loopDelay ? loopDelayWindow(loop0, await c.loopDelay()) : null;
  const commits1 = (await c.commits?.()) ?? null;
  const storeCommits =
    commits0 && commits1 && commits1.count > commits0.count
      ? {
          perSec: (commits1.count - commits0.count) / cpu.wallSec,
          writesPerCommit: (commits1.updates - commits0.updates) / (commits1.count - commits0.count),
          p50Ms: commitPercentileMs(commits0, commits1, 0.5),
          p99Ms: commitPercentileMs(commits0, commits1, 0.99),
        }
      : null;
  await prof?.stop();
  const genCores = pool.generators.map((g, i) => (g.cpuSec() - gen0[i]!) / cpu.wallSec);
  const delivery = new Histogram();
  const ackH = new Histogram();
  const errors: Record<string, number> = {};
  let deliveries = 0;
  let acked = 0;
  for (const s of stats) {
    delivery.merge(s.delivery);
    ackH.merge(s.ack);
    deliveries += s.deliveries;
    acked += s.acked;
    for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  const expected = fired * P.channelSize;
  const lat = delivery.summary();
  const step: Step = {
    system: c.system,
    phase,
    ...(run === undefined ? {} : { run }),
    serverLoopStallsOver50ms: loop?.over50ms ?? null,
    serverLoopStallsOver100ms: loop?.over100ms ?? null,
    storeCommits,
    clients: P.clients,
    targetRate: rate,
    fired,
    acked,
    errors,
    deliveries,
    expectedDeliveries: expected,
    lost: Math.max(0, expected - deliveries),
    deliveredPerSec: deliveries / (durationMs / 1000),
    latency: lat,
    ackLatency: ackH.summary(),
    serverCpuCores: cpu.cores,
    serverThreads,
    serverCpuUsPerDelivery: deliveries ? (cpu.cpuSec * 1e6) / deliveries : Number.NaN,
    serverMarginalCpuUsPerDelivery: deliveries
      ? (Math.max(0, cpu.cpuSec - c.idleCores * cpu.wallSec) * 1e6) / deliveries
      : Number.NaN,
    serverIdleCpuPct: c.idleCores * 100,
    serverRssMiB: mib(meter.peakRssBytes),
    generatorCpuCores: genCores,
    clean: acked === fired && deliveries === expected && lat.p99Ms < P.p99LimitMs,
    // a generator process near a full core makes the figure a floor, not the server's limit
    generatorBound: genCores.some((x) => x > 0.9),
  };
  if (keep) {
    results[phase].push(step);
    log(
      `${c.system} ${phase}${run === undefined ? '' : ` #${run}`} ${rate}/s: delivered ${Math.round(step.deliveredPerSec)}/s, p50 ${lat.p50Ms} p99 ${lat.p99Ms} p99.9 ${lat.p999Ms} max ${lat.maxMs} ms, ` +
        `lost ${step.lost}, errors ${JSON.stringify(errors)}, server ${(cpu.cores * 100).toFixed(0)} % CPU (${formatThreads(serverThreads)}), ` +
        `generators ${genCores.map((x) => `${(x * 100).toFixed(0)} %`).join(' ')}` +
        (storeCommits
          ? `, ${Math.round(storeCommits.perSec)} commits/s × ${storeCommits.writesPerCommit.toFixed(1)} writes, commit p50 ${storeCommits.p50Ms?.toFixed(2)} p99 ${storeCommits.p99Ms?.toFixed(2)} ms`
          : ''),
    );
  }
  await sleep(500);
  return step;
}

async function withSystem(
  system: System,
  fn: (c: Conn) => Promise<void>,
  opts: { fresh?: boolean; root?: string } = {},
): Promise<void> {
  const c = await connect(system, opts);
  try {
    await fn(c);
  } finally {
    await pool.all('close', () => ({}), 60_000).catch(() => {});
    await stopServer(c.stop);
  }
}

function log(s: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
}

try {
  if (wants(args.only, 'fixed'))
    for (const s of rateSystems)
      await withSystem(s, async (c) => void (await runStep(c, 'fixed', P.rate, P.fixedSec * 1000)));
  if (wants(args.only, 'search'))
    for (let run = 1; run <= P.searchRuns; run++)
      for (const s of run % 2 ? [...rateSystems].reverse() : rateSystems) await withSystem(s, (c) => search(c, run));
  if (wants(args.only, 'fresh'))
    for (let run = 1; run <= P.freshRuns; run++)
      for (const s of run % 2 ? freshSystems : [...freshSystems].reverse()) {
        await withSystem(s, async (c) => void (await runStep(c, 'fresh', P.rate, P.fixedSec * 1000, true, run)), {
          fresh: true,
        });
        // BENCH_MOIM_BASE: moim from another checkout too, right after this one (before/after)
        if (s === 'moim' && BASE_ROOT)
          await withSystem(
            s,
            async (c) => {
              const step = await runStep(c, 'fresh', P.rate, P.fixedSec * 1000, false, run);
              results.fresh.push({ ...step, build: 'base' });
              log(
                `moim (base) fresh #${run}: p50 ${step.latency.p50Ms} p99 ${step.latency.p99Ms} p99.9 ${step.latency.p999Ms} max ${step.latency.maxMs} ms, server ${(step.serverCpuCores * 100).toFixed(0)} % CPU`,
              );
            },
            { fresh: true, root: BASE_ROOT },
          );
      }
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  // a generator's failure (it exited, refused a command or timed out) ends the run with its message
  process.stderr.write(`\nbench:chat: run failed, stopping: ${message}\n`);
  report.note(`run failed: ${message}`);
  process.exitCode = 1;
}
await finish(false);
// nothing may keep a failed run alive (a server's pipes, a generator's IPC channel)
if (process.exitCode) process.exit(process.exitCode);

async function finish(partial: boolean): Promise<void> {
  dog.cancel();
  await report.finish({
    partial,
    dryRun: args.dryRun,
    render: tables,
    stop: () => Promise.all([pool.stop(), ...[...live].map((stop) => stopServer(stop))]),
  });
}

function tables(): void {
  const row = (s: Step) => [
    s.system,
    s.targetRate,
    Math.round(s.deliveredPerSec),
    s.latency.p50Ms,
    s.latency.p95Ms,
    s.latency.p99Ms,
    s.latency.p999Ms,
    s.latency.maxMs,
    s.ackLatency.p99Ms,
    s.lost,
    Object.entries(s.errors)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '0',
    s.serverCpuCores * 100,
    s.serverCpuUsPerDelivery,
    s.serverMarginalCpuUsPerDelivery,
    s.serverRssMiB,
    s.generatorCpuCores.map((x) => `${Math.round(x * 100)}`).join(' + '),
  ];
  const columns = [
    'system',
    'msgs/s in',
    'delivered/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'ack p99 ms',
    'lost',
    'refused',
    'server CPU %',
    'server CPU µs/delivery',
    'above idle µs/delivery',
    'server RSS MiB',
    'generators CPU %',
  ];
  // a phase carried over from an earlier run is titled with that run's parameters
  const paramsOf = (phase: string): typeof P => ({ ...P, ...(carried[phase]?.params as Partial<typeof P>) });
  if (results.fixed.length) {
    const F = paramsOf('fixed');
    report.table({
      title: `${F.clients} clients in channels of ${F.channelSize}, ${F.rate} messages/s in for ${F.fixedSec} s`,
      columns,
      rows: results.fixed.map(row),
      notes: [
        `Server CPU with the ${F.clients} clients connected and idle for ${F.idleSec} s: ${results.fixed.map((s) => `${s.system} ${s.serverIdleCpuPct?.toFixed(1)} %`).join(', ')} (heartbeats: moim pings every 9 s with its 15 s \`MOIM_HEARTBEAT_TIMEOUT_MS\`, bare socket.io every 25 s); “above idle” subtracts it. Latency: from the send call in the sender’s generator to the \`chat:message\` frame at each member (all 10, the sender included). “ack”: send → acknowledgement (moim: after the message is stored). Generators are separate processes with light socket.io clients (bench/lib/lightio.ts).`,
      ],
    });
  }
  if (results.search.length) {
    const S = paramsOf('search');
    report.table({
      title: `Highest clean send rate at ${S.clients} clients (p99 < ${S.p99LimitMs} ms, nothing lost or refused), ${S.stepSec} s steps ×${S.searchFactor}, then ${S.searchRefine} halvings of the last gap; ${S.searchRuns} run(s) per system on new servers`,
      columns: ['run', ...columns, 'clean', 'generator-bound'],
      rows: results.search.map((s) => [s.run ?? 1, ...row(s), s.clean, s.generatorBound]),
    });
  }
  if (results.fresh.length) {
    const by = (sys: System, build?: string) => results.fresh.filter((s) => s.system === sys && s.build === build);
    const groups: Array<[string, Step[]]> = SYSTEMS.map((sys): [string, Step[]] => [sys, by(sys)]);
    if (BASE_ROOT) groups.push(['moim (base)', by('moim', 'base')]);
    report.table({
      title: `Fresh process: a server started for each run, ${P.clients} clients in channels of ${P.channelSize}, ${P.rate} messages/s in for ${P.fixedSec} s from its first message (median (min–max) of the runs)`,
      columns: [
        'system',
        'runs',
        'delivered/s',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'lost',
        'server CPU %',
        'server CPU µs/delivery',
        'moim loop stalls > 50 ms / > 100 ms',
      ],
      rows: groups
        .filter(([, rs]) => rs.length > 0)
        .map(([sys, rs]) => {
          const sp = (f: (s: Step) => number | null | undefined) => spreadCell(rs.map(f));
          return [
            sys,
            rs.length,
            sp((s) => s.deliveredPerSec),
            sp((s) => s.latency.p50Ms),
            sp((s) => s.latency.p99Ms),
            sp((s) => s.latency.p999Ms),
            sp((s) => s.latency.maxMs),
            rs.reduce((a, s) => a + s.lost, 0),
            sp((s) => s.serverCpuCores * 100),
            sp((s) => s.serverCpuUsPerDelivery),
            sys === 'moim'
              ? `${sp((s) => s.serverLoopStallsOver50ms)} / ${sp((s) => s.serverLoopStallsOver100ms)}`
              : '–',
          ];
        }),
      notes: [
        'No warm-up step and no idle window: the clients connect and join their channels, then the window starts with the first message. “moim loop stalls”: samples of its own event-loop delay histogram (moim_event_loop_delay_seconds, a 10-ms timer) more than 50 / 100 ms late in the window.',
        ...durableNote(),
      ],
    });
  }
  /** What storing costs: CPU per delivery run by run, moim and the durable baseline against bare, moim against durable. */
  function durableNote(): string[] {
    const of = (sys: System) => results.fresh.filter((s) => s.system === sys && s.build === undefined);
    const [bare, durable, moim] = [of('socket.io bare'), of('socket.io durable'), of('moim')];
    if (durable.length === 0) return [];
    const ratios = (a: Step[], b: Step[]) =>
      a
        .map((x) => ({ x, y: b.find((y) => y.run === x.run) }))
        .filter((p): p is { x: Step; y: Step } => p.y !== undefined)
        .map(({ x, y }) => `${(x.serverCpuUsPerDelivery / y.serverCpuUsPerDelivery).toFixed(2)}×`)
        .join(' / ');
    return [
      `“socket.io durable”: the bare server committing each message to SQLite (WAL, synchronous=FULL, a writer thread, group commits at most every 3 ms as moim's) before it broadcasts it — what any server that keeps messages pays, without moim's validation, authentication, rate limits, read markers or metrics. CPU per delivery, run by run: durable / bare ${ratios(durable, bare) || '–'}; moim / durable ${ratios(moim, durable) || '–'}; moim / bare ${ratios(moim, bare) || '–'}.`,
    ];
  }
  const bare = results.fixed.find((s) => s.system === 'socket.io bare');
  const moim = results.fixed.find((s) => s.system === 'moim');
  if (moim) {
    report.target(
      `chat at ${P.clients} clients, ${P.rate} msgs/s in: p99 ≤ 10 ms`,
      `moim p99 ${moim.latency.p99Ms} ms (${Math.round(moim.deliveredPerSec)} deliveries/s, lost ${moim.lost})${bare ? `; bare socket.io ${bare.latency.p99Ms} ms` : ''}`,
      moim.latency.p99Ms <= 10 && moim.lost === 0,
    );
    if (bare) {
      const ratio = moim.serverCpuUsPerDelivery / bare.serverCpuUsPerDelivery;
      const marginal = moim.serverMarginalCpuUsPerDelivery / bare.serverMarginalCpuUsPerDelivery;
      report.target(
        'server CPU per delivered message ≤ 2× the bare baseline',
        `moim ${moim.serverCpuUsPerDelivery.toFixed(1)} µs vs bare ${bare.serverCpuUsPerDelivery.toFixed(1)} µs (${ratio.toFixed(2)}×; above idle ${moim.serverMarginalCpuUsPerDelivery.toFixed(1)} vs ${bare.serverMarginalCpuUsPerDelivery.toFixed(1)} µs, ${marginal.toFixed(2)}×)`,
        ratio <= 2,
      );
    }
  }
  // issue 18: fresh servers, every run (moim's run k against bare's run k)
  const freshOf = (sys: System) => results.fresh.filter((s) => s.system === sys && s.build === undefined);
  const freshMoim = freshOf('moim');
  const freshBare = freshOf('socket.io bare');
  if (freshMoim.length) {
    report.target(
      `fresh server, ${P.rate} msgs/s: p99 ≤ 10 ms in every run`,
      `moim p99 ${freshMoim.map((s) => s.latency.p99Ms).join(' / ')} ms${freshBare.length ? `; bare ${freshBare.map((s) => s.latency.p99Ms).join(' / ')} ms` : ''}`,
      freshMoim.every((s) => s.latency.p99Ms <= 10 && s.lost === 0),
    );
    const pairs = freshMoim
      .map((m) => ({ m, b: freshBare.find((b) => b.run === m.run) }))
      .filter((x): x is { m: Step; b: Step } => x.b !== undefined);
    if (pairs.length)
      report.target(
        'fresh server: CPU per delivery ≤ 1.5× bare socket.io in every run',
        pairs
          .map(
            ({ m, b }) =>
              `${m.serverCpuUsPerDelivery.toFixed(1)} vs ${b.serverCpuUsPerDelivery.toFixed(1)} µs (${(m.serverCpuUsPerDelivery / b.serverCpuUsPerDelivery).toFixed(2)}×)`,
          )
          .join('; '),
        pairs.every(({ m, b }) => m.serverCpuUsPerDelivery <= 1.5 * b.serverCpuUsPerDelivery),
      );
  }
  const best = (sys: System, run: number) => {
    const clean = results.search.filter((s) => s.system === sys && (s.run ?? 1) === run && s.clean);
    return clean.length ? Math.max(...clean.map((s) => s.targetRate)) : 0;
  };
  if (results.search.some((s) => s.system === 'moim') && results.search.some((s) => s.system === 'socket.io bare')) {
    const runs = runsOf(results.search);
    const pairs = runs.map((r) => ({ m: best('moim', r), b: best('socket.io bare', r) }));
    const bound = results.search.some((s) => s.generatorBound);
    report.target(
      `highest clean send rate at ${P.clients} clients ≥ 0.7× the bare baseline in every run`,
      `${pairs.map(({ m, b }) => `moim ${m}/s vs bare ${b}/s (${b ? (m / b).toFixed(2) : '?'}×)`).join('; ')}${bound ? '; some steps were generator-bound (see table)' : ''}`,
      pairs.every(({ b }) => b > 0) ? pairs.every(({ m, b }) => m >= 0.7 * b) : null,
    );
  }
}
