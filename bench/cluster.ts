/**
 * bench:cluster — the cluster mode side by side with one node, in one run:
 *
 * - chat: N clients in private channels of 10 and a fixed send rate against (a) ONE moim node on
 *   PostgreSQL (DATABASE_URL, no Redis) and (b) TWO nodes on the same PostgreSQL and a private
 *   Redis (REDIS_URL), the clients split half/half (client i on node i mod 2, so every channel
 *   spans both nodes) and senders on both. Deliveries/s, end-to-end latency (send → each member's
 *   `chat:message`, the sender included), CPU of the node processes per delivery, lost and
 *   duplicate deliveries.
 * - presence (two nodes): people subscribed to their site, half on each node; latency of a
 *   `presence:set` to subscribers on the other node vs on the same node; then one node is
 *   SIGKILLed and the time until its people are seen `offline` by the subscribers on the survivor.
 *
 * `trials` runs per system, fresh processes (and a fresh schema of the test database, dropped at
 * the end) each time; tables give the median and the spread (min–max) of the trials.
 *
 * Needs `redis-server` on the PATH and the local PostgreSQL's `test` database
 * (MOIM_TEST_DATABASE_URL). `node bench/cluster.ts` (quick, a few minutes) or `--full`.
 */
import { PROTOCOL_VERSION } from '@moim/protocol';
import { benchArgs, benchParams, commandLine, wants } from './lib/args.ts';
import { sleep, waitUntil, watchdog } from './lib/bounded.ts';
import { type Deployment, startDeployment } from './lib/cluster.ts';
import { GeneratorPool } from './lib/generators.ts';
import { Histogram, type HistogramJSON, type LatencySummary, nowUs } from './lib/histogram.ts';
import { mintTokens } from './lib/moim.ts';
import { ProcMeter } from './lib/proc.ts';
import { REPO_ROOT } from './lib/processes.ts';
import { type Cell, carryOver, mib, Report } from './lib/report.ts';

const SYSTEMS = ['one node', 'two nodes'] as const;
type System = (typeof SYSTEMS)[number];

const args = benchArgs();
const QUICK = {
  clients: 400,
  channelSize: 10,
  rate: 200,
  durationSec: 8,
  textChars: 100,
  people: 400,
  siteSize: 100,
  presenceRate: 20,
  presenceSec: 8,
  trials: 3,
  generators: 2,
  maxMinutes: 15,
};
const FULL: typeof QUICK = {
  ...QUICK,
  clients: 2000,
  rate: 1000,
  durationSec: 20,
  people: 2000,
  siteSize: 200,
  presenceSec: 20,
  maxMinutes: 45,
};
const P = benchParams(args, QUICK, FULL);
const systems = SYSTEMS.filter((s) => wants(args.systems, s === 'one node' ? 'one' : 'two'));
const report = new Report('cluster', commandLine('bench:cluster', args), { mode: args.full ? 'full' : 'quick', ...P });
const results: { chat: ChatTrial[]; presence: PresenceTrial[] } = { chat: [], presence: [] };
report.data.results = results;
carryOver(report, args.only, results as unknown as Record<string, unknown>, { chat: ['chat'], presence: ['presence'] });
let current: Deployment | undefined;
/** The last deployment's log lines (warnings and errors: nodes log at `warn`), for a failed trial's note. */
let lastNodeOutput = '';
const dog = watchdog(P.maxMinutes * 60_000, () => finish(true));
const pool = await GeneratorPool.start(`${REPO_ROOT}/bench/lib/cluster-gen.ts`, P.generators);
const G = pool.size;
/** Client i's generator: consecutive clients (one on each node) in different generators. */
const genOf = (i: number) => Math.floor(i / 2) % G;
const ms = (us: number) => Math.round(us) / 1000;

