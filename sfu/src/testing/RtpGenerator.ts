import { createSocket, type Socket } from 'node:dgram';

/**
 * A tiny RTP source for tests and benchmarks: generated VP8 video (one or several simulcast
 * streams) and Opus audio sent over UDP to a plain transport, with RTCP sender reports and
 * answers to PLI/FIR. The payloads are not decodable media, but carry what an SFU reads: VP8
 * payload descriptors with key-frame flags and sizes, Opus TOC bytes, and the ssrc-audio-level
 * header extension.
 */

export interface VideoStreamOptions {
  ssrc: number;
  payloadType: number;
  /** Frame size carried in key frames. */
  width: number;
  height: number;
  /** Bytes of each frame (one packet per frame; keep it under the MTU). @default 800 */
  frameBytes?: number;
  /** @default 30 */
  fps?: number;
  /** A key frame at least this often (ms), and whenever the SFU asks (PLI/FIR). @default 2000 */
  keyFrameIntervalMs?: number;
}

export interface AudioStreamOptions {
  ssrc: number;
  payloadType: number;
  /** One-byte header extension id of `urn:ietf:params:rtp-hdrext:ssrc-audio-level`, if negotiated. */
  audioLevelExtensionId?: number;
  /** Level in -dBov (0 = loudest, 127 = silence). @default 30 */
  level?: number;
}

interface Stream {
  kind: 'video' | 'audio';
  ssrc: number;
  payloadType: number;
  clockRate: number;
  intervalMs: number;
  seq: number;
  tsBase: number;
  packets: number;
  octets: number;
  video?: Required<Omit<VideoStreamOptions, 'ssrc' | 'payloadType'>> & {
    pictureId: number;
    lastKeyAt: number;
    wantKey: boolean;
  };
  audio?: { extId: number | undefined; level: number };
  timer?: NodeJS.Timeout;
}

export class RtpGenerator {
  readonly #socket: Socket;
  readonly #streams = new Map<number, Stream>();
  #remote: { ip: string; port: number };
  #srTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #start = performance.now();
  /** Key frames requested by the SFU (PLI or FIR), per SSRC. */
  readonly keyFrameRequests = new Map<number, number>();

