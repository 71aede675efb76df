/**
 * bench:presence load generator (a child process driven by bench/presence.ts): light socket.io
 * clients, one per person, each subscribed to its site. A change is `presence:set { status }`
 * with the sender's CLOCK_MONOTONIC timestamp in the status; every subscriber records the
 * latency of the `presence:update` it receives, keyed by the status so the parent can compute
 * the time until the last subscriber of each change had it. Frozen clients (no reads, no pongs:
 * a device that vanished without closing its connection) are watched for their `offline` update.
 */
import { mapLimit, sleep } from '../lib/bounded.ts';
import { serve } from '../lib/generators.ts';
import { Histogram, nowUs } from '../lib/histogram.ts';
import { LightSocket } from '../lib/lightio.ts';

const GEN = process.env.BENCH_GENERATOR_INDEX ?? '0';
const sockets = new Map<number, LightSocket>();
const hist = new Histogram();
let deliveries = 0;
/** status → [deliveries here, max latency µs here] */
let perChange = new Map<string, [number, number]>();
let errors: Record<string, number> = {};
let fired = 0;
/** sub → when its offline update first arrived here (µs) */
const offlineSeen = new Map<string, number>();
const watched = new Set<string>();

const MARK = '"status":"b';
function onFrame(frame: string): void {
  if (!frame.startsWith('42["presence:update"')) return;
  const now = nowUs();
  const at = frame.indexOf(MARK);
  if (at >= 0) {
    const end = frame.indexOf('"', at + MARK.length);
    const status = frame.slice(at + MARK.length - 1, end);
    const t = Number(status.slice(1, status.indexOf('-')));
    const lat = now - t;
    deliveries++;
    hist.record(lat);
    const c = perChange.get(status);
    if (c) {
      c[0]++;
      if (lat > c[1]) c[1] = lat;
    } else perChange.set(status, [1, lat]);
  }
  if (watched.size > 0 && frame.includes('"state":"offline"')) {
    const p = (JSON.parse(frame.slice(2)) as [string, { sub: string }])[1];
    if (watched.has(p.sub) && !offlineSeen.has(p.sub)) offlineSeen.set(p.sub, now);
  }
}

type Ack = { data?: unknown; error?: { code: string; message: string } };

serve({
  async connect(args: { url: string; clients: { i: number; auth: Record<string, unknown> }[] }) {
    const t0 = performance.now();
    await mapLimit(args.clients, 32, async (c) => {
      const s = await LightSocket.connect(args.url, c.auth);
      s.onRaw = onFrame;
      sockets.set(c.i, s);
    });
    return { connected: sockets.size, ms: performance.now() - t0 };
  },

  async subscribe(args: { subs: { i: number; site: string }[] }) {
    await mapLimit(args.subs, 32, async (x) => {
      const r = await sockets.get(x.i)!.request<Ack>('presence:subscribe', { sites: [x.site] });
      if (r.error) throw new Error(`subscribe failed: ${r.error.code} ${r.error.message}`);
    });
    return {};
  },

  reset() {
    hist.reset();
    deliveries = 0;
    perChange = new Map();
    errors = {};
    fired = 0;
    return {};
  },

  /** Open loop: `ratePerSec` status changes in total from these people, round-robin. */
  async change(args: { people: number[]; ratePerSec: number; durationMs: number }) {
    const ss = args.people.map((i) => sockets.get(i)).filter((s): s is LightSocket => s !== undefined);
    if (ss.length === 0) return { fired: 0 };
    const total = Math.floor((args.ratePerSec * args.durationMs) / 1000);
    const start = performance.now();
    let n = 0;
    const maxTicks = Math.ceil(args.durationMs / 2) * 4 + 10;
    for (let tick = 0; tick < maxTicks && n < total; tick++) {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * args.ratePerSec) / 1000));
      while (n < due) {
        const s = ss[n % ss.length]!;
        n++;
        fired++;
        s.emitAck('presence:set', { status: `b${nowUs()}-${GEN}.${n}` }, (a) => {
          const r = a as Ack;
          if (r.error) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
        });
      }
      if (elapsed > args.durationMs + 2000) break;
      await sleep(2);
    }
    return { fired: n };
  },

  stats() {
    return {
      hist: hist.toJSON(),
      deliveries,
      fired,
      errors,
      perChange: [...perChange.entries()],
    };
  },

  /** Watch these people for `offline` updates. */
  watch(args: { subs: string[] }) {
    for (const s of args.subs) watched.add(s);
    return {};
  },

  /** Freeze these clients: from now on they read nothing and answer no ping. Returns the time (µs). */
  freeze(args: { clients: number[] }) {
    const t = nowUs();
    for (const i of args.clients) sockets.get(i)?.freeze();
    return { t };
  },

  offline() {
    return { seen: [...offlineSeen.entries()] };
  },

  async close() {
    for (const s of sockets.values()) s.terminate();
    sockets.clear();
    await sleep(100);
    return {};
  },
});
