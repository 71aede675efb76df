import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { RuntimeMetrics } from './runtimeMetrics.ts';

/** The process's Prometheus registry with the gateway's own metrics; services add theirs. */
export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly events: Counter<'event' | 'outcome'>;
  readonly eventSeconds: Histogram<'event'>;
  /** Event-loop delay and GC pause histograms (stalls). */
  readonly runtime: RuntimeMetrics;

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry, prefix: 'moim_process_' });
    this.connections = new Gauge({
      name: 'moim_socket_connections',
      help: 'Open socket.io connections',
      registers: [this.registry],
    });
    this.events = new Counter({
      name: 'moim_socket_events_total',
      help: 'Socket events handled, by outcome (ok or an error code)',
      labelNames: ['event', 'outcome'],
      registers: [this.registry],
    });
    this.eventSeconds = new Histogram({
      name: 'moim_socket_event_seconds',
      help: 'Time to handle a socket event',
      labelNames: ['event'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
    });
    this.runtime = new RuntimeMetrics(this.registry);
  }

  /** Stop the runtime monitors (idempotent). */
  close(): void {
    this.runtime.close();
  }
}
