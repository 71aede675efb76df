/**
 * bench:sfu helper process: replays the recorded VP8 into producers (`replay*`) and/or counts
 * what consumers send (`sink*`), so neither competes with the process that measures.
 */
import { serve } from '../lib/generators.ts';
import { loadFixture, Replayer, RtpSink } from '../lib/rtp.ts';

const fx = loadFixture();
let replayer: Replayer | undefined;
const sinks: RtpSink[] = [];

serve({
  fixture() {
    return { packets: fx.packets.length, loopMs: fx.loopMs, pps: fx.packetsPerSecond, bps: fx.bitsPerSecond };
  },
  async replayAdd(args: { streams: { ssrc: number; ip: string; port: number }[] }) {
    replayer ??= await Replayer.open(fx);
    for (const s of args.streams) replayer.add(s);
    return { streams: replayer.streams };
  },
  replayStats() {
    return {
      sent: replayer?.sent ?? 0,
      streams: replayer?.streams ?? 0,
      keyFrameRequests: replayer?.keyFrameRequests ?? 0,
    };
  },
  async sinkOpen(args: { count: number }) {
    while (sinks.length < args.count) sinks.push(await RtpSink.open());
    return { addresses: sinks.map((s) => s.address) };
  },
  sinkReset() {
    for (const s of sinks) s.reset();
    return {};
  },
  sinkStats() {
    const t = { ssrcs: 0, active: 0, received: 0, expected: 0, silent: 0, rtcp: 0, probation: 0 };
    for (const s of sinks) {
      const x = s.stats();
      for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += x[k];
    }
    return t;
  },
  close() {
    replayer?.close();
    replayer = undefined;
    for (const s of sinks.splice(0)) s.close();
    return {};
  },
});
