/**
 * bench:cluster load generator (a child process driven by bench/cluster.ts): light socket.io
 * clients, each connected to one node of the cluster (`node` 0 = A, 1 = B), for two workloads:
 *
 * - chat: `chat:send` open-loop at a given rate; every receiver records the latency from the
 *   send call to its `chat:message` (the sender's CLOCK_MONOTONIC timestamp, generator, counter
 *   and node travel in the text), split by same node / other node, and counts duplicates (the
 *   same message twice at one client).
 * - presence: `presence:set { status }` with the same stamp in the status; receivers record the
 *   latency of each `presence:update`, split the same way; watched people's `offline` updates are
 *   timed at the clients of one node (after the other node was killed).
 */
import { mapLimit, sleep } from './bounded.ts';
import { serve } from './generators.ts';
import { Histogram, nowUs } from './histogram.ts';
import { LightSocket } from './lightio.ts';

const GEN = process.env.BENCH_GENERATOR_INDEX ?? '0';

interface Client {
  i: number;
  node: number;
  s: LightSocket;
}
const clients = new Map<number, Client>();
const channelOf = new Map<number, string>();
const hist = { same: new Histogram(), cross: new Histogram() };
const ack = new Histogram();
/** receiver index + message key: duplicates are the second arrival of one. */
let seen = new Set<string>();
let duplicates = 0;
let deliveries = 0;
let acked = 0;
let fired = 0;
let errors: Record<string, number> = {};
let counter = 0;
/** Presence: status → [deliveries here, max latency µs here] */
let perChange = new Map<string, [number, number]>();
/** Offline watch: sub → [count, first µs, last µs] at clients of `watchNode`. */
const offlineSeen = new Map<string, [number, number, number]>();
const watched = new Set<string>();
let watchNode = -1;

type Ack = { data?: { id?: string }; error?: { code: string; message: string } };

/** Parse `b<t>-<gen>.<n>-<node>` at `at` (just after the quote); returns undefined if it is not ours. */
function stamp(frame: string, at: number): { t: number; key: string; node: number } | undefined {
  if (frame.charCodeAt(at) !== 98 /* b */) return undefined;
  let t = 0;
  let k = at + 1;
  for (; k < frame.length; k++) {
    const c = frame.charCodeAt(k) - 48;
    if (c < 0 || c > 9) break;
    t = t * 10 + c;
  }
  const end = frame.indexOf('-', frame.indexOf('-', k) + 1);
  if (end < 0) return undefined;
  const key = frame.slice(at, end);
  const node = frame.charCodeAt(end + 1) - 48;
  return { t, key, node };
}

function onFrame(c: Client, frame: string): void {
  const now = nowUs();
  if (frame.startsWith('42["chat:message"')) {
    const at = frame.indexOf('"text":"');
    if (at < 0) return;
    const st = stamp(frame, at + 8);
    if (!st) return;
    record(c, st, now);
    return;
  }
  if (!frame.startsWith('42["presence:update"')) return;
  const at = frame.indexOf('"status":"');
  if (at >= 0) {
    const st = stamp(frame, at + 10);
    if (st && record(c, st, now)) {
      const lat = now - st.t;
      const pc = perChange.get(st.key);
      if (pc) {
        pc[0]++;
        if (lat > pc[1]) pc[1] = lat;
      } else perChange.set(st.key, [1, lat]);
    }
  }
  if (watched.size > 0 && c.node === watchNode && frame.includes('"state":"offline"')) {
    const p = (JSON.parse(frame.slice(2)) as [string, { sub: string }])[1];
    if (!watched.has(p.sub)) return;
    const o = offlineSeen.get(p.sub);
    if (o) {
      o[0]++;
      o[2] = now;
    } else offlineSeen.set(p.sub, [1, now, now]);
  }
}

/** Count one delivery; false for a duplicate. A presence status seen again (a later update of the
 * same person, e.g. an `offline` carrying the last status) is not a duplicate of the change: only
 * `presence:set` deliveries are counted, and a repeat of the same update within the window is. */
function record(c: Client, st: { t: number; key: string; node: number }, now: number): boolean {
  const id = `${c.i}|${st.key}`;
  if (seen.has(id)) {
    duplicates++;
    return false;
  }
  seen.add(id);
  deliveries++;
  (st.node === c.node ? hist.same : hist.cross).record(now - st.t);
  return true;
}

async function openLoop(n: number, ratePerSec: number, durationMs: number, fire: (k: number) => void): Promise<number> {
  if (n === 0 || ratePerSec <= 0) return 0;
  const total = Math.floor((ratePerSec * durationMs) / 1000);
  const start = performance.now();
  let k = 0;
  const maxTicks = Math.ceil(durationMs / 2) * 4 + 10;
  for (let tick = 0; tick < maxTicks && k < total; tick++) {
    const elapsed = performance.now() - start;
    const due = Math.min(total, Math.floor((elapsed * ratePerSec) / 1000));
    while (k < due) fire(k++);
    if (elapsed > durationMs + 2000) break;
    await sleep(2);
  }
  return k;
}

