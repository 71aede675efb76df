/**
 * bench:docs load generator (a child process driven by bench/docs.ts). Holds document clients
 * (stock providers), edits on command and records the latency from an edit's transaction in
 * its writer to its arrival at every other client of the document.
 *
 * Each edit is one Yjs transaction: a text insert that starts with a stamp `⟦writer,seq,t⟧`
 * (t = now in µs; CLOCK_MONOTONIC is shared by every process of the machine), plus
 * `meta["n:<writer>"] = seq`. Receivers parse the stamps of every remote insert and record now − t
 * for each edit — also when a server merged several edits into one update (moim per group
 * commit, Hocuspocus per connection flush), so every edit counts once per reader. `meta` tells
 * when a reader has seen a writer's last edit (bursts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as Y from 'yjs';
import { sleep, waitUntil } from '../lib/bounded.ts';
import { serve } from '../lib/generators.ts';
import { Histogram, nowUs } from '../lib/histogram.ts';
import { type DocClient, type DocSystem, openDocClient } from '../lib/ydoc-clients.ts';

interface Held {
  client: DocClient;
  docName: string;
  /** Highest seq seen per writer. */
  lastSeen: Map<string, number>;
  /** When a watched (writer, target) was reached. */
  reachedAt: Map<string, number>;
  seq: number;
}

// y-websocket's provider adds a process 'exit' listener per instance
process.setMaxListeners(0);

const held = new Map<string, Held>();
const hist = new Histogram();
/** This process's own event-loop delay: a stalled generator would show as latency of the server. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let received = 0;
let recording = true;
/**
 * When in the window things went late (ms since the last `reset`): deliveries later than
 * LATE_MS (by 500-ms bin) and this process's own event-loop stalls over STALL_MS (the first MAX_MARKS), so a
 * tail can be placed in time (start of the window, a compaction, the previous server's exit…).
 */
const LATE_MS = 50;
const STALL_MS = 50;
const MAX_MARKS = 400;
let windowStartUs = nowUs();
/** Late deliveries by 500-ms bin of the window: [bin start ms, count, worst ms] (every one counted). */
let late = new Map<number, [atMs: number, n: number, ms: number]>();
let stalls: Array<[atMs: number, ms: number]> = [];
let tickAt = performance.now();
setInterval(() => {
  const now = performance.now();
  const lateBy = now - tickAt - 10;
  tickAt = now;
  if (lateBy > STALL_MS && stalls.length < MAX_MARKS)
    stalls.push([Math.round((nowUs() - windowStartUs) / 1000 - lateBy), Math.round(lateBy)]);
}, 10).unref();
let awarenessCalls = 0;
const watches = new Map<string, number>(); // writer → target seq

const STAMP = /\u27e6([\w-]+),(\d+),(\d+)\u27e7/g;

function hold(client: DocClient, docName: string): Held {
  const h: Held = { client, docName, lastSeen: new Map(), reachedAt: new Map(), seq: 0 };
  // the new text of a remote transaction, read straight from the writer's new structs (clock
  // range before → after): Y.Text's event delta would walk the whole text for every update and
  // every reader, and that bookkeeping (not the server) was most of the measured latency
  client.doc.on('afterTransaction', (tr: Y.Transaction) => {
    if (tr.local) return;
    const now = nowUs();
    for (const [clientId, after] of tr.afterState) {
      const before = tr.beforeState.get(clientId) ?? 0;
      if (after <= before) continue;
      const structs = tr.doc.store.clients.get(clientId);
      if (!structs) continue;
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const st = structs[i]!;
        const clock = st.id.clock;
        if (clock >= after) break;
        if (!(st instanceof Y.Item) || !(st.content instanceof Y.ContentString)) continue;
        const str = st.content.str;
        const text = str.slice(Math.max(0, before - clock), Math.min(str.length, after - clock));
        if (!text.includes('\u27e6')) continue;
        for (const m of text.matchAll(STAMP)) {
          if (m[1] === client.id) continue;
          received++;
          if (!recording) continue;
          const us = now - Number(m[3]);
          hist.record(us);
          if (us > LATE_MS * 1000) {
            const bin = Math.floor((now - windowStartUs) / 500_000) * 500;
            const b = late.get(bin);
            if (b) {
              b[1]++;
              b[2] = Math.max(b[2], Math.round(us / 1000));
            } else late.set(bin, [bin, 1, Math.round(us / 1000)]);
          }
        }
      }
    }
  });
  client.meta.observe((event) => {
    if (event.transaction.local) return;
    const now = nowUs();
    for (const key of event.keysChanged) {
      if (!key.startsWith('n:')) continue;
      const writer = key.slice(2);
      if (writer === client.id) continue;
      const n = client.meta.get(key) ?? 0;
      if (n <= (h.lastSeen.get(writer) ?? 0)) continue;
      h.lastSeen.set(writer, n);
      const target = watches.get(writer);
      if (target !== undefined && n >= target && !h.reachedAt.has(writer)) h.reachedAt.set(writer, now);
    }
  });
  return h;
}

