/**
 * The cluster's figures on /metrics: this node's view of the cluster (nodes alive, whether it is
 * the sweeper, Redis up) and the traffic between nodes (relayed room requests and their latency,
 * document updates relayed out and in, resyncs, presence reports and swept devices).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';

export class ClusterMetrics {
  readonly relayRequests: Counter<'outcome'>;
  readonly relaySeconds: Histogram;
  readonly docUpdates: Counter<'direction'>;
  readonly docResyncs: Counter;
  readonly presenceReports: Counter;
  readonly presenceSwept: Counter;

  constructor(metrics: Metrics, view: { registry: NodeRegistry; redisUp: () => boolean; log: Logger }) {
    const registers = [metrics.registry];
    new Gauge({
      name: 'moim_cluster_nodes_alive',
      help: 'Nodes with a current lease, as this node sees them',
      registers,
      async collect() {
        try {
          this.set((await view.registry.alive()).length);
        } catch (err) {
          // Redis away: the figure is unknown, the rest of /metrics still answers
          view.log.warn({ err }, 'metrics: could not count the nodes alive');
          this.set(Number.NaN);
        }
      },
    });
    new Gauge({
      name: 'moim_cluster_sweeper',
      help: '1 while this node is the sweeper (declares lapsed nodes dead)',
      registers,
      collect() {
        this.set(view.registry.leader ? 1 : 0);
      },
    });
    new Gauge({
      name: 'moim_cluster_redis_up',
      help: '1 while both Redis connections of this node are ready',
      registers,
      collect() {
        this.set(view.redisUp() ? 1 : 0);
      },
    });
    this.relayRequests = new Counter({
      name: 'moim_cluster_relay_requests_total',
      help: 'Video-room requests relayed to the home node, by outcome (ok, an error code, moved)',
      labelNames: ['outcome'],
      registers,
    });
    this.relaySeconds = new Histogram({
      name: 'moim_cluster_relay_seconds',
      help: 'Round trip of a relayed video-room request',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.docUpdates = new Counter({
      name: 'moim_cluster_doc_updates_total',
      help: 'Committed document updates relayed to other nodes (out) and applied from them (in)',
      labelNames: ['direction'],
      registers,
    });
    this.docResyncs = new Counter({
      name: 'moim_cluster_doc_resyncs_total',
      help: 'Documents merged again from storage after relayed updates were missed',
      registers,
    });
    this.presenceReports = new Counter({
      name: 'moim_cluster_presence_reports_total',
      help: 'Reports of this node’s devices of a person to the cluster',
      registers,
    });
    this.presenceSwept = new Counter({
      name: 'moim_cluster_presence_swept_total',
      help: 'Devices of dead nodes swept (while this node was the sweeper)',
      registers,
    });
  }
}
