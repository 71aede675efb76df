/**
 * The Prometheus metrics of shared documents: documents loaded, open `/yjs` connections, document
 * messages by outcome, and the time and size of group commits. Registered once per DocService.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { COMMIT_SECONDS_BUCKETS, type Metrics } from '../observability/Metrics.ts';

export class DocMetrics {
  readonly loaded: Gauge;
  readonly connections: Gauge;
  readonly updates: Counter<'outcome'>;
  readonly #commitSeconds: Histogram;
  readonly #batchSize: Histogram;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    this.loaded = new Gauge({ name: 'moim_docs_loaded', help: 'Documents loaded in memory', registers });
    this.connections = new Gauge({ name: 'moim_doc_connections', help: 'Open y-websocket connections', registers });
    this.updates = new Counter({
      name: 'moim_doc_updates_total',
      help: 'Document messages by outcome: stored, read_only, malformed, too_large, storage_error, pending (missing dependencies, refused), awareness (a client id of another connection, refused)',
      labelNames: ['outcome'],
      registers,
    });
    this.#commitSeconds = new Histogram({
      name: 'moim_doc_commit_seconds',
      help: 'Time to commit one group of document updates',
      buckets: COMMIT_SECONDS_BUCKETS,
      registers,
    });
    this.#batchSize = new Histogram({
      name: 'moim_doc_commit_batch_updates',
      help: 'Updates per group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 500],
      registers,
    });
  }

  /** One group commit of `updates` updates took `seconds` (the group committer's `onCommit`). */
  readonly onCommit = (updates: number, seconds: number): void => {
    this.#commitSeconds.observe(seconds);
    this.#batchSize.observe(updates);
  };
}
