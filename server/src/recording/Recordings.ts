/**
 * Meeting recordings: starting and stopping them (the rules in policy.ts), telling the room
 * (`room:recordingChanged`, also to anyone who joins while one runs), keeping the files (as blobs,
 * so every node of a cluster reads them; the record in the RecordingStore), the audited download,
 * and the retention sweep. The recording itself is the SFU's RoomRecorder (one ffmpeg process per
 * track segment, in a work folder under the data folder). A recorder that dies fails the whole
 * recording: every other segment is ended, its transports and ports freed, what was recorded kept,
 * and the room told. The running recordings of this node are a `Map` by room id.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  MoimError,
  RECORDING_KEEP_WAIT_MS,
  type RecordingInfo,
  type RecordingManifest,
  type RecordingPolicy,
  type RecordingResponses,
  type RecordingState,
  type RequestData,
  type RoomCloseReason,
  type Tier,
} from '@moim/protocol';
import {
  type MediaRoom,
  type Peer,
  type RecordedSegment,
  type RecordedTrack,
  type RecorderLimits,
  type RecorderPorts,
  RoomRecorder,
} from '@moim/sfu';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type {
  AuditStore,
  BlobStore,
  RecordingEnd,
  RecordingStore,
  RoomStore,
  StoredRecording,
  StoredRecordingFile,
} from '../storage/index.ts';
import type { Clock } from '../telework/Scheduler.ts';
import { assertMayDownload, assertMayRecord, assertMayStop, expiresAt } from './policy.ts';

export interface RecordingsOptions {
  store: RecordingStore;
  rooms: RoomStore;
  blobs: BlobStore;
  audit: AuditStore;
  /** The live SFU room of a room id on this node (a cluster relays requests to the room's home). */
  liveRoom: (roomId: string) => MediaRoom | undefined;
  policies: Record<Tier, RecordingPolicy>;
  /** The room's data-leak policy (policy/ContentPolicy.ts): `record` must be on to start (POLICY_FORBIDS). */
  contentPolicy?: { check(caller: Principal, kind: 'room', id: string, action: 'record'): Promise<unknown> };
  /** Work folder of running recordings (under the data folder, mode 0700). */
  dir: string;
  ports: RecorderPorts;
  limits: RecorderLimits;
  maxConcurrent: number;
  maxTracks: number;
  maxFileBytes: number;
  /** Record lifecycle times and retention (tests move a ManualClock). */
  clock: Clock;
  /** This node (its recordings are failed by the others when it dies). */
  nodeId: string;
  log: Logger;
}

interface Active {
  id: string;
  org: string;
  roomId: string;
  tier: Tier;
  startedBy: string;
  startedAt: number;
  room: MediaRoom;
  recorder: RoomRecorder;
  dir: string;
  detach: Array<() => void>;
  /** Settles when the recorders ended (their files complete), once the end began. */
  recorded: Promise<void> | undefined;
  /** What the room is told from the stop until the end is stored (the recorders finishing, the files kept). */
  saving: RecordingInfo | undefined;
  ending: Promise<RecordingInfo> | undefined;
}

const LIST_LIMIT = 100;
const SWEEP_BATCH = 100;

export class Recordings {
  readonly #opts: RecordingsOptions;
  readonly #log: Logger;
  /** Running recordings by room id (a room records once at a time). */
  readonly #active = new Map<string, Active>();
  /** Room ids whose start is under way (counted against the bound too). */
  readonly #starting = new Set<string>();
  #closed = false;

  constructor(opts: RecordingsOptions) {
    this.#opts = opts;
    this.#log = opts.log;
  }

  /** Recordings running on this node. */
  get running(): number {
    return this.#active.size;
  }

  /** Ports the recorders hold now (tests check none leak). */
  get portsInUse(): number[] {
    return this.#opts.ports.inUse;
  }

  /** The ffmpeg processes of the room's running recording (tests kill one). */
  recorderPids(roomId: string): number[] {
    return this.#active.get(roomId)?.recorder.pids() ?? [];
  }