function edit(h: Held, chars: string): void {
  const c = h.client;
  h.seq++;
  c.doc.transact(() => {
    c.text.insert(c.text.length, `\u27e6${c.id},${h.seq},${nowUs()}\u27e7${chars}`);
    c.meta.set(`n:${c.id}`, h.seq);
  });
}

const filler = (n: number, seed: number) => {
  const words = ['moim ', 'meeting ', 'notes ', 'site ', 'hq ', 'plan ', 'report ', 'draft ', 'team ', 'edit '];
  let s = '';
  for (let i = 0; s.length < n; i++) s += words[(seed + i * 7) % words.length];
  return s.slice(0, n);
};

serve({
  async open(args: {
    system: DocSystem;
    url: string;
    clients: { id: string; name: string; token?: string }[];
    batch?: number;
    timeoutMs?: number;
    awareness?: boolean;
  }) {
    const started = performance.now();
    const batch = args.batch ?? 50;
    for (let i = 0; i < args.clients.length; i += batch) {
      const group = args.clients.slice(i, i + batch).map((c) => {
        const client = openDocClient({
          system: args.system,
          url: args.url,
          name: c.name,
          id: c.id,
          token: c.token,
          awareness: args.awareness ?? true,
        });
        const h = hold(client, c.name);
        held.set(c.id, h);
        return h;
      });
      await waitUntil(() => group.every((h) => h.client.synced()), {
        timeoutMs: args.timeoutMs ?? 60_000,
        intervalMs: 10,
        label: `sync of clients ${i}…${i + group.length - 1}`,
      });
    }
    return { opened: args.clients.length, ms: performance.now() - started };
  },

  /**
   * Set every client's awareness state (a user name and a cursor), now (`spreadMs` 0: a storm,
   * like everyone reconnecting at once) or each at a random moment within `spreadMs` (then the
   * providers' 15-s renewals stay spread out, as when people join over time).
   */
  awareness(args: { spreadMs: number }) {
    const timers: NodeJS.Timeout[] = [];
    // each call moves the cursor: a real change for every system (an unchanged state would be a
    // mere renewal, which a server may relay lazily), as in a reconnect wave
    const at = ++awarenessCalls;
    for (const h of held.values()) {
      const set = () =>
        h.client.awareness?.setLocalState({ user: { name: h.client.id }, cursor: { anchor: at, head: at } });
      if (args.spreadMs <= 0) set();
      else timers.push(setTimeout(set, Math.random() * args.spreadMs));
    }
    return { clients: held.size };
  },

  reset() {
    hist.reset();
    loopDelay.reset();
    received = 0;
    recording = true;
    windowStartUs = nowUs();
    late = new Map();
    stalls = [];
    watches.clear();
    for (const h of held.values()) h.reachedAt.clear();
    return {};
  },

  /** Open-loop edits by `writers`, `ratePerSec` in total, round-robin, for `durationMs`. */
  async edit(args: { writers: string[]; ratePerSec: number; durationMs: number; chars?: number }) {
    const hs = args.writers.map((id) => held.get(id)).filter((h): h is Held => h !== undefined);
    if (hs.length === 0) return { fired: 0, seqs: {} };
    const text = filler(args.chars ?? 24, 1);
    const total = Math.floor((args.ratePerSec * args.durationMs) / 1000);
    const start = performance.now();
    let fired = 0;
    const maxTicks = Math.ceil(args.durationMs / 5) * 4 + 10;
    for (let t = 0; t < maxTicks && fired < total; t++) {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * args.ratePerSec) / 1000));
      while (fired < due) edit(hs[fired++ % hs.length]!, text);
      if (elapsed > args.durationMs + 2000) break;
      await sleep(5);
    }
    return { fired, seqs: Object.fromEntries(hs.map((h) => [h.client.id, h.seq])) };
  },

  /** `count` edits as fast as the writer can make them; receivers note when they saw the last. */
  burst(args: { writer: string; count: number; chars?: number }) {
    const h = held.get(args.writer);
    if (!h) throw new Error(`no client ${args.writer} here`);
    const text = filler(args.chars ?? 24, 2);
    const t0 = nowUs();
    for (let i = 0; i < args.count; i++) edit(h, text);
    return { t0, t1: nowUs(), lastSeq: h.seq };
  },

  /** Watch for `writer` reaching `seq` (call before the edits start). */
  watch(args: { writer: string; seq: number }) {
    watches.set(args.writer, args.seq);
    for (const h of held.values()) h.reachedAt.delete(args.writer);
    return {};
  },

  /** Wait until every client of `docName` here (but the writer) saw `writer` reach `seq`; their times. */
  async reached(args: { writer: string; docName: string; seq: number; timeoutMs: number }) {
    const hs = [...held.values()].filter((h) => h.docName === args.docName && h.client.id !== args.writer);
    await waitUntil(() => hs.every((h) => (h.lastSeen.get(args.writer) ?? 0) >= args.seq), {
      timeoutMs: args.timeoutMs,
      intervalMs: 5,
      label: `${hs.length} clients seeing ${args.seq} edits`,
      orUndefined: true,
    });
    return {
      times: hs.map((h) => h.reachedAt.get(args.writer) ?? null),
      missing: hs.filter((h) => (h.lastSeen.get(args.writer) ?? 0) < args.seq).length,
    };
  },

  stats() {
    return {
      hist: hist.toJSON(),
      received,
      clients: held.size,
      cpu: process.cpuUsage(),
      loopDelayMaxMs: loopDelay.max / 1e6,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      late: [...late.values()],
      stalls,
    };
  },

  /**
   * Build a long edit history: `bytes` of text typed in `chunk`-sized inserts at moving
   * positions, with a deletion every 10th edit; yields to the event loop every 50 edits.
   */
  async history(args: { writer: string; bytes: number; chunk: number }) {
    const h = held.get(args.writer);
    if (!h) throw new Error(`no client ${args.writer} here`);
    const c = h.client;
    let edits = 0;
    const maxEdits = Math.ceil(args.bytes / args.chunk) * 2 + 10;
    while (c.text.length < args.bytes && edits < maxEdits) {
      c.doc.transact(() => {
        const len = c.text.length;
        if (edits % 10 === 9 && len > 200) c.text.delete(len - 150, 40);
        else c.text.insert(Math.max(0, len - (edits % 7) * 10), filler(args.chunk, edits));
      });
      edits++;
      if (edits % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    return { edits, length: c.text.length };
  },

  length(args: { id: string }) {
    return { length: held.get(args.id)?.client.text.length ?? -1 };
  },

  /** Open one fresh client and time it until it holds `expectLength` characters. */
  async freshSync(args: {
    system: DocSystem;
    url: string;
    name: string;
    token?: string;
    expectLength: number;
    timeoutMs: number;
  }) {
    const t0 = performance.now();
    const client = openDocClient({
      system: args.system,
      url: args.url,
      name: args.name,
      id: 'fresh',
      token: args.token,
    });
    let syncedMs: number | undefined;
    const ok = await waitUntil(
      () => {
        if (syncedMs === undefined && client.synced()) syncedMs = performance.now() - t0;
        return client.synced() && client.text.length >= args.expectLength;
      },
      { timeoutMs: args.timeoutMs, intervalMs: 2, label: 'fresh sync', orUndefined: true },
    );
    const ms = performance.now() - t0;
    const length = client.text.length;
    client.destroy();
    return { ok: ok === true, ms, syncedMs: syncedMs ?? null, length };
  },

  async close(args: { ids?: string[] }) {
    const ids = args.ids ?? [...held.keys()];
    for (const id of ids) {
      held.get(id)?.client.destroy();
      held.delete(id);
    }
    await sleep(50);
    return { open: held.size };
  },

  mem() {
    return process.memoryUsage();
  },
});
