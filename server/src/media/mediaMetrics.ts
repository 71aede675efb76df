/** The media service's Prometheus metrics: live rooms and peers, workers, their consumers, CPU and memory, deaths. */
import type { WorkerPool } from '@moim/sfu';
import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../observability/Metrics.ts';

/** Register the gauges; returns the worker-deaths counter for the service to increment. */
export function registerMediaMetrics(
  metrics: Metrics,
  live: { pool: WorkerPool; rooms: () => number; peers: () => number },
): Counter {
  const registers = [metrics.registry];
  const { pool } = live;
  const liveRooms = live.rooms;
  const livePeers = live.peers;
  new Gauge({
    name: 'moim_sfu_rooms',
    help: 'Live media rooms on this node',
    registers,
    collect() {
      this.set(liveRooms());
    },
  });
  new Gauge({
    name: 'moim_sfu_peers',
    help: 'Media peers on this node',
    registers,
    collect() {
      this.set(livePeers());
    },
  });
  new Gauge({
    name: 'moim_sfu_workers',
    help: 'Live mediasoup workers',
    registers,
    collect() {
      this.set(pool.workers().length);
    },
  });
  new Gauge({
    name: 'moim_sfu_worker_consumers',
    help: 'Consumers open on each mediasoup worker',
    labelNames: ['worker'],
    registers,
    collect() {
      this.reset();
      for (const w of pool.workers()) this.set({ worker: String(w.index) }, w.consumers);
    },
  });
  const rss = new Gauge({
    name: 'moim_sfu_worker_max_rss_bytes',
    help: 'Peak resident memory of each mediasoup worker (getResourceUsage)',
    labelNames: ['worker'],
    registers,
  });
  new Gauge({
    name: 'moim_sfu_worker_cpu_seconds',
    help: 'CPU time used by each mediasoup worker (getResourceUsage)',
    labelNames: ['worker', 'mode'],
    registers,
    async collect() {
      this.reset();
      rss.reset();
      for (const { index, usage } of await pool.resourceUsage()) {
        this.set({ worker: String(index), mode: 'user' }, usage.ru_utime / 1000);
        this.set({ worker: String(index), mode: 'system' }, usage.ru_stime / 1000);
        rss.set({ worker: String(index) }, usage.ru_maxrss * 1024);
      }
    },
  });
  new Counter({
    name: 'moim_sfu_worker_warnings_total',
    help: 'mediasoup worker warnings of normal operation, by cause (each logged at debug; see README "mediasoup\'s warnings")',
    labelNames: ['warning'],
    registers,
    collect() {
      // the pool keeps the totals: report them as they are
      this.reset();
      for (const [warning, count] of Object.entries(pool.workerWarnings())) this.inc({ warning }, count);
    },
  });
  return new Counter({
    name: 'moim_sfu_worker_deaths_total',
    help: 'mediasoup workers that died (each is replaced)',
    registers,
  });
}