interface ChatTrial {
  system: System;
  trial: number;
  nodes: number;
  clients: number;
  targetRate: number;
  fired: number;
  acked: number;
  errors: Record<string, number>;
  deliveries: number;
  expectedDeliveries: number;
  lost: number;
  duplicates: number;
  deliveredPerSec: number;
  latency: LatencySummary;
  sameNode: LatencySummary;
  crossNode: LatencySummary;
  ackLatency: LatencySummary;
  nodeCpuCores: number;
  nodeCpuUsPerDelivery: number;
  redisCpuCores: number | null;
  nodeRssMiB: number;
  generatorCpuCores: number[];
  setupSec: number;
}

interface PresenceTrial {
  trial: number;
  people: number;
  siteSize: number;
  rate: number;
  fired: number;
  deliveries: number;
  expectedDeliveries: number;
  lost: number;
  duplicates: number;
  errors: Record<string, number>;
  sameNode: LatencySummary;
  crossNode: LatencySummary;
  /** Per change, until the last subscriber of the site had it. */
  toAll: LatencySummary;
  nodeCpuCores: number;
  redisCpuCores: number;
  offline: {
    people: number;
    seen: number;
    /** Per person on the killed node: SIGKILL → first `offline` at a subscriber on the survivor. */
    firstMs: (number | null)[];
    /** … → the last of the survivor's subscribers of their site had it. */
    allMs: (number | null)[];
  };
}

type Stats = {
  same: HistogramJSON;
  cross: HistogramJSON;
  ack: HistogramJSON;
  deliveries: number;
  duplicates: number;
  acked: number;
  fired: number;
  errors: Record<string, number>;
  perChange: [string, [number, number]][];
};

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (Number.isInteger(x) || a >= 100) return Math.round(x).toLocaleString('en-US');
  return a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** "median (min–max)" over the trials; one value when they agree. */
