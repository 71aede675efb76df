import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../observability/Metrics.ts';

/** Calls on this node: those ringing or running now, and how finished ones ended (by state). */
export function registerCallMetrics(metrics: Metrics, active: () => number): Counter<'state'> {
  const registers = [metrics.registry];
  new Gauge({
    name: 'moim_calls_active',
    help: 'Calls ringing or running on this node (their home)',
    registers,
    collect() {
      this.set(active());
    },
  });
  return new Counter({
    name: 'moim_calls_finished_total',
    help: 'Calls finished on this node, by final state (declined, cancelled, missed, busy, failed, ended)',
    labelNames: ['state'],
    registers,
  });
}
