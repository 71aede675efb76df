/**
 * One recording segment: one producer's RTP, copied without re-encoding into one WebM file by a
 * separate `ffmpeg` process. A PlainTransport (comedia off, RTCP on its own port) sends to the
 * ports ffmpeg listens on (a pair from the configured range, see RecorderPorts); the consumer
 * starts paused and is resumed only once ffmpeg listens, then a key frame is asked for (and
 * again periodically), so the file starts with one. ffmpeg runs under `nice` and `prlimit`
 * (address space, open files) and is stopped gracefully (SIGINT: it writes the WebM's cues and
 * duration; SIGKILL after a timeout). Its unexpected death is reported (`died`); the transport
 * and the ports are freed either way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { TypedEmitter } from '@moim/protocol';
import type { Consumer, PlainTransport, Producer, Router, RtpCodecParameters } from 'mediasoup/types';
import { SfuError } from './errors.ts';
import type { SfuLogger } from './logging.ts';
import type { RecorderPorts } from './recorderPorts.ts';

/** Codecs recorded (copied into WebM); anything else (H264) is not recorded. */
export const RECORDABLE_MIME_TYPES: ReadonlySet<string> = new Set(['video/vp8', 'video/vp9', 'audio/opus']);

export function isRecordable(producer: Producer): boolean {
  const codec = producer.rtpParameters.codecs[0];
  return codec !== undefined && RECORDABLE_MIME_TYPES.has(codec.mimeType.toLowerCase());
}

export interface RecorderLimits {
  /** The ffmpeg binary. @default '/usr/bin/ffmpeg' */
  ffmpegPath: string;
  /** `nice` level of ffmpeg (0–19). */
  niceLevel: number;
  /** Address-space bound of one ffmpeg process (bytes, `prlimit --as`). 0: none. */
  maxMemoryBytes: number;
  /** Ask the producer for a key frame this often (ms) besides the first. */
  keyFrameIntervalMs: number;
  /** How long ffmpeg may take to listen before the segment fails. */
  startTimeoutMs: number;
  /** How long a graceful stop may take before SIGKILL. */
  stopTimeoutMs: number;
  /** Loopback address both ends use. */
  ip: string;
}

export interface SegmentEvents {
  /** ffmpeg ended without being asked to (killed, crashed). The segment is already torn down. */
  died: (reason: string) => void;
  /**
   * ffmpeg ended cleanly by itself: its input was silent for its idle timeout (10 s; the producer
   * sends nothing though it is not paused). The file is complete; the segment is torn down.
   */
  idle: () => void;
}

export interface SegmentOptions {
  router: Router;
  producer: Producer;
  /** The WebM file to write (created 0600 first; ffmpeg writes into it). */
  file: string;
  ports: RecorderPorts;
  limits: RecorderLimits;
  log: SfuLogger;
}

export class RecordingSegment extends TypedEmitter<SegmentEvents> {
  readonly file: string;
  readonly producerId: string;
  readonly mimeType: string;
  /** Wall-clock ms when the consumer was resumed (the first packet asked for). */
  startedAt = 0;
  endedAt: number | null = null;
  readonly #opts: SegmentOptions;
  readonly #log: SfuLogger;
  #transport: PlainTransport | undefined;
  #consumer: Consumer | undefined;
  #proc: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #port: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #stopped: Promise<'ok' | 'failed'> | undefined;
  #died = false;
  #stderr = '';

