/**
 * bench:chat load generator (a child process driven by bench/chat.ts): holds light socket.io
 * clients, sends `chat:send` open-loop at a given rate and records, at every receiving client,
 * the latency from the send call to the `chat:message` delivery (the sender's timestamp travels
 * in the text; CLOCK_MONOTONIC is shared by the processes of one machine), plus the send → ack
 * latency (for moim: stored).
 */
import { mapLimit, sleep } from '../lib/bounded.ts';
import { serve } from '../lib/generators.ts';
import { Histogram, nowUs } from '../lib/histogram.ts';
import { LightSocket } from '../lib/lightio.ts';

const GEN = process.env.BENCH_GENERATOR_INDEX ?? '0';
const sockets = new Map<number, LightSocket>();
const channelOf = new Map<number, string>();
const delivery = new Histogram();
const ack = new Histogram();
let deliveries = 0;
let acked = 0;
let fired = 0;
let errors: Record<string, number> = {};
let msgCounter = 0;

const MARK = '"text":"b';
function onFrame(frame: string): void {
  if (!frame.startsWith('42["chat:message"')) return;
  const now = nowUs();
  const at = frame.indexOf(MARK);
  if (at < 0) return;
  let t = 0;
  for (let i = at + MARK.length; i < frame.length; i++) {
    const c = frame.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    t = t * 10 + c;
  }
  deliveries++;
  delivery.record(now - t);
}

type Ack = { data?: { id?: string; lastSeq?: number }; error?: { code: string; message: string } };

serve({
  async connect(args: { url: string; clients: { i: number; auth: Record<string, unknown> }[]; concurrency?: number }) {
    const t0 = performance.now();
    await mapLimit(args.clients, args.concurrency ?? 32, async (c) => {
      const s = await LightSocket.connect(args.url, c.auth);
      s.onRaw = onFrame;
      sockets.set(c.i, s);
    });
    return { connected: sockets.size, ms: performance.now() - t0 };
  },

  /** Each owner creates a private channel with these members; returns the channel ids. */
  async createChannels(args: { owners: { i: number; name: string; members: string[] }[] }) {
    const ids = await mapLimit(args.owners, 16, async (o) => {
      const s = sockets.get(o.i);
      if (!s) throw new Error(`no client ${o.i}`);
      const r = await s.request<Ack>('chat:channel:create', { name: o.name, kind: 'private', members: o.members });
      if (!r.data?.id) throw new Error(`channel create failed: ${JSON.stringify(r)}`);
      return r.data.id;
    });
    return { ids };
  },

  async subscribe(args: { subs: { i: number; channelId: string }[] }) {
    await mapLimit(args.subs, 32, async (x) => {
      const s = sockets.get(x.i);
      if (!s) throw new Error(`no client ${x.i}`);
      const r = await s.request<Ack>('chat:subscribe', { channelId: x.channelId });
      if (r.error) throw new Error(`subscribe failed: ${r.error.code} ${r.error.message}`);
      channelOf.set(x.i, x.channelId);
    });
    return { subscribed: args.subs.length };
  },

  reset() {
    delivery.reset();
    ack.reset();
    deliveries = 0;
    acked = 0;
    fired = 0;
    errors = {};
    return {};
  },

  /** Open loop: `ratePerSec` sends in total from these clients, round-robin, for `durationMs`. */
  async send(args: { senders: number[]; ratePerSec: number; durationMs: number; textChars: number }) {
    const senders = args.senders
      .map((i) => ({ s: sockets.get(i), ch: channelOf.get(i) }))
      .filter((x): x is { s: LightSocket; ch: string } => x.s !== undefined && x.ch !== undefined);
    if (senders.length === 0 || args.ratePerSec <= 0) return { fired: 0 };
    const pad = 'x'.repeat(Math.max(0, args.textChars - 20));
    const total = Math.floor((args.ratePerSec * args.durationMs) / 1000);
    const start = performance.now();
    let n = 0;
    const maxTicks = Math.ceil(args.durationMs / 2) * 4 + 10;
    for (let tick = 0; tick < maxTicks && n < total; tick++) {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * args.ratePerSec) / 1000));
      while (n < due) {
        const x = senders[n % senders.length]!;
        n++;
        fired++;
        const t = nowUs();
        x.s.emitAck(
          'chat:send',
          { channelId: x.ch, clientMsgId: `g${GEN}-${++msgCounter}`, text: `b${t} ${pad}` },
          (a) => {
            const r = a as Ack;
            if (r.error) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
            else {
              acked++;
              ack.record(nowUs() - t);
            }
          },
        );
      }
      if (elapsed > args.durationMs + 2000) break;
      await sleep(2);
    }
    return { fired: n };
  },

  stats() {
    let pendingAcks = 0;
    for (const s of sockets.values()) pendingAcks += s.pendingAcks;
    return {
      delivery: delivery.toJSON(),
      ack: ack.toJSON(),
      deliveries,
      acked,
      fired,
      errors,
      pendingAcks,
      connected: [...sockets.values()].filter((s) => s.connected).length,
    };
  },

  async close() {
    for (const s of sockets.values()) s.close();
    sockets.clear();
    channelOf.clear();
    await sleep(100);
    return {};
  },
});
