import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Recorded VP8 RTP (bench/fixtures/vp8-720p.rtp, made once by bench/fixtures/record-vp8.ts)
 * replayed into producers with rewritten SSRC, sequence numbers and timestamps, and a light
 * receiver that counts RTP packets and sequence gaps per SSRC without decoding anything.
 */

export const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'vp8-720p.rtp');
export const VP8_PAYLOAD_TYPE = 101;

export interface Fixture {
  packets: Buffer[];
  /** Send offset of each packet from the first (ms), from its RTP timestamp. */
  offsetMs: number[];
  /** RTP timestamp offset of each packet from the first (90 kHz). */
  offsetTs: number[];
  /** Length of one loop (ms) and in RTP ticks: last timestamp + one frame. */
  loopMs: number;
  loopTs: number;
  packetsPerSecond: number;
  bitsPerSecond: number;
}

export function loadFixture(file = FIXTURE): Fixture {
  const b = readFileSync(file);
  if (b.toString('latin1', 0, 8) !== 'MOIMRTP1') throw new Error(`${file} is not a moim RTP recording`);
  const n = b.readUInt32BE(8);
  const packets: Buffer[] = [];
  let o = 12;
  for (let i = 0; i < n; i++) {
    const len = b.readUInt16BE(o);
    packets.push(Buffer.from(b.subarray(o + 2, o + 2 + len)));
    o += 2 + len;
  }
  const ts0 = packets[0]!.readUInt32BE(4);
  const offsetTs = packets.map((p) => (p.readUInt32BE(4) - ts0) >>> 0);
  const frameTs = 3000; // 30 fps at 90 kHz
  const loopTs = offsetTs[offsetTs.length - 1]! + frameTs;
  const loopMs = loopTs / 90;
  const bytes = packets.reduce((s, p) => s + p.length, 0);
  return {
    packets,
    offsetTs,
    offsetMs: offsetTs.map((t) => t / 90),
    loopTs,
    loopMs,
    packetsPerSecond: (n * 1000) / loopMs,
    bitsPerSecond: (bytes * 8 * 1000) / loopMs,
  };
}

interface Stream {
  ssrc: number;
  ip: string;
  port: number;
  /** Start of this stream's first loop (ms, performance.now()), staggered so streams do not burst together. */
  start: number;
  next: number;
  loop: number;
  seq: number;
  tsBase: number;
  sent: number;
}

/**
 * Sends the recording to any number of destinations (one RTP stream each), paced by the
 * recorded timestamps, from one UDP socket. Packets are copied and rewritten per stream.
 */
export class Replayer {
  readonly #fx: Fixture;
  readonly #socket: Socket;
  readonly #streams: Stream[] = [];
  #timer: NodeJS.Timeout | undefined;

  private constructor(fx: Fixture, socket: Socket) {
    this.#fx = fx;
    this.#socket = socket;
    socket.on('message', () => {}); // RTCP from the SFU: drained, ignored
  }

  static async open(fx: Fixture): Promise<Replayer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.setSendBufferSize(4 * 1024 * 1024);
    return new Replayer(fx, socket);
  }

  add(stream: { ssrc: number; ip: string; port: number }): void {
    const now = performance.now();
    // stagger: each new stream starts at a different point of the frame cadence
    const phase = (this.#streams.length * 7.3) % 33;
    this.#streams.push({
      ...stream,
      start: now + phase,
      next: 0,
      loop: 0,
      seq: (stream.ssrc * 7919) & 0xffff,
      tsBase: (stream.ssrc * 104729) >>> 0,
      sent: 0,
    });
    if (!this.#timer) this.#timer = setInterval(() => this.#tick(), 4);
  }

  get sent(): number {
    return this.#streams.reduce((s, x) => s + x.sent, 0);
  }

  get streams(): number {
    return this.#streams.length;
  }

  #tick(): void {
    const now = performance.now();
    const fx = this.#fx;
    const n = fx.packets.length;
    for (const s of this.#streams) {
      // bounded: at most one loop's worth of packets per tick per stream
      for (let k = 0; k < n; k++) {
        const due = s.start + s.loop * fx.loopMs + fx.offsetMs[s.next]!;
        if (due > now) break;
        const src = fx.packets[s.next]!;
        // a fresh buffer per packet: dgram may still hold the previous one when send() returns
        const out = Buffer.allocUnsafe(src.length);
        src.copy(out);
        out.writeUInt16BE(s.seq, 2);
        out.writeUInt32BE((s.tsBase + s.loop * fx.loopTs + fx.offsetTs[s.next]!) >>> 0, 4);
        out.writeUInt32BE(s.ssrc, 8);
        this.#socket.send(out, s.port, s.ip);
        s.seq = (s.seq + 1) & 0xffff;
        s.sent++;
        s.next++;
        if (s.next === n) {
          s.next = 0;
          s.loop++;
        }
      }
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#socket.close();
  }
}

