/**
 * A recording of one MediaRoom: every recordable producer (VP8, VP9, Opus) of every peer, now and
 * as they come, each a track of segments (RecordingSegment: one WebM file each by its own ffmpeg).
 * A producer paused ends its segment and a resume starts the next; a producer closed and another
 * of the same peer, source and index (a replaced camera) continues the same track. Knows nothing
 * of people or storage: `sub` and `displayName` are the peers' opaque labels; the server keeps the
 * records and the files. A segment whose ffmpeg dies fails the whole recording (`failed`); the
 * owner then stops it, which ends every other segment gracefully.
 */
import path from 'node:path';
import type { MediaSource } from '@moim/protocol';
import { TypedEmitter } from '@moim/protocol';
import type { Producer } from 'mediasoup/types';
import type { SfuLogger } from './logging.ts';
import type { MediaRoom } from './MediaRoom.ts';
import type { Peer, ProducerEntry } from './Peer.ts';
import type { RecorderPorts } from './recorderPorts.ts';
import { isRecordable, type RecorderLimits, RecordingSegment } from './recordingSegment.ts';

export { RecorderPorts } from './recorderPorts.ts';
export { isRecordable, type RecorderLimits, RecordingSegment, sdpOf, udpPortBound } from './recordingSegment.ts';

export interface RecordedSegment {
  file: string;
  /** The file's path on this node. */
  path: string;
  producerId: string;
  startedAt: number;
  endedAt: number | null;
  /** `empty`: ended with nothing in its file (the producer was silent), left out of the manifest. */
  status: 'recording' | 'ok' | 'failed' | 'empty';
}

export interface RecordedTrack {
  track: string;
  peerId: string;
  sub: string;
  displayName: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  index: number;
  mimeType: string;
  segments: RecordedSegment[];
}

export interface RoomRecorderOptions {
  room: MediaRoom;
  /** Folder the files are written to (exists, the server's own). */
  dir: string;
  ports: RecorderPorts;
  limits: RecorderLimits;
  /** Tracks one recording takes at most; more producers are left out (logged). */
  maxTracks: number;
  log: SfuLogger;
}

export interface RoomRecorderEvents {
  /** A recorder died (its reason); the recording should be stopped and marked failed. */
  failed: (reason: string) => void;
  /** A segment started or ended. */
  changed: () => void;
}

interface TrackState {
  info: RecordedTrack;
  current: RecordingSegment | undefined;
  /** Start/stop of this track's segments, one after the other. */
  chain: Promise<void>;
}

export class RoomRecorder extends TypedEmitter<RoomRecorderEvents> {
  readonly #opts: RoomRecorderOptions;
  readonly #log: SfuLogger;
  readonly #tracks = new Map<string, TrackState>();
  readonly #segments = new Map<RecordingSegment, RecordedSegment>();
  readonly #detach: Array<() => void> = [];
  /** Segments whose ffmpeg is finishing. */
  readonly #ending = new Set<Promise<void>>();
  #stopped = false;
  #failed = false;

