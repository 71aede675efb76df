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
  /** Indices of the packets that start a key frame. */
  keyFrames: number[];
}

/** Whether an RTP packet carrying VP8 starts a key frame (RFC 7741 payload descriptor + VP8 frame tag). */
export function startsVp8KeyFrame(p: Buffer): boolean {
  const cc = p[0]! & 0x0f;
  let h = 12 + cc * 4;
  if ((p[0]! >> 4) & 1) h += 4 + p.readUInt16BE(h + 2) * 4;
  const d0 = p[h]!;
  let i = h + 1;
  if (d0 & 0x80) {
    const d1 = p[i++]!;
    if (d1 & 0x80) i += p[i]! & 0x80 ? 2 : 1;
    if (d1 & 0x40) i++;
    if (d1 & 0x30) i++;
  }
  const start = (d0 & 0x10) !== 0 && (d0 & 0x07) === 0;
  return start && (p[i]! & 0x01) === 0;
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
  const keyFrames = packets.flatMap((p, i) => (startsVp8KeyFrame(p) ? [i] : []));
  if (keyFrames[0] !== 0) throw new Error(`${file} must start with a key frame`);
  return {
    packets,
    keyFrames,
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
  /** performance.now() at which recording offset 0 of the current segment is (re)played. */
  origin: number;
  /** RTP timestamp of recording offset 0 of the current segment. */
  tsOrigin: number;
  next: number;
  seq: number;
  lastTs: number;
  sent: number;
  keyFrameRequests: number;
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
    socket.on('message', (m: Buffer) => this.#onRtcp(m));
  }

  /**
   * Like an encoder, answer a key-frame request (PLI or FIR) at once: the stream jumps to the
   * next key frame of the recording (timestamps keep increasing).
   */
  #onRtcp(m: Buffer): void {
    let o = 0;
    for (let k = 0; k < 16 && o + 12 <= m.length; k++) {
      const fmt = m[o]! & 0x1f;
      const pt = m[o + 1]!;
      const len = (m.readUInt16BE(o + 2) + 1) * 4;
      if (pt === 206 && (fmt === 1 || fmt === 4)) {
        const ssrc = fmt === 1 ? m.readUInt32BE(o + 8) : o + 16 <= m.length ? m.readUInt32BE(o + 12) : 0;
        const s = this.#streams.find((x) => x.ssrc === ssrc);
        if (s) this.#keyFrame(s);
      }
      o += len;
    }
  }

  #keyFrame(s: Stream): void {
    const fx = this.#fx;
    s.keyFrameRequests++;
    if (fx.keyFrames.includes(s.next) && s.sent > 0) return; // one is about to go out
    const k = fx.keyFrames.find((i) => i > s.next) ?? 0;
    const now = performance.now();
    s.tsOrigin = (s.lastTs + 3000 - fx.offsetTs[k]!) >>> 0;
    s.origin = now - fx.offsetMs[k]!;
    s.next = k;
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
      origin: now + phase,
      tsOrigin: (stream.ssrc * 104729) >>> 0,
      next: 0,
      seq: (stream.ssrc * 7919) & 0xffff,
      lastTs: 0,
      sent: 0,
      keyFrameRequests: 0,
    });
    if (!this.#timer) this.#timer = setInterval(() => this.#tick(), 4);
  }

  get sent(): number {
    return this.#streams.reduce((s, x) => s + x.sent, 0);
  }

  get streams(): number {
    return this.#streams.length;
  }

  get keyFrameRequests(): number {
    return this.#streams.reduce((s, x) => s + x.keyFrameRequests, 0);
  }

  #tick(): void {
    const now = performance.now();
    const fx = this.#fx;
    const n = fx.packets.length;
    for (const s of this.#streams) {
      // bounded: at most one loop's worth of packets per tick per stream
      for (let k = 0; k < n; k++) {
        const due = s.origin + fx.offsetMs[s.next]!;
        if (due > now) break;
        const src = fx.packets[s.next]!;
        // a fresh buffer per packet: dgram may still hold the previous one when send() returns
        const out = Buffer.allocUnsafe(src.length);
        src.copy(out);
        const ts = (s.tsOrigin + fx.offsetTs[s.next]!) >>> 0;
        out.writeUInt16BE(s.seq, 2);
        out.writeUInt32BE(ts, 4);
        out.writeUInt32BE(s.ssrc, 8);
        this.#socket.send(out, s.port, s.ip);
        s.lastTs = ts;
        s.seq = (s.seq + 1) & 0xffff;
        s.sent++;
        s.next++;
        if (s.next === n) {
          s.next = 0;
          s.origin += fx.loopMs;
          s.tsOrigin = (s.tsOrigin + fx.loopTs) >>> 0;
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

/** Master key + salt lengths of the SRTP suites mediasoup offers (RFC 3711, RFC 7714). */
const SRTP_KEY_BYTES: Record<string, number> = {
  AEAD_AES_256_GCM: 44,
  AEAD_AES_128_GCM: 28,
  AES_CM_128_HMAC_SHA1_80: 30,
  AES_CM_128_HMAC_SHA1_32: 30,
};

/**
 * Receive capabilities without transport-wide congestion control (its header extension and its
 * RTCP feedback), for bench:sfu's `tcc=0`: the light receivers send no feedback, so with it each
 * transport's bandwidth estimator keeps 60 s of send history that real clients' feedback keeps short.
 */
export function withoutTransportCc<
  C extends {
    codecs?: Array<{ rtcpFeedback?: Array<{ type: string }> }>;
    headerExtensions?: Array<{ uri: string }>;
  },
>(caps: C): C {
  const out = structuredClone(caps);
  out.headerExtensions = out.headerExtensions?.filter((h) => !h.uri.includes('transport-wide-cc'));
  for (const c of out.codecs ?? []) c.rtcpFeedback = c.rtcpFeedback?.filter((f) => f.type !== 'transport-cc');
  return out;
}

/** A fixed key of the right length for `suite` (the bench's receivers never decrypt). */
export function srtpKeyBase64(suite: string): string {
  const n = SRTP_KEY_BYTES[suite];
  if (!n) throw new Error(`unknown SRTP suite ${suite}`);
  return Buffer.alloc(n, 7).toString('base64');
}