interface SsrcState {
  packets: number;
  first: number;
  highest: number;
  cycles: number;
  base: number;
  dup: number;
  lastAt: number;
}

/** SSRC of mediasoup's bandwidth probation stream (not media; counted apart). */
export const PROBATION_SSRC = 1234;

/**
 * Light RTP receiver: one UDP socket; per SSRC, packets and the extended highest sequence
 * number, so sequence gaps (loss) fall out per measurement window. RTCP is skipped.
 */
export class RtpSink {
  readonly socket: Socket;
  readonly #ssrcs = new Map<number, SsrcState>();
  rtcp = 0;
  probation = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (m: Buffer) => this.#onPacket(m));
  }

  static async open(): Promise<RtpSink> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.setRecvBufferSize(4 * 1024 * 1024);
    return new RtpSink(socket);
  }

  get address(): { ip: string; port: number } {
    return { ip: '127.0.0.1', port: this.socket.address().port };
  }

  #onPacket(m: Buffer): void {
    if (m.length < 12) return;
    const b1 = m[1]!;
    if (b1 >= 192 && b1 <= 223) {
      this.rtcp++;
      return;
    }
    const ssrc = m.readUInt32BE(8);
    if (ssrc === PROBATION_SSRC) {
      this.probation++;
      return;
    }
    const seq = m.readUInt16BE(2);
    const now = performance.now();
    const s = this.#ssrcs.get(ssrc);
    if (!s) {
      this.#ssrcs.set(ssrc, { packets: 1, first: seq, highest: seq, cycles: 0, base: seq, dup: 0, lastAt: now });
      return;
    }
    s.packets++;
    s.lastAt = now;
    const delta = (seq - s.highest) & 0xffff;
    if (delta === 0) s.dup++;
    else if (delta < 0x8000) {
      if (seq < s.highest) s.cycles += 0x10000;
      s.highest = seq;
    }
  }

  /** Start a measurement window: counts restart from the next packet of each SSRC. */
  reset(): void {
    for (const s of this.#ssrcs.values()) {
      s.packets = 0;
      s.cycles = 0;
      s.dup = 0;
      s.base = (s.highest + 1) & 0xffff;
      s.first = s.base;
    }
    this.rtcp = 0;
    this.probation = 0;
  }

  /** Per-window totals: received, expected from the sequence numbers, streams seen and silent. */
  stats(activeWithinMs = 1000): {
    ssrcs: number;
    active: number;
    received: number;
    expected: number;
    silent: number;
    rtcp: number;
    probation: number;
  } {
    const now = performance.now();
    let received = 0;
    let expected = 0;
    let active = 0;
    let silent = 0;
    for (const s of this.#ssrcs.values()) {
      const got = s.packets - s.dup;
      received += got;
      if (s.packets === 0) {
        silent++;
        continue;
      }
      const ext = s.cycles + s.highest;
      expected += ext - s.first + 1;
      if (now - s.lastAt <= activeWithinMs) active++;
    }
    return { ssrcs: this.#ssrcs.size, active, received, expected, silent, rtcp: this.rtcp, probation: this.probation };
  }

  close(): void {
    this.socket.close();
  }
}

/** UDP receive-buffer drops of every UDP socket a process holds (/proc/net/udp `drops`, by socket inode). */
export function udpDrops(pid: number): number {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m) inodes.add(m[1]!);
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    return 0;
  }
  let drops = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      if (inodes.has(f[9]!)) drops += Number(f[f.length - 1]) || 0;
    }
  }
  return drops;
}