  private constructor(opts: SegmentOptions, mimeType: string) {
    super();
    this.#opts = opts;
    this.file = opts.file;
    this.producerId = opts.producer.id;
    this.mimeType = mimeType;
    this.#log = opts.log.child({ producer: opts.producer.id, file: opts.file });
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'segment listener failed');
  }

  /** The ffmpeg process id (tests kill it), undefined once it ended. */
  get pid(): number | undefined {
    return this.#proc?.exitCode === null && this.#proc.signalCode === null ? this.#proc.pid : undefined;
  }

  /** The pair of ports ffmpeg listens on (RTP, RTP + 1 for RTCP), while the segment runs. */
  get port(): number | undefined {
    return this.#port;
  }

  /** Start a segment; it records once this resolves. Everything it took is freed when it fails. */
  static async start(opts: SegmentOptions): Promise<RecordingSegment> {
    const codec = opts.producer.rtpParameters.codecs[0];
    if (!codec || !RECORDABLE_MIME_TYPES.has(codec.mimeType.toLowerCase()))
      throw new SfuError('CODEC_NOT_ALLOWED', `only VP8, VP9 and Opus are recorded, not ${codec?.mimeType}`);
    const seg = new RecordingSegment(opts, codec.mimeType);
    try {
      await seg.#start();
      return seg;
    } catch (err) {
      await seg.#teardown();
      throw err;
    }
  }

  async #start(): Promise<void> {
    const { router, producer, limits, ports } = this.#opts;
    this.#port = await ports.take();
    const port = this.#port;
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: limits.ip },
      rtcpMux: false,
      comedia: false,
      appData: { recording: true },
    });
    this.#transport = transport;
    await transport.connect({ ip: limits.ip, port, rtcpPort: port + 1 });
    const consumer = await transport.consume({
      producerId: producer.id,
      rtpCapabilities: router.rtpCapabilities,
      paused: true,
    });
    this.#consumer = consumer;
    const sdpFile = `${this.file}.sdp`;
    await writeFile(sdpFile, sdpOf(consumer, limits.ip, port), { mode: 0o600 });
    // the file exists with the server's own mode before ffmpeg truncates and writes into it
    await (await open(this.file, 'w', 0o600)).close();
    this.#spawn(sdpFile);
    await this.#listening(port);
    await rm(sdpFile, { force: true });
    if (this.#died) throw new SfuError('MEDIA_ERROR', `ffmpeg ended at start: ${this.#stderr.slice(-300)}`);
    await consumer.resume();
    this.startedAt = Date.now();
    if (consumer.kind === 'video') {
      await consumer.requestKeyFrame();
      this.#timer = setInterval(() => {
        if (this.#consumer && !this.#consumer.closed)
          this.#consumer
            .requestKeyFrame()
            .catch((err: unknown) => this.#log.warn({ err }, 'periodic key frame request failed'));
      }, limits.keyFrameIntervalMs);
      this.#timer.unref();
    }
    this.#log.info({ port, pid: this.#proc?.pid, mime: this.mimeType }, 'recording segment started');
  }

  #spawn(sdpFile: string): void {
    const { limits } = this.#opts;
    const ffmpeg = [
      limits.ffmpegPath,
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'warning',
      '-protocol_whitelist',
      'file,udp,rtp',
      '-i',
      sdpFile,
      '-map',
      '0',
      '-c',
      'copy',
      '-threads',
      '1',
      '-f',
      'webm',
      '-y',
      this.file,
    ];
    const niced = ['nice', '-n', String(limits.niceLevel), ...ffmpeg];
    const argv =
      limits.maxMemoryBytes > 0
        ? ['prlimit', `--as=${limits.maxMemoryBytes}`, '--nofile=64', '--core=0', '--', ...niced]
        : niced;
    const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#proc = proc;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-2000);
    });
    this.#exited = new Promise((resolve) => {
      proc.once('error', (err) => {
        this.#stderr += `\n${err.message}`;
        this.#onExit(null, null);
        resolve();
      });
      proc.once('exit', (code, signal) => {
        this.#onExit(code, signal);
        resolve();
      });
    });
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping || this.#died) return;
    if (code === 0 && signal === null && this.startedAt > 0) {
      this.#stopping = true;
      this.#log.info({}, 'recording ffmpeg ended: its input went silent');
      void this.#teardown().then(() => this.safeEmit('idle'));
      return;
    }
    this.#died = true;
    const reason = `ffmpeg ended (${signal ?? `code ${code}`})${this.#stderr ? `: ${this.#stderr.trim().slice(-200)}` : ''}`;
    this.#log.warn({ code, signal }, 'recording ffmpeg died');
    // torn down before anyone is told, so the ports and the transport are free when they hear it
    void this.#teardown().then(() => this.safeEmit('died', reason));
  }

  /** Wait until ffmpeg's RTP port is bound (it listens), or fail on its exit or the timeout. */
  async #listening(port: number): Promise<void> {
    const deadline = Date.now() + this.#opts.limits.startTimeoutMs;
    while (Date.now() < deadline) {
      if (this.#died) return;
      if (await udpPortBound(port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new SfuError(
      'MEDIA_ERROR',
      `ffmpeg did not listen on port ${port} within ${this.#opts.limits.startTimeoutMs} ms`,
    );
  }

  /** Stop gracefully: no more packets, then SIGINT (ffmpeg finishes the file), SIGKILL after the timeout. */
  stop(): Promise<'ok' | 'failed'> {
    this.#stopped ??= (async () => {
      const died = this.#died;
      this.#stopping = true;
      this.endedAt ??= Date.now();
      await this.#teardown();
      if (this.#stderr.trim()) this.#log.debug({ stderr: this.#stderr.trim().slice(-500) }, 'recording ffmpeg said');
      return died ? 'failed' : 'ok';
    })();
    return this.#stopped;
  }

  /**
   * End ffmpeg, then close the consumer and transport and free the ports. Idempotent. ffmpeg acts
   * on SIGINT at its next packet (it then writes the WebM's cues and duration), so the consumer
   * stays open until it exited: at once while media flows; a paused producer's ffmpeg ends by
   * itself after its input's 10 s idle timeout, or sooner when the producer resumes. SIGKILL after
   * `stopTimeoutMs`.
   */
  async #teardown(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.endedAt ??= Date.now();
    const proc = this.#proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGINT');
      const killer = setTimeout(() => proc.kill('SIGKILL'), this.#opts.limits.stopTimeoutMs);
      await this.#exited;
      clearTimeout(killer);
      if (proc.signalCode === 'SIGKILL')
        this.#log.warn({ pid: proc.pid }, 'recording ffmpeg did not end in time: killed');
    }
    this.#consumer?.close();
    this.#transport?.close();
    await rm(`${this.file}.sdp`, { force: true });
    if (this.#port !== undefined) this.#opts.ports.release(this.#port);
    this.#port = undefined;
  }

  /** Bytes written so far (0 when the file is gone). */
  async bytes(): Promise<number> {
    try {
      return (await stat(this.file)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }
}

/** The SDP ffmpeg reads: one m-line with the consumer's codec on `port` (RTCP on `port + 1`). */
export function sdpOf(consumer: Pick<Consumer, 'kind' | 'rtpParameters'>, ip: string, port: number): string {
  const codec = consumer.rtpParameters.codecs[0] as RtpCodecParameters;
  const name = codec.mimeType.split('/')[1]!;
  const channels = codec.channels && codec.channels > 1 ? `/${codec.channels}` : '';
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  return [
    'v=0',
    `o=- 0 0 IN IP4 ${ip}`,
    's=moim recording',
    `c=IN IP4 ${ip}`,
    't=0 0',
    `m=${consumer.kind} ${port} RTP/AVPF ${codec.payloadType}`,
    `a=rtcp:${port + 1}`,
    `a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${channels}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\n');
}

/** Whether a UDP socket is bound to local `port` (Linux: /proc/net/udp and udp6). */
export async function udpPortBound(port: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readFile(table, 'utf8').catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    });
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local && `${local.slice(local.indexOf(':'))} `.startsWith(hex)) return true;
    }
  }
  return false;
}