  constructor(opts: RoomRecorderOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.log.child({ recording: path.basename(opts.dir) });
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'recorder listener failed');
  }

  /** Record every producer of the room now and every one created until `stop`. */
  start(): void {
    const { room } = this.#opts;
    for (const peer of room.peers()) for (const entry of peer.producers.values()) this.#attach(peer, entry);
    const onProducer = (peer: Peer, entry: ProducerEntry) => this.#attach(peer, entry);
    room.on('producerAdded', onProducer);
    this.#detach.push(() => room.off('producerAdded', onProducer));
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The tracks and their segments so far. */
  tracks(): RecordedTrack[] {
    return [...this.#tracks.values()].map((t) => ({ ...t.info, segments: t.info.segments.map((s) => ({ ...s })) }));
  }

  /** The ffmpeg processes running now (tests kill one). */
  pids(): number[] {
    const out: number[] = [];
    for (const t of this.#tracks.values()) if (t.current?.pid !== undefined) out.push(t.current.pid);
    return out;
  }

  /** End every segment gracefully (each ffmpeg finishes its file). Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const d of this.#detach.splice(0)) d();
    await Promise.all(
      [...this.#tracks.values()].map((t) => {
        t.chain = t.chain.then(() => this.#endSegment(t));
        return t.chain;
      }),
    );
    await Promise.all([...this.#ending]);
  }

  #attach(peer: Peer, entry: ProducerEntry): void {
    if (this.#stopped) return;
    const { producer } = entry;
    if (!isRecordable(producer)) {
      this.#log.info(
        { producer: producer.id, mime: producer.rtpParameters.codecs[0]?.mimeType },
        'not recorded: codec',
      );
      return;
    }
    const key = `${peer.id} ${entry.source} ${entry.index}`;
    let track = this.#tracks.get(key);
    if (!track) {
      if (this.#tracks.size >= this.#opts.maxTracks) {
        this.#log.warn({ producer: producer.id, max: this.#opts.maxTracks }, 'not recorded: too many tracks');
        return;
      }
      track = {
        info: {
          track: `t${this.#tracks.size + 1}`,
          peerId: peer.id,
          sub: peer.sub,
          displayName: peer.displayName,
          kind: producer.kind,
          source: entry.source,
          index: entry.index,
          mimeType: producer.rtpParameters.codecs[0]!.mimeType,
          segments: [],
        },
        current: undefined,
        chain: Promise.resolve(),
      };
      this.#tracks.set(key, track);
    }
    const t = track;
    const queue = (step: () => Promise<void>) => {
      t.chain = t.chain.then(step);
    };
    const onPause = () => queue(() => this.#endSegment(t));
    const onResume = () => queue(() => this.#startSegment(t, producer));
    const onClose = () => {
      producer.observer.off('pause', onPause);
      producer.observer.off('resume', onResume);
      queue(() => this.#endSegment(t, producer.id));
    };
    producer.observer.on('pause', onPause);
    producer.observer.on('resume', onResume);
    producer.observer.once('close', onClose);
    this.#detach.push(() => {
      producer.observer.off('pause', onPause);
      producer.observer.off('resume', onResume);
      producer.observer.off('close', onClose);
    });
    if (!producer.paused) queue(() => this.#startSegment(t, producer));
  }

  async #startSegment(t: TrackState, producer: Producer): Promise<void> {
    if (this.#stopped || producer.closed || producer.paused) return;
    await this.#endSegment(t);
    const n = t.info.segments.length + 1;
    const file = `${t.info.track}-${n}.webm`;
    const filePath = path.join(this.#opts.dir, file);
    let seg: RecordingSegment;
    try {
      seg = await RecordingSegment.start({
        router: this.#opts.room.primaryRouter,
        producer,
        file: filePath,
        ports: this.#opts.ports,
        limits: this.#opts.limits,
        log: this.#log,
      });
    } catch (err) {
      if (producer.closed || this.#opts.room.closed) return; // it went away while starting: nothing to record
      this.#log.error({ err, producer: producer.id }, 'a recording segment could not start');
      this.#fail(`a recorder could not start: ${(err as Error).message}`);
      return;
    }
    const rec: RecordedSegment = {
      file,
      path: filePath,
      producerId: producer.id,
      startedAt: seg.startedAt,
      endedAt: null,
      status: 'recording',
    };
    t.info.segments.push(rec);
    this.#segments.set(seg, rec);
    t.current = seg;
    seg.once('died', (reason) => {
      rec.status = 'failed';
      rec.endedAt = seg.endedAt;
      if (t.current === seg) t.current = undefined;
      this.#fail(reason);
    });
    // the producer went silent without a pause: that file is complete; the next one waits for it
    seg.once('idle', () => {
      rec.status = 'ok';
      rec.endedAt = seg.endedAt;
      if (t.current !== seg) return;
      t.current = undefined;
      this.safeEmit('changed');
      t.chain = t.chain.then(() => this.#startSegment(t, producer));
    });
    this.safeEmit('changed');
    if (this.#stopped || producer.closed || producer.paused) await this.#endSegment(t);
  }

  /**
   * End the track's current segment. Its ffmpeg may take a while to finish (a paused producer
   * sends nothing), so the track does not wait: a resume starts the next segment meanwhile, and
   * `stop` waits for every ending.
   */
  async #endSegment(t: TrackState, producerId?: string): Promise<void> {
    const seg = t.current;
    if (!seg || (producerId && seg.producerId !== producerId)) return;
    t.current = undefined;
    const ending = seg.stop().then((status) => {
      const rec = this.#segments.get(seg);
      if (rec) {
        rec.status = rec.status === 'failed' ? 'failed' : status;
        rec.endedAt = seg.endedAt;
      }
      this.safeEmit('changed');
    });
    this.#ending.add(ending);
    const forget = () => this.#ending.delete(ending);
    // stop() awaits it (and its failure reaches whoever awaits); this only drops the book-keeping
    ending.then(forget, forget);
  }

  #fail(reason: string): void {
    if (this.#failed || this.#stopped) return;
    this.#failed = true;
    this.safeEmit('failed', reason);
  }
}
