import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeMetrics } from '../server/src/observability/runtimeMetrics.ts';
import { type ServerProcess, startServerProcess } from './support/serverProcess.ts';

const servers: ServerProcess[] = [];
const monitors: RuntimeMetrics[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) m.close();
  for (const s of servers.splice(0)) await s.stop();
});

/** Cumulative bucket counts of one histogram in Prometheus text, by `le`. */
function buckets(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm')))
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  return out;
}
function sample(text: string, name: string): number {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) total += Number(m[1]);
  return total;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runtime stall metrics', () => {
  it('counts a 300-ms event-loop stall in the delay histogram and records GC pauses', async () => {
    const registry = new Registry();
    const rt = new RuntimeMetrics(registry);
    monitors.push(rt);
    await sleep(200);
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      // a synchronous stall, as a long compaction would be
    }
    // garbage enough for scavenges
    let keep = 0;
    for (let i = 0; i < 200; i++) keep += new Array(20_000).fill(i).length;
    expect(keep).toBeGreaterThan(0);
    await sleep(200);
    const text = await registry.metrics();
    const loop = buckets(text, 'moim_event_loop_delay_seconds');
    const count = sample(text, 'moim_event_loop_delay_seconds_count');
    expect(count).toBeGreaterThan(10);
    // exactly the stall lies above 250 ms; most ticks were on time
    expect(count - loop.get('0.25')!).toBeGreaterThanOrEqual(1);
    expect(loop.get('0.025')!).toBeGreaterThan(count / 2);
    expect(sample(text, 'moim_event_loop_delay_seconds_sum')).toBeGreaterThan(0.25);
    await sleep(50); // GC entries are delivered asynchronously
    const after = await registry.metrics();
    expect(sample(after, 'moim_gc_pause_seconds_count')).toBeGreaterThan(0);
    // folded samples are not counted twice
    expect(sample(after, 'moim_event_loop_delay_seconds_count')).toBeLessThan(count + 20);
  });

  it('are exported by a running server at /metrics', async () => {
    const server = await startServerProcess();
    servers.push(server);
    await sleep(300);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('# TYPE moim_event_loop_delay_seconds histogram');
    expect(text).toContain('# TYPE moim_gc_pause_seconds histogram');
    expect(sample(text, 'moim_event_loop_delay_seconds_count')).toBeGreaterThan(0);
  });
});
