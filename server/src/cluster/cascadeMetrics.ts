/**
 * The cascade's figures on /metrics, per link (the other node of a cascaded room): bytes and
 * bitrate on the pipe transports of the pipes open now, each direction, packets lost on the
 * producers piped in (as this node's side of the pipe counts them), and pipes open each way.
 * Read from mediasoup's stats when /metrics is scraped.
 */
import { Gauge } from 'prom-client';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { CascadeLink } from './Cascade.ts';

interface LinkFigures {
  bytesIn: number;
  bytesOut: number;
  bitrateIn: number;
  bitrateOut: number;
  lost: number;
  pipesIn: number;
  pipesOut: number;
}

/** Sum the figures of every cascaded room's link, by the other node. */
export async function linkFigures(links: CascadeLink[]): Promise<Map<string, LinkFigures>> {
  const out = new Map<string, LinkFigures>();
  for (const link of links) {
    let f = out.get(link.node);
    if (!f) {
      f = { bytesIn: 0, bytesOut: 0, bitrateIn: 0, bitrateOut: 0, lost: 0, pipesIn: 0, pipesOut: 0 };
      out.set(link.node, f);
    }
    const transports = [link.in, link.outTransport];
    for (const t of transports) {
      if (!t || t.closed) continue;
      for (const s of await t.getStats()) {
        f.bytesIn += s.bytesReceived;
        f.bytesOut += s.bytesSent;
        f.bitrateIn += s.recvBitrate;
        f.bitrateOut += s.sendBitrate;
      }
    }
    for (const { producer } of link.inProducers.values()) {
      if (producer.closed) continue;
      for (const s of await producer.getStats()) f.lost += s.packetsLost;
    }
    f.pipesIn += link.inProducers.size;
    f.pipesOut += link.outConsumers.size;
  }
  return out;
}

export function registerCascadeMetrics(metrics: Metrics, view: { links: () => CascadeLink[]; log: Logger }): void {
  const registers = [metrics.registry];
  // the gauges are collected together on a scrape: one read of the stats (while it runs) serves them all
  let reading: Promise<Map<string, LinkFigures>> | undefined;
  const figures = async (): Promise<Map<string, LinkFigures>> => {
    if (!reading) {
      const read = linkFigures(view.links());
      reading = read;
      const done = () => {
        if (reading === read) reading = undefined;
      };
      read.then(done, done);
    }
    try {
      return await reading;
    } catch (err) {
      // a pipe closing while it is read: the figures are unknown this time, /metrics still answers
      view.log.warn({ err }, 'metrics: could not read the cascade links');
      return new Map();
    }
  };
  const gauge = (
    name: string,
    help: string,
    labelNames: Array<'peer_node' | 'direction'>,
    fill: (set: (labels: Record<string, string>, value: number) => void, node: string, f: LinkFigures) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const all = await figures();
        this.reset();
        for (const [node, f] of all) fill((labels, value) => this.set(labels, value), node, f);
      },
    });
  gauge(
    'moim_cascade_link_bytes',
    'Bytes on the pipe transports to another node (pipes open now), by that node and direction',
    ['peer_node', 'direction'],
    (set, node, f) => {
      set({ peer_node: node, direction: 'in' }, f.bytesIn);
      set({ peer_node: node, direction: 'out' }, f.bytesOut);
    },
  );
  gauge(
    'moim_cascade_link_bitrate_bps',
    'Bitrate on the pipe transports to another node, by that node and direction',
    ['peer_node', 'direction'],
    (set, node, f) => {
      set({ peer_node: node, direction: 'in' }, f.bitrateIn);
      set({ peer_node: node, direction: 'out' }, f.bitrateOut);
    },
  );
  gauge(
    'moim_cascade_link_packets_lost',
    'Packets lost on the producers piped in from another node (pipes open now), by that node',
    ['peer_node'],
    (set, node, f) => set({ peer_node: node }, f.lost),
  );
  gauge(
    'moim_cascade_pipes',
    'Producers piped to (out) and from (in) another node, by that node',
    ['peer_node', 'direction'],
    (set, node, f) => {
      set({ peer_node: node, direction: 'in' }, f.pipesIn);
      set({ peer_node: node, direction: 'out' }, f.pipesOut);
    },
  );
}
