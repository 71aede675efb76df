import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { RuntimeMetrics } from './runtimeMetrics.ts';

/** Buckets (seconds) of the group-commit time histograms: chat's here, documents' in DocMetrics. */
export const COMMIT_SECONDS_BUCKETS = [
  0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1,
];

/** The process's Prometheus registry with the gateway's own metrics; services add theirs. */
export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly events: Counter<'event' | 'outcome'>;
  readonly eventSeconds: Histogram<'event'>;
  /** Event-loop delay and GC pause histograms (stalls). */
  readonly runtime: RuntimeMetrics;
  readonly #chatCommitSeconds: Histogram;
  readonly #chatCommitWrites: Histogram;

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
    // the chat store's group commits (the store opens before any service, so the metrics live here)
    this.#chatCommitSeconds = new Histogram({
      name: 'moim_chat_commit_seconds',
      help: 'Time to commit one group of chat writes (messages and read receipts), the fsync included',
      buckets: COMMIT_SECONDS_BUCKETS,
      registers: [this.registry],
    });
    this.#chatCommitWrites = new Histogram({
      name: 'moim_chat_commit_batch_writes',
      help: 'Chat writes per group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [this.registry],
    });
  }

  /** One chat group commit of `writes` writes took `seconds` (the chat store's `onCommit`). */
  readonly onChatCommit = (writes: number, seconds: number): void => {
    this.#chatCommitSeconds.observe(seconds);
    this.#chatCommitWrites.observe(writes);
  };

  /** Stop the runtime monitors (idempotent). */
  close(): void {
    this.runtime.close();
  }
}