serve({
  async connect(args: { clients: { i: number; node: number; url: string; auth: Record<string, unknown> }[] }) {
    const t0 = performance.now();
    await mapLimit(args.clients, 32, async (x) => {
      const s = await LightSocket.connect(x.url, x.auth);
      const c: Client = { i: x.i, node: x.node, s };
      s.onRaw = (frame) => onFrame(c, frame);
      clients.set(x.i, c);
    });
    return { connected: clients.size, ms: performance.now() - t0 };
  },

  async createChannels(args: { owners: { i: number; name: string; members: string[] }[] }) {
    const ids = await mapLimit(args.owners, 16, async (o) => {
      const c = clients.get(o.i);
      if (!c) throw new Error(`no client ${o.i}`);
      const r = await c.s.request<Ack>('chat:channel:create', { name: o.name, kind: 'private', members: o.members });
      if (!r.data?.id) throw new Error(`channel create failed: ${JSON.stringify(r)}`);
      return r.data.id;
    });
    return { ids };
  },

  async subscribeChat(args: { subs: { i: number; channelId: string }[] }) {
    await mapLimit(args.subs, 32, async (x) => {
      const c = clients.get(x.i);
      if (!c) throw new Error(`no client ${x.i}`);
      const r = await c.s.request<Ack>('chat:subscribe', { channelId: x.channelId });
      if (r.error) throw new Error(`chat:subscribe failed: ${r.error.code} ${r.error.message}`);
      channelOf.set(x.i, x.channelId);
    });
    return {};
  },

  async subscribePresence(args: { subs: { i: number; site: string }[] }) {
    await mapLimit(args.subs, 32, async (x) => {
      const c = clients.get(x.i);
      if (!c) throw new Error(`no client ${x.i}`);
      const r = await c.s.request<Ack>('presence:subscribe', { sites: [x.site] });
      if (r.error) throw new Error(`presence:subscribe failed: ${r.error.code} ${r.error.message}`);
    });
    return {};
  },

  reset() {
    hist.same.reset();
    hist.cross.reset();
    ack.reset();
    seen = new Set();
    perChange = new Map();
    duplicates = 0;
    deliveries = 0;
    acked = 0;
    fired = 0;
    errors = {};
    return {};
  },

  /** Open loop: `ratePerSec` chat messages in total from these clients, round-robin. */
  async send(args: { senders: number[]; ratePerSec: number; durationMs: number; textChars: number }) {
    const senders = args.senders
      .map((i) => ({ c: clients.get(i), ch: channelOf.get(i) }))
      .filter((x): x is { c: Client; ch: string } => x.c !== undefined && x.ch !== undefined);
    const pad = 'x'.repeat(Math.max(0, args.textChars - 30));
    const n = await openLoop(senders.length, args.ratePerSec, args.durationMs, (k) => {
      const x = senders[k % senders.length]!;
      fired++;
      const t = nowUs();
      const id = `${GEN}.${++counter}`;
      x.c.s.emitAck(
        'chat:send',
        { channelId: x.ch, clientMsgId: `g${id.replace('.', '_')}`, text: `b${t}-${id}-${x.c.node} ${pad}` },
        (a) => {
          const r = a as Ack;
          if (r.error) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
          else {
            acked++;
            ack.record(nowUs() - t);
          }
        },
      );
    });
    return { fired: n };
  },

  /** Open loop: `ratePerSec` status changes in total from these people, round-robin. */
  async change(args: { people: number[]; ratePerSec: number; durationMs: number }) {
    const ps = args.people.map((i) => clients.get(i)).filter((c): c is Client => c !== undefined);
    const n = await openLoop(ps.length, args.ratePerSec, args.durationMs, (k) => {
      const c = ps[k % ps.length]!;
      fired++;
      c.s.emitAck('presence:set', { status: `b${nowUs()}-${GEN}.${++counter}-${c.node}` }, (a) => {
        const r = a as Ack;
        if (r.error) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
        else acked++;
      });
    });
    return { fired: n };
  },

  stats() {
    return {
      same: hist.same.toJSON(),
      cross: hist.cross.toJSON(),
      ack: ack.toJSON(),
      deliveries,
      duplicates,
      acked,
      fired,
      errors,
      perChange: [...perChange.entries()],
    };
  },

  /** Time `offline` updates of these people at the clients on `node`. */
  watch(args: { subs: string[]; node: number }) {
    watchNode = args.node;
    offlineSeen.clear();
    for (const s of args.subs) watched.add(s);
    return {};
  },

  offline() {
    return { seen: [...offlineSeen.entries()] };
  },

  async close() {
    for (const c of clients.values()) c.s.terminate();
    clients.clear();
    channelOf.clear();
    watched.clear();
    offlineSeen.clear();
    watchNode = -1;
    await sleep(100);
    return {};
  },
});
