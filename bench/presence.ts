/**
 * bench:presence — 2,000 connected people, each subscribed to their site of 200: propagation
 * latency of a state change to every subscriber of the site (p50/p99 per delivery, and until
 * the last subscriber of each change), server CPU; then the time until a silently vanished
 * device (its connection stays open but answers nothing, like a frozen laptop) is seen
 * `offline` by its subscribers, against the configured heartbeat window.
 *
 * moim only (the issue names no baseline for presence; cross-node figures come with the cluster
 * mode). `node bench/presence.ts` (quick) or `node bench/presence.ts --full`.
 */
import { PROTOCOL_VERSION } from '@moim/protocol';
import { CONFIG_VARS } from '../server/src/config.ts';
import { benchArgs, benchParams, commandLine, wants } from './lib/args.ts';
import { sleep, waitUntil, watchdog } from './lib/bounded.ts';
import { GeneratorPool } from './lib/generators.ts';
import { Histogram, type HistogramJSON } from './lib/histogram.ts';
import { mintTokens, startMoim } from './lib/moim.ts';
import { ProcMeter } from './lib/proc.ts';
import { REPO_ROOT } from './lib/processes.ts';
import { carryOver, mib, Report } from './lib/report.ts';

const args = benchArgs();
const QUICK = {
  people: 2000,
  siteSize: 200,
  rates: [20],
  durationSec: 10,
  frozen: 5,
  generators: 2,
  maxMinutes: 10,
};
const FULL: typeof QUICK = { ...QUICK, rates: [20, 50, 100], durationSec: 30, frozen: 10, maxMinutes: 30 };
const P = benchParams(args, QUICK, FULL);
const heartbeatMs = CONFIG_VARS.heartbeatTimeoutMs.parse(undefined, CONFIG_VARS.heartbeatTimeoutMs.env);
const report = new Report('presence', commandLine('bench:presence', args), {
  mode: args.full ? 'full' : 'quick',
  ...P,
  heartbeatTimeoutMs: heartbeatMs,
});
const results: { changes: unknown[]; offline: unknown[] } = { changes: [], offline: [] };
report.data.results = results;
carryOver(report, args.only, results, { changes: ['changes'], offline: ['offline'] });
const dog = watchdog(P.maxMinutes * 60_000, () => finish(true));
const pool = await GeneratorPool.start(`${REPO_ROOT}/bench/gen/presence-gen.ts`, P.generators);
const G = pool.size;
const site = (i: number) => `bsite${Math.floor(i / P.siteSize)}`;
const sub = (i: number) => `p${i}`;
const ms = (us: number) => Math.round(us) / 1000;

function log(s: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
}