function spread(values: readonly (number | null | undefined)[]): Cell {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const med = v[Math.floor((v.length - 1) / 2)]!;
  if (v.length === 1 || fmt(v[0]!) === fmt(v.at(-1)!)) return fmt(med);
  return `${fmt(med)} (${fmt(v[0]!)}–${fmt(v.at(-1)!)})`;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function log(s: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
}

function merge(stats: Stats[]) {
  const same = new Histogram();
  const cross = new Histogram();
  const ack = new Histogram();
  const errors: Record<string, number> = {};
  let deliveries = 0;
  let duplicates = 0;
  let acked = 0;
  for (const s of stats) {
    same.merge(s.same);
    cross.merge(s.cross);
    ack.merge(s.ack);
    deliveries += s.deliveries;
    duplicates += s.duplicates;
    acked += s.acked;
    for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  const all = new Histogram().merge(same).merge(cross);
  return { same, cross, all, ack, errors, deliveries, duplicates, acked };
}

/** Connect `n` clients, client i to node i mod (nodes), with tokens minted by the first node. */
async function connectClients(
  dep: Deployment,
  n: number,
  person: (i: number) => { name: string; sub: string; site?: string },
): Promise<void> {
  const tokens = await mintTokens(
    dep.nodes[0]!.url,
    Array.from({ length: n }, (_, i) => ({ ...person(i), ttlSeconds: 6 * 3600 })),
    16,
  );
  const all = Array.from({ length: n }, (_, i) => i);
  await pool.all(
    'connect',
    (g) => ({
      clients: all
        .filter((i) => genOf(i) === g)
        .map((i) => {
          const node = i % dep.nodes.length;
          return { i, node, url: dep.nodes[node]!.url, auth: { token: tokens[i], protocol: PROTOCOL_VERSION } };
        }),
    }),
    300_000,
  );
}

async function closeClients(): Promise<void> {
  await pool.all('close', () => ({}), 60_000);
}

async function chatTrial(system: System, trial: number): Promise<void> {
  const t0 = performance.now();
  const dep = await startDeployment(system === 'one node' ? 1 : 2);
  current = dep;
  try {
    const n = P.clients - (P.clients % P.channelSize);
    const sub = (i: number) => `chat${i}`;
    await connectClients(dep, n, (i) => ({ name: sub(i), sub: sub(i) }));
    const owners = Array.from({ length: n / P.channelSize }, (_, c) => c * P.channelSize);
    const created = await pool.all<{ ids: string[] }>(
      'createChannels',
      (g) => ({
        owners: owners
          .filter((o) => genOf(o) === g)
          .map((o) => ({
            i: o,
            name: `bench ${o / P.channelSize}`,
            members: Array.from({ length: P.channelSize - 1 }, (_, k) => sub(o + 1 + k)),
          })),
      }),
      300_000,
    );
    const channelOf = new Map<number, string>();
    for (let g = 0; g < G; g++) {
      for (const [k, o] of owners.filter((x) => genOf(x) === g).entries()) channelOf.set(o, created[g]!.ids[k]!);
    }
    const members = Array.from({ length: n }, (_, i) => i);
    await pool.all(
      'subscribeChat',
      (g) => ({
        subs: members
          .filter((i) => genOf(i) === g)
          .map((i) => ({ i, channelId: channelOf.get(i - (i % P.channelSize))! })),
      }),
      300_000,
    );
    const setupSec = (performance.now() - t0) / 1000;
    log(
      `${system} #${trial}: ${n} clients in ${owners.length} channels on ${dep.nodes.length} node(s), ${setupSec.toFixed(1)} s`,
    );
    const send = async (rate: number, durationMs: number) => {
      await pool.all('reset');
      const sent = await pool.all<{ fired: number }>(
        'send',
        (g) => ({
          senders: members.filter((i) => genOf(i) === g),
          ratePerSec: rate / G,
          durationMs,
          textChars: P.textChars,
        }),
        durationMs + 60_000,
      );
      const fired = sent.reduce((a, s) => a + s.fired, 0);
      let stats: Stats[] = [];
      await waitUntil(
        async () => {
          stats = await pool.all<Stats>('stats');
          const acked = stats.reduce((a, s) => a + s.acked, 0);
          const errs = stats.reduce((a, s) => a + Object.values(s.errors).reduce((x, y) => x + y, 0), 0);
          const deliveries = stats.reduce((a, s) => a + s.deliveries, 0);
          return acked + errs >= fired && deliveries >= acked * P.channelSize ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, label: 'chat drain', orUndefined: true },
      );
      return { fired, stats };
    };
    // warm-up at the target rate (JIT, connection pools), not recorded
    await send(P.rate, 3000);
    await sleep(500);
    const meter = new ProcMeter(() => dep.nodePids()).start();
    const redisMeter = dep.redis ? new ProcMeter(() => [dep.redis!.pid]).start() : undefined;
    const gen0 = pool.generators.map((g) => g.cpuSec());
    const durationMs = P.durationSec * 1000;
    const { fired, stats } = await send(P.rate, durationMs);
    const cpu = meter.stop();
    const redisCpu = redisMeter?.stop();
    const genCores = pool.generators.map((g, i) => (g.cpuSec() - gen0[i]!) / cpu.wallSec);
    const m = merge(stats);
    const expected = fired * P.channelSize;
    const row: ChatTrial = {
      system,
      trial,
      nodes: dep.nodes.length,
      clients: n,
      targetRate: P.rate,
      fired,
      acked: m.acked,
      errors: m.errors,
      deliveries: m.deliveries,
      expectedDeliveries: expected,
      lost: Math.max(0, expected - m.deliveries),
      duplicates: m.duplicates,
      deliveredPerSec: m.deliveries / P.durationSec,
      latency: m.all.summary(),
      sameNode: m.same.summary(),
      crossNode: m.cross.summary(),
      ackLatency: m.ack.summary(),
      nodeCpuCores: cpu.cores,
      nodeCpuUsPerDelivery: m.deliveries ? (cpu.cpuSec * 1e6) / m.deliveries : Number.NaN,
      redisCpuCores: redisCpu ? redisCpu.cores : null,
      nodeRssMiB: mib(meter.peakRssBytes),
      generatorCpuCores: genCores,
      setupSec,
    };
    results.chat.push(row);
    log(
      `${system} #${trial}: delivered ${Math.round(row.deliveredPerSec)}/s, p50 ${row.latency.p50Ms} p99 ${row.latency.p99Ms} max ${row.latency.maxMs} ms ` +
        `(other node p99 ${row.crossNode.p99Ms} ms), lost ${row.lost}, duplicates ${row.duplicates}, errors ${JSON.stringify(m.errors)}, ` +
        `nodes ${(cpu.cores * 100).toFixed(0)} % CPU (${row.nodeCpuUsPerDelivery.toFixed(1)} µs/delivery)` +
        `${redisCpu ? `, redis ${(redisCpu.cores * 100).toFixed(0)} %` : ''}, generators ${genCores.map((x) => `${(x * 100).toFixed(0)} %`).join(' ')}`,
    );
  } finally {
    await endTrial(dep, closeClients);
  }
}

async function presenceTrial(trial: number): Promise<void> {
  const t0 = performance.now();
  const dep = await startDeployment(2);
  current = dep;
  try {
    const n = P.people - (P.people % P.siteSize);
    const sub = (i: number) => `p${i}`;
    const site = (i: number) => `bsite${Math.floor(i / P.siteSize)}`;
    await connectClients(dep, n, (i) => ({ name: `Person ${i}`, sub: sub(i), site: site(i) }));
    const everyone = Array.from({ length: n }, (_, i) => i);
    await pool.all(
      'subscribePresence',
      (g) => ({ subs: everyone.filter((i) => genOf(i) === g).map((i) => ({ i, site: site(i) })) }),
      300_000,
    );
    log(
      `presence #${trial}: ${n} people on 2 nodes, subscribed to their site of ${P.siteSize}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const change = async (rate: number, durationMs: number) => {
      await pool.all('reset');
      const sent = await pool.all<{ fired: number }>(
        'change',
        (g) => ({ people: everyone.filter((i) => genOf(i) === g), ratePerSec: rate / G, durationMs }),
        durationMs + 60_000,
      );
      const fired = sent.reduce((a, s) => a + s.fired, 0);
      let stats: Stats[] = [];
      await waitUntil(
        async () => {
          stats = await pool.all<Stats>('stats');
          return stats.reduce((a, s) => a + s.deliveries, 0) >= fired * P.siteSize ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, label: 'presence drain', orUndefined: true },
      );
      return { fired, stats };
    };
    await change(10, 1000); // warm-up
    await sleep(1000);
    const meter = new ProcMeter(() => dep.nodePids()).start();
    const redisMeter = new ProcMeter(() => [dep.redis!.pid]).start();
    const { fired } = await change(P.presenceRate, P.presenceSec * 1000);
    await sleep(1000); // late duplicates, if any, are counted
    const stats = await pool.all<Stats>('stats');
    const cpu = meter.stop();
    const redisCpu = redisMeter.stop();
    const m = merge(stats);
    const changes = new Map<string, [number, number]>();
    for (const s of stats)
      for (const [key, [c, max]] of s.perChange) {
        const x = changes.get(key);
        if (x) {
          x[0] += c;
          x[1] = Math.max(x[1], max);
        } else changes.set(key, [c, max]);
      }
    const toAll = new Histogram();
    for (const [c, max] of changes.values()) if (c >= P.siteSize) toAll.record(max);

    // the second node dies: its people must be seen offline by the subscribers on the first
    const victims = everyone.filter((i) => i % 2 === 1);
    await pool.all('watch', () => ({ subs: victims.map(sub), node: 0 }));
    const watchersPerSite = P.siteSize / 2;
    const victim = dep.nodes[1]!;
    const workers = victim.pids().filter((p) => p !== victim.pid);
    const killedAt = nowUs();
    victim.proc.kill('SIGKILL');
    // its mediasoup worker goes with it, as on a dead machine
    for (const w of workers) {
      try {
        process.kill(w, 'SIGKILL');
      } catch (err) {
        log(`mediasoup worker ${w} of the killed node: ${String(err)}`);
      }
    }
    log(`presence #${trial}: SIGKILLed node B; waiting for its ${victims.length} people to be seen offline on A`);
    let seen = new Map<string, [number, number, number]>();
    await waitUntil(
      async () => {
        const all = await pool.all<{ seen: [string, [number, number, number]][] }>('offline');
        seen = new Map();
        for (const a of all)
          for (const [s, [c, first, last]] of a.seen) {
            const x = seen.get(s);
            if (x) seen.set(s, [x[0] + c, Math.min(x[1], first), Math.max(x[2], last)]);
            else seen.set(s, [c, first, last]);
          }
        return victims.every((v) => (seen.get(sub(v))?.[0] ?? 0) >= watchersPerSite) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, label: 'offline', orUndefined: true },
    );
    const firstMs = victims.map((v) => {
      const x = seen.get(sub(v));
      return x ? ms(x[1] - killedAt) : null;
    });
    const allMs = victims.map((v) => {
      const x = seen.get(sub(v));
      return x && x[0] >= watchersPerSite ? ms(x[2] - killedAt) : null;
    });
    const row: PresenceTrial = {
      trial,
      people: n,
      siteSize: P.siteSize,
      rate: P.presenceRate,
      fired,
      deliveries: m.deliveries,
      expectedDeliveries: fired * P.siteSize,
      lost: Math.max(0, fired * P.siteSize - m.deliveries),
      duplicates: m.duplicates,
      errors: m.errors,
      sameNode: m.same.summary(),
      crossNode: m.cross.summary(),
      toAll: toAll.summary(),
      nodeCpuCores: cpu.cores,
      redisCpuCores: redisCpu.cores,
      offline: { people: victims.length, seen: allMs.filter((x) => x !== null).length, firstMs, allMs },
    };
    results.presence.push(row);
    const done = allMs.filter((x): x is number => x !== null);
    log(
      `presence #${trial}: same node p50 ${row.sameNode.p50Ms} p99 ${row.sameNode.p99Ms} ms, other node p50 ${row.crossNode.p50Ms} p99 ${row.crossNode.p99Ms} ms, ` +
        `lost ${row.lost}, duplicates ${row.duplicates}; offline after SIGKILL: ${done.length}/${victims.length}, ` +
        `${done.length ? `${Math.min(...done)}–${Math.max(...done)} ms` : '–'}`,
    );
  } finally {
    await endTrial(dep, closeClients);
  }
}

/** Run one trial; a failed trial is a note (with the nodes' last log lines) and the run goes on. */
async function trial(label: string, fn: () => Promise<void>): Promise<void> {
  lastNodeOutput = '';
  try {
    await fn();
  } catch (err) {
    failures++;
    const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
    report.note(`${label} failed: ${msg}${lastNodeOutput ? `\nnode output:\n${lastNodeOutput}` : ''}`);
  }
}
let failures = 0;

try {
  if (wants(args.only, 'chat')) {
    for (let t = 1; t <= P.trials; t++) {
      // alternate which system goes first, so neither always runs on a warmer (or busier) machine
      const order = t % 2 === 1 ? systems : [...systems].reverse();
      for (const s of order) await trial(`chat trial ${t} (${s})`, () => chatTrial(s, t));
    }
  }
  if (wants(args.only, 'presence') && systems.includes('two nodes')) {
    for (let t = 1; t <= P.trials; t++) await trial(`presence trial ${t}`, () => presenceTrial(t));
  }
  if (failures > 0) process.exitCode = 1;
} catch (err) {
  report.note(`run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}
await finish(false);

async function finish(partial: boolean): Promise<void> {
  dog.cancel();
  if (current) {
    const dep = current;
    current = undefined;
    await dep.stop().catch((e: unknown) => report.note(`stopping the last deployment failed: ${String(e)}`));
  }
  await report.finish({ partial, dryRun: args.dryRun, render: tables, stop: () => pool.stop() });
}

// ---- tables ----

function tables(): void {
  const chat = results.chat;
  if (chat.length) {
    const rows: Cell[][] = [];
    for (const s of SYSTEMS) {
      const t = chat.filter((r) => r.system === s);
      if (!t.length) continue;
      rows.push([
        s,
        t.length,
        spread(t.map((r) => r.deliveredPerSec)),
        spread(t.map((r) => r.latency.p50Ms)),
        spread(t.map((r) => r.latency.p99Ms)),
        spread(t.map((r) => r.latency.maxMs)),
        s === 'two nodes' ? spread(t.map((r) => r.crossNode.p99Ms)) : '–',
        spread(t.map((r) => r.ackLatency.p99Ms)),
        spread(t.map((r) => r.nodeCpuCores * 100)),
        spread(t.map((r) => r.nodeCpuUsPerDelivery)),
        s === 'two nodes' ? spread(t.map((r) => (r.redisCpuCores ?? 0) * 100)) : '–',
        sum(t.map((r) => r.lost)),
        sum(t.map((r) => r.duplicates)),
        sum(t.map((r) => sum(Object.values(r.errors)))),
        spread(t.map((r) => r.nodeRssMiB)),
      ]);
    }
    report.table({
      title: `Chat: ${chat[0]!.clients} clients in channels of ${P.channelSize}, ${P.rate} messages/s in for ${P.durationSec} s — one node vs two`,
      columns: [
        'system',
        'trials',
        'delivered/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'other-node p99 ms',
        'ack p99 ms',
        'node CPU %',
        'node CPU µs/delivery',
        'Redis CPU %',
        'lost',
        'duplicates',
        'refused',
        'node RSS MiB',
      ],
      rows,
      notes: [
        `Each cell: median (min–max) over ${P.trials} trials, each on fresh processes and a fresh PostgreSQL schema; lost, duplicates and refused are totals over the trials. “one node”: one moim on PostgreSQL (DATABASE_URL, no REDIS_URL). “two nodes”: two moim on the same PostgreSQL and a private redis-server (REDIS_URL), client i on node i mod 2 — every channel has 5 members on each node and senders are on both. After a 3-s warm-up at the same rate. Latency: send call → \`chat:message\` at each member (all ${P.channelSize}, the sender included); “other-node”: members on the other node than the sender. “ack”: send → acknowledgement (stored in PostgreSQL). Node CPU and RSS: the moim processes together (kernel-charged user + system time; RSS peak of the sum), PostgreSQL and Redis not included (Redis shown apart). Settings as \`npm start\` has them except MOIM_MAX_SOCKETS_PER_ADDRESS (every generator client comes from 127.0.0.1) and one SFU worker per node.`,
      ],
    });
  }
  const pres = results.presence;
  if (pres.length) {
    const lat = (pick: (r: PresenceTrial) => LatencySummary): Cell[] => [
      spread(pres.map((r) => pick(r).count / P.presenceSec)),
      spread(pres.map((r) => pick(r).p50Ms)),
      spread(pres.map((r) => pick(r).p99Ms)),
      spread(pres.map((r) => pick(r).maxMs)),
    ];
    report.table({
      title: `Presence across two nodes: ${pres[0]!.people} people (half on each node) subscribed to their site of ${P.siteSize}, ${P.presenceRate} status changes/s for ${P.presenceSec} s`,
      columns: ['subscribers', 'deliveries/s', 'p50 ms', 'p99 ms', 'max ms'],
      rows: [
        ['on the same node as the person', ...lat((r) => r.sameNode)],
        ['on the other node', ...lat((r) => r.crossNode)],
        [`to all ${P.siteSize} of the site (per change)`, '–', ...lat((r) => r.toAll).slice(1)],
      ],
      notes: [
        `Median (min–max) over ${pres.length} trials. A change is \`presence:set { status }\` from a person on either node; latency runs to the \`presence:update\` frame at each subscriber of the site (the person’s own device included). Lost ${sum(pres.map((r) => r.lost))}, duplicates ${sum(pres.map((r) => r.duplicates))}, refused ${sum(pres.map((r) => sum(Object.values(r.errors))))} over all trials; node CPU ${spread(pres.map((r) => r.nodeCpuCores * 100))} %, Redis ${spread(pres.map((r) => r.redisCpuCores * 100))} %.`,
      ],
    });
    const off = (r: PresenceTrial, which: 'firstMs' | 'allMs') =>
      r.offline[which].filter((x): x is number => x !== null).sort((a, b) => a - b);
    const q = (v: number[], p: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)]! : null);
    report.table({
      title: `A node SIGKILLed: its ${pres[0]!.offline.people} people seen offline by their subscribers on the other node`,
      columns: [
        'seen offline',
        'first subscriber: p50 ms',
        'first: max ms',
        'all subscribers on the survivor: p50 ms',
        'all: max ms',
      ],
      rows: [
        [
          pres.map((r) => `${r.offline.seen}/${r.offline.people}`).join(', '),
          spread(pres.map((r) => q(off(r, 'firstMs'), 0.5))),
          spread(pres.map((r) => q(off(r, 'firstMs'), 1))),
          spread(pres.map((r) => q(off(r, 'allMs'), 0.5))),
          spread(pres.map((r) => q(off(r, 'allMs'), 1))),
        ],
      ],
      notes: [
        `Median (min–max) over ${pres.length} trials; per trial, p50 and max over the killed node’s people of the time from SIGKILL to their \`offline\` update. A killed node closes nothing: the survivor learns it when the node’s lease in Redis lapses (5 s, renewed every 1.5 s) and the registry’s sweeper — the survivor, or after the dead node’s sweeper lease also lapsed — removes its devices and publishes the people.`,
      ],
    });
  }
  const busy = report.machine.loadStart >= report.machine.cores;
  report.note(
    `The machine’s ${report.machine.cores} cores are shared by the moim nodes, redis-server, PostgreSQL and the load generators${busy ? `, and other processes were running during this run (load average ${report.machine.loadStart} at its start on ${report.machine.cores} cores, before the benchmark’s own load): the absolute latencies and CPU figures are pessimistic and noisier than on an idle machine` : ' (and whatever else ran on the machine: see the load averages)'}; compare the systems within one run.`,
  );
  const chatTwo = chat.filter((r) => r.system === 'two nodes');
  if (chat.length) {
    report.target(
      'no chat delivery lost or duplicated (one node and two nodes)',
      `lost ${sum(chat.map((r) => r.lost))}, duplicates ${sum(chat.map((r) => r.duplicates))} over ${chat.length} trials (${sum(chat.map((r) => r.expectedDeliveries)).toLocaleString('en-US')} deliveries expected)`,
      sum(chat.map((r) => r.lost + r.duplicates)) === 0,
    );
  }
  if (pres.length) {
    report.target(
      'no presence update lost or duplicated across nodes',
      `lost ${sum(pres.map((r) => r.lost))}, duplicates ${sum(pres.map((r) => r.duplicates))} over ${pres.length} trials`,
      sum(pres.map((r) => r.lost + r.duplicates)) === 0,
    );
  }
  if (chatTwo.length === 0 && pres.length === 0 && chat.length === 0) report.note('nothing ran');
}

/** After a trial: close its clients, keep its nodes' last log lines (for a failed trial's note), stop it. */
async function endTrial(dep: Deployment, closeClients: () => Promise<unknown>): Promise<void> {
  await closeClients().catch((e: unknown) => log(`closing the clients: ${String(e)}`));
  current = undefined;
  lastNodeOutput = dep.nodes
    .map((n, k) =>
      n.output
        .slice(-15)
        .map((l) => `  [node ${k}] ${l}`)
        .join('\n'),
    )
    .join('\n');
  await dep.stop();
}