  private constructor(socket: Socket, remote: { ip: string; port: number }) {
    this.#socket = socket;
    this.#remote = remote;
    socket.on('message', (msg) => this.#onRtcp(msg));
  }

  /** Open a UDP socket on 127.0.0.1 that sends to `remote` (a plain transport's ip and port). */
  static async open(remote: { ip: string; port: number }, bindIp = '127.0.0.1'): Promise<RtpGenerator> {
    return new RtpGenerator(await bindUdp(bindIp), remote);
  }

  addVideo(opts: VideoStreamOptions): this {
    const fps = opts.fps ?? 30;
    this.#add({
      kind: 'video',
      ssrc: opts.ssrc,
      payloadType: opts.payloadType,
      clockRate: 90000,
      intervalMs: 1000 / fps,
      seq: rand16(),
      tsBase: rand32(),
      packets: 0,
      octets: 0,
      video: {
        width: opts.width,
        height: opts.height,
        frameBytes: opts.frameBytes ?? 800,
        fps,
        keyFrameIntervalMs: opts.keyFrameIntervalMs ?? 2000,
        pictureId: rand16() & 0x7fff,
        lastKeyAt: Number.NEGATIVE_INFINITY,
        wantKey: true,
      },
    });
    return this;
  }

  addAudio(opts: AudioStreamOptions): this {
    this.#add({
      kind: 'audio',
      ssrc: opts.ssrc,
      payloadType: opts.payloadType,
      clockRate: 48000,
      intervalMs: 20,
      seq: rand16(),
      tsBase: rand32(),
      packets: 0,
      octets: 0,
      audio: { extId: opts.audioLevelExtensionId, level: opts.level ?? 30 },
    });
    return this;
  }

  /** Start sending every stream (and sender reports every 500 ms). */
  start(): this {
    for (const s of this.#streams.values()) {
      if (s.timer) continue;
      s.timer = setInterval(() => this.#sendPacket(s), s.intervalMs);
    }
    this.#srTimer ??= setInterval(() => this.#sendSenderReports(), 500);
    this.#sendSenderReports();
    return this;
  }

  /** Stop one stream (or all). */
  stop(ssrc?: number): void {
    for (const s of this.#streams.values()) {
      if (ssrc !== undefined && s.ssrc !== ssrc) continue;
      clearInterval(s.timer);
      s.timer = undefined;
    }
  }

  /** Packets sent on one SSRC. */
  packetsSent(ssrc: number): number {
    return this.#streams.get(ssrc)?.packets ?? 0;
  }

  get localPort(): number {
    return this.#socket.address().port;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    clearInterval(this.#srTimer);
    this.#socket.close();
  }

  #add(s: Stream): void {
    if (this.#streams.has(s.ssrc)) throw new Error(`ssrc ${s.ssrc} already added`);
    this.#streams.set(s.ssrc, s);
  }

  #rtpTs(s: Stream, nowMs = performance.now()): number {
    return (s.tsBase + Math.floor(((nowMs - this.#start) * s.clockRate) / 1000)) >>> 0;
  }

  #send(buf: Buffer): void {
    if (this.#closed) return;
    this.#socket.send(buf, this.#remote.port, this.#remote.ip);
  }

  #sendPacket(s: Stream): void {
    const now = performance.now();
    let ext: Buffer | undefined;
    let payload: Buffer;
    if (s.video) {
      const v = s.video;
      const key = v.wantKey || now - v.lastKeyAt >= v.keyFrameIntervalMs;
      if (key) {
        v.wantKey = false;
        v.lastKeyAt = now;
      }
      v.pictureId = (v.pictureId + 1) & 0x7fff;
      payload = Buffer.alloc(Math.max(v.frameBytes, 20));
      // VP8 payload descriptor: X=1, S=1, PID=0; I=1; 15-bit picture id.
      payload[0] = 0x90;
      payload[1] = 0x80;
      payload[2] = 0x80 | (v.pictureId >> 8);
      payload[3] = v.pictureId & 0xff;
      // VP8 frame tag: bit 0 = 0 on key frames; show_frame = 1.
      payload[4] = key ? 0x10 : 0x11;
      payload[5] = 0x00;
      payload[6] = 0x00;
      if (key) {
        payload[7] = 0x9d;
        payload[8] = 0x01;
        payload[9] = 0x2a;
        payload.writeUInt16LE(v.width & 0x3fff, 10);
        payload.writeUInt16LE(v.height & 0x3fff, 12);
      }
    } else {
      payload = Buffer.alloc(60, 0x55);
      payload[0] = 0x78; // Opus TOC: CELT-only FB 20 ms, one frame
      const a = s.audio!;
      if (a.extId !== undefined) {
        // One-byte header extension (RFC 8285): ssrc-audio-level, V=1.
        ext = Buffer.from([0xbe, 0xde, 0x00, 0x01, (a.extId << 4) | 0, 0x80 | (a.level & 0x7f), 0x00, 0x00]);
      }
    }
    const header = Buffer.alloc(12);
    header[0] = ext ? 0x90 : 0x80;
    header[1] = 0x80 | (s.payloadType & 0x7f); // marker: every packet ends a frame
    header.writeUInt16BE(s.seq, 2);
    header.writeUInt32BE(this.#rtpTs(s, now), 4);
    header.writeUInt32BE(s.ssrc >>> 0, 8);
    s.seq = (s.seq + 1) & 0xffff;
    const packet = Buffer.concat(ext ? [header, ext, payload] : [header, payload]);
    s.packets++;
    s.octets += payload.length;
    this.#send(packet);
  }

  #sendSenderReports(): void {
    const nowMs = performance.now();
    const wall = performance.timeOrigin + nowMs;
    const ntpSec = Math.floor(wall / 1000) + 2208988800;
    const ntpFrac = Math.floor(((wall % 1000) / 1000) * 2 ** 32) >>> 0;
    for (const s of this.#streams.values()) {
      if (!s.timer) continue;
      const sr = Buffer.alloc(28);
      sr[0] = 0x80;
      sr[1] = 200;
      sr.writeUInt16BE(6, 2);
      sr.writeUInt32BE(s.ssrc >>> 0, 4);
      sr.writeUInt32BE(ntpSec >>> 0, 8);
      sr.writeUInt32BE(ntpFrac, 12);
      sr.writeUInt32BE(this.#rtpTs(s, nowMs), 16);
      sr.writeUInt32BE(s.packets >>> 0, 20);
      sr.writeUInt32BE(s.octets >>> 0, 24);
      this.#send(sr);
    }
  }

  /** Answer PLI (PT 206 FMT 1) and FIR (PT 206 FMT 4) with a key frame on the next packet. */
  #onRtcp(msg: Buffer): void {
    let off = 0;
    while (off + 4 <= msg.length) {
      const fmt = msg[off]! & 0x1f;
      const pt = msg[off + 1]!;
      const len = (msg.readUInt16BE(off + 2) + 1) * 4;
      if (pt === 206 && off + 12 <= msg.length) {
        const targets: number[] = [];
        if (fmt === 1) targets.push(msg.readUInt32BE(off + 8));
        if (fmt === 4)
          for (let i = off + 12; i + 8 <= off + len && i + 4 <= msg.length; i += 8) targets.push(msg.readUInt32BE(i));
        for (const ssrc of targets) {
          const s = this.#streams.get(ssrc);
          if (s?.video) {
            s.video.wantKey = true;
            this.keyFrameRequests.set(ssrc, (this.keyFrameRequests.get(ssrc) ?? 0) + 1);
          }
        }
      }
      if (len <= 0) break;
      off += len;
    }
  }
}

/** A UDP socket that counts the RTP it receives (the far end of a plain recv transport). */
export class RtpSink {
  readonly #socket: Socket;
  bytes = 0;
  packets = 0;
  readonly bySsrc = new Map<number, number>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (msg) => {
      if (msg.length < 12) return;
      const pt = msg[1]! & 0x7f;
      if (pt >= 72 && pt <= 79) return; // RTCP (rtcp-mux)
      this.bytes += msg.length;
      this.packets++;
      const ssrc = msg.readUInt32BE(8);
      this.bySsrc.set(ssrc, (this.bySsrc.get(ssrc) ?? 0) + 1);
    });
  }

  static async open(bindIp = '127.0.0.1'): Promise<RtpSink> {
    return new RtpSink(await bindUdp(bindIp));
  }

  get address(): { ip: string; port: number } {
    const a = this.#socket.address();
    return { ip: a.address, port: a.port };
  }

  close(): void {
    this.#socket.close();
  }
}

/** A UDP socket bound to an ephemeral port on `bindIp`; rejects if binding fails. */
async function bindUdp(bindIp: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, bindIp, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

const rand16 = () => Math.floor(Math.random() * 0x10000);
const rand32 = () => Math.floor(Math.random() * 0x100000000) >>> 0;