  async start(caller: Principal, { roomId }: RequestData<'room:startRecording'>): Promise<RecordingInfo> {
    if (this.#closed) throw new MoimError('UNAVAILABLE', 'the server is shutting down');
    const org = caller.token.org;
    const record = await this.#roomRecord(org, roomId);
    const policy = this.#opts.policies[record.tier];
    assertMayRecord(caller, roomId, policy);
    await this.#opts.contentPolicy?.check(caller, 'room', roomId, 'record');
    if (record.closedAt !== null) throw new MoimError('ROOM_CLOSED', 'this room was closed');
    if (this.#active.has(roomId) || this.#starting.has(roomId))
      throw new MoimError('CONFLICT', 'this room is being recorded already');
    if (this.#active.size + this.#starting.size >= this.#opts.maxConcurrent)
      throw new MoimError(
        'TOO_MANY_RECORDINGS',
        `this server records at most ${this.#opts.maxConcurrent} meetings at once`,
      );
    const room = this.#opts.liveRoom(roomId);
    if (!room || room.closed) throw new MoimError('CONFLICT', 'nobody is in the room: there is nothing to record');

    this.#starting.add(roomId);
    try {
      const id = randomUUID();
      const dir = path.join(this.#opts.dir, id);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const startedAt = this.#opts.clock.now();
      const recorder = new RoomRecorder({
        room,
        dir,
        ports: this.#opts.ports,
        limits: this.#opts.limits,
        maxTracks: this.#opts.maxTracks,
        log: this.#log,
      });
      const active: Active = {
        id,
        org,
        roomId,
        tier: record.tier,
        startedBy: caller.sub,
        startedAt,
        room,
        recorder,
        dir,
        detach: [],
        recorded: undefined,
        saving: undefined,
        ending: undefined,
      };
      await this.#opts.store.create({
        id,
        org,
        roomId,
        tier: record.tier,
        startedBy: caller.sub,
        startedAt,
        state: 'recording',
        manifest: this.#manifest(active, null, []),
        nodeId: this.#opts.nodeId,
      });
      if (room.closed) {
        await this.#opts.store.finish(id, this.#end(active, 'failed', 'the room closed as the recording started', []));
        throw new MoimError('ROOM_CLOSED', 'the room closed');
      }
      this.#active.set(roomId, active);
      this.#watch(active);
      recorder.start();
      await this.#opts.audit.append({
        actor: caller.sub,
        action: 'recording.start',
        target: id,
        detail: { roomId, org },
      });
      this.#log.info({ recording: id, room: roomId, by: caller.sub }, 'recording started');
      const info = this.#liveInfo(active);
      this.#announce(active, info);
      return info;
    } finally {
      this.#starting.delete(roomId);
    }
  }