const m = await startMoim();
try {
  const t0 = performance.now();
  const tokens = await mintTokens(
    m.url,
    Array.from({ length: P.people }, (_, i) => ({
      name: `Person ${i}`,
      sub: sub(i),
      site: site(i),
      ttlSeconds: 6 * 3600,
    })),
    16,
  );
  const everyone = Array.from({ length: P.people }, (_, i) => i);
  await pool.all(
    'connect',
    (g) => ({
      url: m.url,
      clients: everyone
        .filter((i) => i % G === g)
        .map((i) => ({ i, auth: { token: tokens[i], protocol: PROTOCOL_VERSION } })),
    }),
    300_000,
  );
  await pool.all(
    'subscribe',
    (g) => ({ subs: everyone.filter((i) => i % G === g).map((i) => ({ i, site: site(i) })) }),
    300_000,
  );
  log(`${P.people} people connected and subscribed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // warm-up
  await pool.all('change', (g) => ({
    people: everyone.filter((i) => i % G === g),
    ratePerSec: 10 / G,
    durationMs: 1000,
  }));
  await sleep(1000);

  if (wants(args.only, 'changes')) {
    for (const rate of P.rates) {
      await pool.all('reset');
      const prof = await m.profile(`presence-${rate}`);
      const meter = new ProcMeter(() => [m.pid]).start();
      const gen0 = pool.generators.map((g) => g.cpuSec());
      const durationMs = P.durationSec * 1000;
      const sent = await pool.all<{ fired: number }>(
        'change',
        (g) => ({ people: everyone.filter((i) => i % G === g), ratePerSec: rate / G, durationMs }),
        durationMs + 60_000,
      );
      const fired = sent.reduce((a, s) => a + s.fired, 0);
      type S = {
        hist: HistogramJSON;
        deliveries: number;
        errors: Record<string, number>;
        perChange: [string, [number, number]][];
      };
      let stats: S[] = [];
      await waitUntil(
        async () => {
          stats = await pool.all<S>('stats');
          return stats.reduce((a, s) => a + s.deliveries, 0) >= fired * P.siteSize ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, label: 'presence drain', orUndefined: true },
      );
      const cpu = meter.stop();
      await prof.stop();
      const genCores = pool.generators.map((g, i) => (g.cpuSec() - gen0[i]!) / cpu.wallSec);
      const perDelivery = new Histogram();
      const changes = new Map<string, [number, number]>();
      const errors: Record<string, number> = {};
      let deliveries = 0;
      for (const s of stats) {
        perDelivery.merge(s.hist);
        deliveries += s.deliveries;
        for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
        for (const [key, [n, max]] of s.perChange) {
          const c = changes.get(key);
          if (c) {
            c[0] += n;
            c[1] = Math.max(c[1], max);
          } else changes.set(key, [n, max]);
        }
      }
      const toAll = new Histogram();
      let complete = 0;
      for (const [n, max] of changes.values()) {
        if (n >= P.siteSize) {
          complete++;
          toAll.record(max);
        }
      }
      const row = {
        rate,
        fired,
        deliveries,
        expected: fired * P.siteSize,
        lost: Math.max(0, fired * P.siteSize - deliveries),
        changesComplete: complete,
        errors,
        deliveriesPerSec: deliveries / P.durationSec,
        perDelivery: perDelivery.summary(),
        toAllSubscribers: toAll.summary(),
        serverCpuCores: cpu.cores,
        serverCpuUsPerDelivery: deliveries ? (cpu.cpuSec * 1e6) / deliveries : Number.NaN,
        serverRssMiB: mib(meter.peakRssBytes),
        generatorCpuCores: genCores,
      };
      results.changes.push(row);
      log(
        `${rate} changes/s: per delivery p50 ${row.perDelivery.p50Ms} p99 ${row.perDelivery.p99Ms} ms; to all p99 ${row.toAllSubscribers.p99Ms} ms; lost ${row.lost}`,
      );
    }
  }

  if (wants(args.only, 'offline')) {
    // one person per site (its last member), each with its only device frozen
    const victims = Array.from(
      { length: Math.min(P.frozen, Math.floor(P.people / P.siteSize)) },
      (_, k) => k * P.siteSize + P.siteSize - 1,
    );
    await pool.all('watch', () => ({ subs: victims.map(sub) }));
    // freezes spread over one ping interval (0.6 × window), so detection is seen at every phase of the heartbeat
    const spreadMs = 0.6 * heartbeatMs;
    const frozenAt = new Map<number, number>();
    for (const [k, v] of victims.entries()) {
      const { t } = await pool.generators[v % G]!.call<{ t: number }>('freeze', { clients: [v] });
      frozenAt.set(v, t);
      if (k < victims.length - 1) await sleep(spreadMs / victims.length);
    }
    log(
      `froze ${victims.length} devices over ${Math.round(spreadMs / 1000)} s; waiting up to ${Math.round((heartbeatMs + 15_000) / 1000)} s for offline`,
    );
    let seen = new Map<string, number>();
    await waitUntil(
      async () => {
        const all = await pool.all<{ seen: [string, number][] }>('offline');
        seen = new Map();
        for (const a of all)
          for (const [s, t] of a.seen) seen.set(s, Math.min(seen.get(s) ?? Number.POSITIVE_INFINITY, t));
        return victims.every((v) => seen.has(sub(v))) ? true : undefined;
      },
      { timeoutMs: heartbeatMs + 15_000, intervalMs: 200, label: 'offline', orUndefined: true },
    );
    const times = victims.map((v) => {
      const t = seen.get(sub(v));
      return t === undefined ? null : ms(t - frozenAt.get(v)!);
    });
    const found = times.filter((t): t is number => t !== null);
    const row = {
      frozen: victims.length,
      seenOffline: found.length,
      offlineMs: times,
      maxMs: found.length ? Math.max(...found) : null,
      minMs: found.length ? Math.min(...found) : null,
      heartbeatTimeoutMs: heartbeatMs,
    };
    results.offline.push(row);
    log(`offline: ${found.length}/${victims.length} seen; ${row.minMs}–${row.maxMs} ms (window ${heartbeatMs} ms)`);
  }
} catch (err) {
  report.note(`run failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await pool.all('close', () => ({}), 60_000).catch(() => {});
  await m.stop();
}
await finish(false);

async function finish(partial: boolean): Promise<void> {
  dog.cancel();
  await report.finish({ partial, dryRun: args.dryRun, render: tables, stop: () => pool.stop() });
}

function tables(): void {
  type C = {
    rate: number;
    fired: number;
    deliveriesPerSec: number;
    perDelivery: ReturnType<Histogram['summary']>;
    toAllSubscribers: ReturnType<Histogram['summary']>;
    lost: number;
    errors: Record<string, number>;
    serverCpuCores: number;
    serverCpuUsPerDelivery: number;
    serverRssMiB: number;
    generatorCpuCores: number[];
  };
  const rows = results.changes as C[];
  if (rows.length) {
    report.table({
      title: `${P.people} people, each subscribed to their site of ${P.siteSize}; status changes for ${P.durationSec} s`,
      columns: [
        'changes/s',
        'changes',
        'deliveries/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'to all 200: p50 ms',
        'to all 200: p99 ms',
        'lost',
        'refused',
        'server CPU %',
        'server CPU µs/delivery',
        'server RSS MiB',
        'generators CPU %',
      ],
      rows: rows.map((r) => [
        r.rate,
        r.fired,
        Math.round(r.deliveriesPerSec),
        r.perDelivery.p50Ms,
        r.perDelivery.p95Ms,
        r.perDelivery.p99Ms,
        r.toAllSubscribers.p50Ms,
        r.toAllSubscribers.p99Ms,
        r.lost,
        Object.values(r.errors).reduce((a, b) => a + b, 0),
        r.serverCpuCores * 100,
        r.serverCpuUsPerDelivery,
        r.serverRssMiB,
        r.generatorCpuCores.map((x) => `${Math.round(x * 100)}`).join(' + '),
      ]),
      notes: [
        'A change is `presence:set { status }`; latency runs from that call to the `presence:update` frame at each subscriber of the site (the person’s own devices included). “To all”: until the last of the site’s subscribers had it, per change.',
      ],
    });
    const first = rows[0]!;
    report.target(
      'presence p99 < 50 ms to all subscribers',
      `p99 to all ${P.siteSize} subscribers ${first.toAllSubscribers.p99Ms} ms at ${first.rate} changes/s (per delivery ${first.perDelivery.p99Ms} ms), lost ${first.lost}`,
      first.toAllSubscribers.p99Ms < 50 && first.lost === 0,
    );
  }
  type O = {
    frozen: number;
    seenOffline: number;
    minMs: number | null;
    maxMs: number | null;
    heartbeatTimeoutMs: number;
  };
  const off = results.offline as O[];
  if (off.length) {
    report.table({
      title: 'A device that vanishes without closing its connection (frozen: reads nothing, answers no ping)',
      columns: [
        'devices frozen',
        'seen offline',
        'fastest ms',
        'slowest ms',
        'heartbeat window ms (MOIM_HEARTBEAT_TIMEOUT_MS)',
      ],
      rows: off.map((o) => [o.frozen, o.seenOffline, o.minMs, o.maxMs, o.heartbeatTimeoutMs]),
      notes: [
        'Time from each device’s freeze to the `offline` update at its site’s subscribers; the freezes are spread over one ping interval. socket.io pings every 0.6 × window and drops a connection whose pong is 0.4 × window late, so detection falls between 0.4× and 1× the window depending on when the device froze.',
      ],
    });
    const o = off[0]!;
    report.target(
      'a silently killed device offline within the configured heartbeat window',
      `${o.seenOffline}/${o.frozen} seen offline, slowest ${o.maxMs ?? '–'} ms (window ${o.heartbeatTimeoutMs} ms)`,
      o.seenOffline === o.frozen && o.maxMs !== null && o.maxMs <= o.heartbeatTimeoutMs,
    );
  }
}