  async stop(caller: Principal, { roomId }: RequestData<'room:stopRecording'>): Promise<RecordingInfo> {
    const org = caller.token.org;
    await this.#roomRecord(org, roomId);
    assertMayStop(caller, roomId);
    const active = this.#active.get(roomId);
    if (!active || active.org !== org) throw new MoimError('NOT_FOUND', 'no recording of this room runs');
    await this.#opts.audit.append({
      actor: caller.sub,
      action: 'recording.stop',
      target: active.id,
      detail: { roomId, org },
    });
    const ending = this.#finish(active, 'stopped', null);
    // the answer is the end when the files are stored within RECORDING_KEEP_WAIT_MS of the recorders
    // ending; else `saving`, and the room hears the end when it comes
    let timer: NodeJS.Timeout | undefined;
    const kept = await Promise.race([
      ending,
      (active.recorded as Promise<void>).then(
        () =>
          new Promise<undefined>((resolve) => {
            timer = setTimeout(resolve, RECORDING_KEEP_WAIT_MS, undefined);
          }),
      ),
    ]).finally(() => clearTimeout(timer));
    if (kept) return kept;
    ending.catch((err: unknown) =>
      this.#log.error({ err, recording: active.id }, 'storing a stopped recording failed after its stop was answered'),
    );
    return active.saving as RecordingInfo;
  }

  async list(
    caller: Principal,
    { roomId }: RequestData<'room:recordings'>,
  ): Promise<RecordingResponses['room:recordings']> {
    caller.requireRoom(roomId, 'join');
    const org = caller.token.org;
    const record = await this.#roomRecord(org, roomId);
    const stored = await this.#opts.store.listForRoom(org, roomId, LIST_LIMIT);
    const active = this.#active.get(roomId);
    const recordings = stored.map((r) =>
      active && active.id === r.id ? (active.saving ?? this.#liveInfo(active)) : infoOf(r),
    );
    return { recordings, policy: this.#opts.policies[record.tier] };
  }

  /** The room a recording of the caller's organisation belongs to (NOT_FOUND otherwise). */
  async roomOf(caller: Principal, recordingId: string): Promise<string> {
    const rec = await this.#opts.store.get(caller.token.org, recordingId);
    if (!rec) throw new MoimError('NOT_FOUND', 'no such recording');
    return rec.roomId;
  }

  /** One stored file for a download (audited). FORBIDDEN / POLICY_FORBIDS by the tier's policy. */
  async download(
    caller: Principal,
    recordingId: string,
    file: string,
  ): Promise<{ stream: Readable; size: number; recording: StoredRecording }> {
    const org = caller.token.org;
    const rec = await this.#opts.store.get(org, recordingId);
    if (!rec) throw new MoimError('NOT_FOUND', 'no such recording');
    const room = await this.#opts.rooms.get(org, rec.roomId);
    assertMayDownload(caller, { roomId: rec.roomId, ownerSub: room?.ownerSub ?? '' }, this.#opts.policies[rec.tier]);
    const stored = rec.files.find((f) => f.file === file);
    if (!stored) throw new MoimError('NOT_FOUND', 'no such file in this recording');
    const blob = await this.#opts.blobs.get(stored.blobKey);
    if (!blob) throw new MoimError('NOT_FOUND', 'the file is gone');
    await this.#opts.audit.append({
      actor: caller.sub,
      action: 'recording.download',
      target: rec.id,
      detail: { roomId: rec.roomId, org, file },
    });
    return { stream: blob.stream, size: blob.size, recording: rec };
  }

  /** Delete the recordings past their retention (files, then records). Returns how many. */
  async sweep(now: number): Promise<number> {
    let done = 0;
    for (;;) {
      const batch = await this.#opts.store.expired(now, SWEEP_BATCH);
      for (const rec of batch) {
        for (const f of rec.files) await this.#opts.blobs.delete(f.blobKey);
        await this.#opts.store.delete(rec.id);
        await this.#opts.audit.append({
          actor: 'moim',
          action: 'recording.expire',
          target: rec.id,
          detail: { roomId: rec.roomId, org: rec.org, files: rec.files.length },
        });
        done++;
      }
      if (batch.length < SWEEP_BATCH) break;
    }
    if (done > 0) this.#log.info({ recordings: done }, 'recordings past their retention deleted');
    return done;
  }

  /** Records left `recording` by a node that stopped without ending them (single node: at start). */
  async failInterrupted(): Promise<number> {
    const n = await this.#opts.store.failRunning(this.#opts.clock.now() + 1, 'the server stopped while recording');
    if (n > 0) this.#log.warn({ recordings: n }, 'recordings interrupted by a stop marked failed');
    return n;
  }

  /** Node `nodeId` died (cluster): what it was recording is failed (its files were on that node). */
  async failNode(nodeId: string): Promise<number> {
    const n = await this.#opts.store.failRunningOn(nodeId, 'the node recording it stopped', this.#opts.clock.now());
    if (n > 0) this.#log.warn({ node: nodeId, recordings: n }, 'recordings of a dead node marked failed');
    return n;
  }

  /** End every running recording (its files are kept; it is marked failed: the server stopped). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#active.values()].map((a) =>
        this.#finish(a, 'failed', 'the server stopped').catch((err: unknown) =>
          this.#log.error({ err, recording: a.id }, 'ending a recording at shutdown failed'),
        ),
      ),
    );
  }

  // -------------------------------------------------------------------------------------------

  async #roomRecord(org: string, roomId: string) {
    const record = await this.#opts.rooms.get(org, roomId);
    if (!record) throw new MoimError('NOT_FOUND', 'no such room');
    return record;
  }

  #watch(active: Active): void {
    const { room, recorder } = active;
    const onClose = (reason: RoomCloseReason) => {
      const failure = reason === 'ROOM_CLOSED' ? null : `the room closed (${reason})`;
      this.#finishLogged(active, failure ? 'failed' : 'stopped', failure);
    };
    // a person joining while it runs or is being saved is told at once (after their join is answered:
    // the channel holds it)
    const onJoin = (peer: Peer) =>
      queueMicrotask(() => {
        const recording = active.saving ?? this.#liveInfo(active);
        peer.signal({ event: 'room:recordingChanged', payload: { roomId: active.roomId, recording } });
      });
    room.on('close', onClose);
    room.on('peerJoined', onJoin);
    recorder.on('failed', (reason) => this.#finishLogged(active, 'failed', reason));
    active.detach.push(
      () => room.off('close', onClose),
      () => room.off('peerJoined', onJoin),
      () => recorder.removeAllListeners(),
    );
  }

  #finishLogged(active: Active, state: 'stopped' | 'failed', failure: string | null): void {
    this.#finish(active, state, failure).catch((err: unknown) =>
      this.#log.error({ err, recording: active.id }, 'ending a recording failed'),
    );
  }

  /**
   * End a running recording once: tell the room it is `saving`, stop the recorders (`recorded`),
   * keep the files, store the end, tell the room.
   */
  #finish(active: Active, state: 'stopped' | 'failed', failure: string | null): Promise<RecordingInfo> {
    if (active.ending) return active.ending;
    const saving = this.#savingInfo(active);
    active.saving = saving;
    this.#announce(active, saving);
    const recorded = active.recorder.stop();
    active.recorded = recorded;
    active.ending = (async () => {
      let files: StoredRecordingFile[] = [];
      let end: RecordingEnd | undefined;
      try {
        await recorded;
        const tracks = active.recorder.tracks();
        files = await this.#keepFiles(active, tracks);
        end = this.#end(active, state, failure, tracks, files, saving.endedAt ?? undefined);
        if (!(await this.#opts.store.finish(active.id, end)))
          this.#log.warn({ recording: active.id }, 'the recording had ended already');
      } finally {
        // whatever failed above (the caller hears of it), the room may be recorded again; late
        // joiners were told of the saving until here
        for (const d of active.detach.splice(0)) d();
        this.#active.delete(active.roomId);
        if (end) await rm(active.dir, { recursive: true, force: true });
      }
      if (state === 'failed')
        await this.#opts.audit.append({
          actor: 'moim',
          action: 'recording.failed',
          target: active.id,
          detail: { roomId: active.roomId, org: active.org, failure },
        });
      this.#log.info(
        { recording: active.id, room: active.roomId, state, failure, files: files.length },
        'recording ended',
      );
      const info = infoOf({ ...this.#storedBase(active), ...(end as RecordingEnd) });
      this.#announce(active, info);
      return info;
    })();
    return active.ending;
  }

  /** Store each segment's file as a blob (readable from every node); a failure leaves that file out. */
  async #keepFiles(active: Active, tracks: RecordedTrack[]): Promise<StoredRecordingFile[]> {
    const files: StoredRecordingFile[] = [];
    for (const t of tracks)
      for (const seg of t.segments) {
        try {
          const size = (await stat(seg.path)).size;
          if (size === 0) {
            // nothing arrived: a stretch where the producer was silent (left out), or ffmpeg failed
            seg.status = seg.status === 'ok' ? 'empty' : 'failed';
            continue;
          }
          // one node: the file itself moves into the blob folder (no copy); a cluster copies it to PostgreSQL
          const blob = await this.#opts.blobs.putFile(seg.path, { maxBytes: this.#opts.maxFileBytes, size });
          files.push({ file: seg.file, blobKey: blob.key, bytes: blob.size });
        } catch (err) {
          seg.status = 'failed';
          this.#log.error({ err, recording: active.id, file: seg.file }, 'a recording file could not be kept');
        }
      }
    return files;
  }

  #end(
    active: Active,
    state: 'stopped' | 'failed',
    failure: string | null,
    tracks: RecordedTrack[],
    files: StoredRecordingFile[] = [],
    endedAt: number = this.#opts.clock.now(),
  ): RecordingEnd {
    return {
      state,
      endedAt,
      failure,
      expiresAt: expiresAt(endedAt, this.#opts.policies[active.tier]),
      manifest: this.#manifest(active, endedAt, tracks, files),
      files,
    };
  }

  #manifest(
    active: Active,
    endedAt: number | null,
    tracks: RecordedTrack[],
    files: StoredRecordingFile[] = [],
  ): RecordingManifest {
    const bytes = new Map(files.map((f) => [f.file, f.bytes]));
    return {
      recordingId: active.id,
      roomId: active.roomId,
      startedAt: active.startedAt,
      endedAt,
      tracks: tracks.map((t) => ({
        track: t.track,
        peerId: t.peerId,
        sub: t.sub,
        displayName: t.displayName,
        kind: t.kind,
        source: t.source,
        index: t.index,
        mimeType: t.mimeType,
        segments: t.segments
          .filter(
            (s): s is RecordedSegment & { status: Exclude<RecordedSegment['status'], 'empty'> } => s.status !== 'empty',
          )
          .map((s) => ({
            file: s.file,
            producerId: s.producerId,
            startedAt: s.startedAt,
            endedAt: s.endedAt,
            bytes: bytes.get(s.file) ?? 0,
            status: s.status === 'ok' && !bytes.has(s.file) && endedAt !== null ? ('failed' as const) : s.status,
          })),
      })),
    };
  }

  #storedBase(
    active: Active,
  ): Omit<StoredRecording, 'endedAt' | 'failure' | 'expiresAt' | 'files' | 'manifest' | 'state'> {
    return {
      id: active.id,
      org: active.org,
      roomId: active.roomId,
      tier: active.tier,
      startedBy: active.startedBy,
      startedAt: active.startedAt,
    };
  }

  #liveInfo(active: Active): RecordingInfo {
    return infoOf({
      ...this.#storedBase(active),
      state: 'recording',
      endedAt: null,
      failure: null,
      expiresAt: null,
      manifest: this.#manifest(active, null, active.recorder.tracks()),
      files: [],
    });
  }

  /** From the stop until its end is stored: it ended now; its recorders finish, its files are not kept yet. */
  #savingInfo(active: Active): RecordingInfo {
    return infoOf({
      ...this.#storedBase(active),
      state: 'saving',
      endedAt: this.#opts.clock.now(),
      failure: null,
      expiresAt: null,
      manifest: this.#manifest(active, null, active.recorder.tracks()),
      files: [],
    });
  }

  #announce(active: Active, recording: RecordingInfo): void {
    const { room } = active;
    if (room.closed) return;
    for (const peer of room.peers())
      peer.signal({ event: 'room:recordingChanged', payload: { roomId: active.roomId, recording } });
  }
}

function infoOf(r: Omit<StoredRecording, 'state'> & { state: RecordingState }): RecordingInfo {
  return {
    recordingId: r.id,
    roomId: r.roomId,
    state: r.state,
    startedBy: r.startedBy,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    failure: r.failure,
    expiresAt: r.expiresAt,
    manifest: r.manifest,
  };
}
