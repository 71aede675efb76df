import type {
  ConsumerInfo,
  JoinResponse,
  MediaServerEvents,
  MediaSource,
  PeerInfo,
  RoomRecordInfo,
  TierClientProfile,
  TransportInfo,
} from '@moim/protocol';
import { MoimError, TypedEmitter } from '@moim/protocol/client';
import type { Device, types } from 'mediasoup-client';
import { getLogger, type Logger, LoggerNames } from '../logger.ts';
import { type MoimClient, toMoimError } from '../MoimClient.ts';
import { chooseSpatialLayer, toSendEncodings } from './layers.ts';
import { RemoteTrack } from './RemoteTrack.ts';
import { type NetworkQuality, readNetworkQuality } from './stats.ts';

type Args<E extends keyof MediaServerEvents> = Parameters<MediaServerEvents[E]>[0];

/** A track this client publishes. */
export interface LocalTrack {
  source: MediaSource;
  index: number;
  track: MediaStreamTrack;
  producerId: string;
  /** Paused by this client (muted / camera off) or by a moderator. */
  paused: boolean;
  /** The encodings handed to mediasoup-client (from the tier profile). */
  encodings: ReadonlyArray<Record<string, unknown>>;
}

export interface RemotePeer extends PeerInfo {}

export interface RoomEvents {
  peerJoined: (peer: RemotePeer) => void;
  peerLeft: (e: { peerId: string; reason: 'left' | 'removed' | 'timeout' | 'reconnect' }) => void;
  handRaised: (e: { peerId: string; raised: boolean }) => void;
  /** A remote track is ready to show or play (already resumed on the server). */
  track: (track: RemoteTrack) => void;
  trackEnded: (track: RemoteTrack) => void;
  /** A remote track was paused or resumed (by its sender or by this client). */
  trackPaused: (track: RemoteTrack) => void;
  trackResumed: (track: RemoteTrack) => void;
  layersChanged: (track: RemoteTrack) => void;
  localTrack: (track: LocalTrack) => void;
  localTrackEnded: (track: LocalTrack) => void;
  localTrackPaused: (track: LocalTrack & { byModerator: boolean }) => void;
  localTrackResumed: (track: LocalTrack) => void;
  /**
   * A published video track delivered no frame to its sender (a device the browser opens but
   * cannot encode, such as a depth camera). The app usually unpublishes it.
   */
  localTrackStalled: (track: LocalTrack) => void;
  activeSpeaker: (e: { peerId: string; producerId: string }) => void;
  audioLevels: (levels: Args<'media:audioLevels'>['levels']) => void;
  /** Periodic figures from WebRTC stats and the server's scores. */
  quality: (q: NetworkQuality) => void;
  /** The socket dropped; media may continue while the client reconnects. */
  reconnecting: () => void;
  /** Back in the room after a reconnect (`resumed`: the server kept this peer). */
  rejoined: (e: { resumed: boolean }) => void;
  /** A moderator removed me. The room object is closed. */
  removed: (e: { reason: string | null }) => void;
  /**
   * The room object is closed (left, removed, room closed, or `rejoin failed`: every attempt to
   * rejoin after a reconnect or a dead worker failed). `error` says what failed, when something did.
   */
  closed: (e: { reason: string; error?: MoimError }) => void;
}

export interface RoomDeps {
  client: MoimClient;
  createDevice: () => Promise<Device>;
  qualityIntervalMs: number;
  /** Check this long after publishing a video track that frames reach its sender (0: never). */
  stallCheckMs: number;
  /** Attempts at rejoining (after a reconnect or a dead worker) before the room closes. */
  rejoinAttempts: number;
  /** Wait before the second attempt; doubles for each further one. */
  rejoinDelayMs: number;
  onClosed: (room: Room) => void;
}

interface Attachment {
  element: HTMLElement;
  visible: boolean;
  resize?: ResizeObserver;
  intersect?: IntersectionObserver;
  timer?: ReturnType<typeof setTimeout>;
}

const ROOM_EVENTS = ['room:peerJoined', 'room:peerLeft', 'room:handRaised', 'room:removed', 'room:closed'] as const;
type RoomEventName = (typeof ROOM_EVENTS)[number];
type EarlyEvent = { [E in RoomEventName]: { event: E; payload: Args<E> } }[RoomEventName];

const PRODUCER_KEY = (source: MediaSource, index: number) => `${source}:${index}`;

/**
 * A joined media room: mediasoup-client device and transports, local tracks (published with the
 * tier's encodings), every remote producer consumed automatically, and the room's events.
 * After a reconnect the room is rejoined (resumed within the server's grace period, otherwise
 * rebuilt: new transports, local tracks published again, remote ones consumed again); a rejoin that
 * keeps failing closes the room with `rejoin failed` rather than leaving it half there.
 */
export class Room extends TypedEmitter<RoomEvents> {
  readonly roomId: string;
  readonly #deps: RoomDeps;
  readonly #client: MoimClient;
  #record: RoomRecordInfo;
  #profile: TierClientProfile;
  #peerId: string;
  #displayName: string | undefined;
  #device: Device | undefined;
  #iceServers: RTCIceServer[] = [];
  #send: types.Transport | undefined;
  #recv: types.Transport | undefined;
  #sendCreating: Promise<types.Transport> | undefined;
  readonly #peers = new Map<string, RemotePeer>();
  /** Peers announced by events since the last join answer (a rejoin's snapshot may predate them). */
  readonly #announced = new Set<string>();
  readonly #local = new Map<string, { info: LocalTrack; producer: types.Producer }>();
  /** Local tracks to publish again after a rejoin (kept across failed attempts; the room owns them). */
  readonly #republish: LocalTrack[] = [];
  readonly #remote = new Map<string, RemoteTrack>();
  readonly #attached = new Map<string, Attachment>();
  #handRaised = false;
  #closed = false;
  #busy: Promise<void> = Promise.resolve();
  #qualityTimer: ReturnType<typeof setInterval> | undefined;
  #offVisibility: (() => void) | undefined;
  readonly #off: Array<() => void> = [];
  readonly #log: Logger;
  /** Bumped by each rejoin run, so that an older run waiting to retry gives way to a newer one. */
  #rejoinRun = 0;

  /** Join a room: load the device, create the receive transport, announce capabilities. */
  static async join(deps: RoomDeps, roomId: string, displayName?: string): Promise<Room> {
    // the server may announce another peer before it answers the join: keep such events and
    // replay them once the room object exists
    const early: EarlyEvent[] = [];
    const offs = ROOM_EVENTS.map((event) =>
      deps.client.onServer(event, ((e: { roomId: string }) => {
        if (e.roomId === roomId) early.push({ event, payload: e } as EarlyEvent);
      }) as never),
    );
    let res: JoinResponse;
    try {
      res = await deps.client.request('room:join', { roomId, ...(displayName ? { displayName } : {}) });
    } finally {
      for (const off of offs) off();
    }
    const room = new Room(deps, res, displayName);
    for (const e of early) room.#roomEvent(e);
    try {
      await room.#setUp(res);
    } catch (err) {
      const error = toMoimError(err, 'MEDIA_ERROR');
      room.#dispose('join failed', error);
      // the caller gets the join's error; a failed leave only means the server keeps the peer for its grace period
      await deps.client
        .request('room:leave', { roomId })
        .catch((e: unknown) => room.#log.warn('leaving after a failed join failed', { error: e }));
      throw error;
    }
    return room;
  }

  private constructor(deps: RoomDeps, res: JoinResponse, displayName: string | undefined) {
    super();
    this.#deps = deps;
    this.#client = deps.client;
    this.roomId = res.room.roomId;
    this.#record = res.room;
    this.#profile = res.profile;
    this.#peerId = res.peerId;
    this.#displayName = displayName;
    this.#log = getLogger(LoggerNames.Room).withContext(() => ({ roomId: this.roomId, peerId: this.#peerId }));
    this.#listen();
  }

  get record(): RoomRecordInfo {
    return this.#record;
  }
  get tier(): RoomRecordInfo['tier'] {
    return this.#record.tier;
  }
  /** What this tier lets clients publish (encodings, largest video, stereo audio). */
  get profile(): TierClientProfile {
    return this.#profile;
  }
  get peerId(): string {
    return this.#peerId;
  }
  get closed(): boolean {
    return this.#closed;
  }
  get handRaised(): boolean {
    return this.#handRaised;
  }
  get peers(): ReadonlyMap<string, RemotePeer> {
    return this.#peers;
  }
  get localTracks(): LocalTrack[] {
    return [...this.#local.values()].map((l) => l.info);
  }
  get remoteTracks(): RemoteTrack[] {
    return [...this.#remote.values()];
  }
  /** The send and receive transports (for stats in tests and diagnostics). */
  get transports(): { send?: types.Transport; recv?: types.Transport } {
    return { ...(this.#send ? { send: this.#send } : {}), ...(this.#recv ? { recv: this.#recv } : {}) };
  }

  // ---------------------------------------------------------------------------------- publishing

  /** Capture and publish a camera (`index` for immersive rooms' several cameras). */
  async publishCamera(opts: { deviceId?: string; index?: number } = {}): Promise<LocalTrack> {
    const { width, height, frameRate } = this.#profile.maxVideo;
    const stream = await navigator.mediaDevices.getUserMedia({
      video: {
        ...(opts.deviceId ? { deviceId: { exact: opts.deviceId } } : {}),
        width: { ideal: width },
        height: { ideal: height },
        frameRate: { ideal: frameRate },
      },
    });
    return this.publishTrack(stream.getVideoTracks()[0]!, { source: 'camera', index: opts.index ?? 0 });
  }

  /** Publish several cameras at once (immersive): one per video input device, up to the tier's limit. */
  async publishCameras(deviceIds?: string[]): Promise<LocalTrack[]> {
    const ids =
      deviceIds ??
      (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').map((d) => d.deviceId);
    const max = this.#profile.maxProducersPerSource.camera;
    const out: LocalTrack[] = [];
    for (const [index, deviceId] of ids.slice(0, max).entries())
      out.push(await this.publishCamera({ deviceId, index }));
    return out;
  }

  async publishMic(opts: { deviceId?: string } = {}): Promise<LocalTrack> {
    const stereo = this.#profile.stereoAudio;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        ...(opts.deviceId ? { deviceId: { exact: opts.deviceId } } : {}),
        channelCount: stereo ? { ideal: 2 } : { ideal: 1 },
        // a room's mic array keeps its stereo image; a person's headset gets the usual processing
        echoCancellation: !stereo,
        noiseSuppression: !stereo,
        autoGainControl: !stereo,
      },
    });
    return this.publishTrack(stream.getAudioTracks()[0]!, { source: 'mic', index: 0 });
  }

  /** Share the screen (the browser asks which one); ends when the person stops sharing. */
  async publishScreen(): Promise<LocalTrack> {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    return this.publishTrack(stream.getVideoTracks()[0]!, { source: 'screen', index: 0 });
  }

  /** Publish any track (the tier's encodings are applied to video). */
  publishTrack(
    track: MediaStreamTrack,
    opts: { source: MediaSource; index?: number; paused?: boolean },
  ): Promise<LocalTrack> {
    return this.#serial(() => this.#produce(track, opts.source, opts.index ?? 0, opts.paused ?? false));
  }

  /** Stop publishing a source (the track is stopped). */
  unpublish(source: MediaSource, index = 0): Promise<void> {
    return this.#serial(async () => {
      const l = this.#local.get(PRODUCER_KEY(source, index));
      if (!l) return;
      this.#local.delete(PRODUCER_KEY(source, index));
      l.producer.close();
      l.info.track.stop();
      this.safeEmit('localTrackEnded', l.info);
      await this.#client.request('media:closeProducer', { roomId: this.roomId, producerId: l.info.producerId });
    });
  }

  /** Mute or unmute (pause or resume) a published source; camera off is `setPaused('camera', true)`. */
  async setPaused(source: MediaSource, paused: boolean, index = 0): Promise<void> {
    await this.#busy;
    const l = this.#local.get(PRODUCER_KEY(source, index));
    if (!l || l.info.paused === paused) return;
    if (paused) l.producer.pause();
    else l.producer.resume();
    l.info.paused = paused;
    await this.#client.request(paused ? 'media:pauseProducer' : 'media:resumeProducer', {
      roomId: this.roomId,
      producerId: l.info.producerId,
    });
    if (paused) this.safeEmit('localTrackPaused', { ...l.info, byModerator: false });
    else this.safeEmit('localTrackResumed', l.info);
  }

  setMicMuted(muted: boolean): Promise<void> {
    return this.setPaused('mic', muted);
  }

  setCameraOff(off: boolean, index = 0): Promise<void> {
    return this.setPaused('camera', off, index);
  }

  /** Switch a published source to another input device (same producer, new track). */
  async switchDevice(source: 'camera' | 'mic', deviceId: string, index = 0): Promise<void> {
    await this.#busy;
    const l = this.#local.get(PRODUCER_KEY(source, index));
    if (!l) throw new MoimError('NOT_FOUND', `nothing published for ${source} ${index}`);
    const { width, height, frameRate } = this.#profile.maxVideo;
    const stream = await navigator.mediaDevices.getUserMedia(
      source === 'camera'
        ? {
            video: {
              deviceId: { exact: deviceId },
              width: { ideal: width },
              height: { ideal: height },
              frameRate: { ideal: frameRate },
            },
          }
        : { audio: { deviceId: { exact: deviceId } } },
    );
    const track = source === 'camera' ? stream.getVideoTracks()[0]! : stream.getAudioTracks()[0]!;
    const old = l.info.track;
    await l.producer.replaceTrack({ track });
    l.info.track = track;
    this.#watchEnded(l.info);
    old.stop();
    this.safeEmit('localTrack', l.info);
  }

  /** The browser's current send parameters of a published source (encodings as configured). */
  senderParameters(source: MediaSource, index = 0): RTCRtpSendParameters | undefined {
    return this.#local.get(PRODUCER_KEY(source, index))?.producer.rtpSender?.getParameters();
  }

  async raiseHand(raised = true): Promise<void> {
    await this.#client.request('room:raiseHand', { roomId: this.roomId, raised });
    this.#handRaised = raised;
  }

  // -------------------------------------------------------------------------------- moderation

  mutePeer(peerId: string, producerId?: string): Promise<{ paused: string[] }> {
    return this.#client.request('room:mutePeer', {
      roomId: this.roomId,
      peerId,
      ...(producerId ? { producerId } : {}),
    });
  }
  stopVideo(peerId: string, producerId?: string): Promise<{ closed: string[] }> {
    return this.#client.request('room:stopVideo', {
      roomId: this.roomId,
      peerId,
      ...(producerId ? { producerId } : {}),
    });
  }
  removePeer(peerId: string, reason?: string): Promise<{ removed: boolean }> {
    return this.#client.request('room:removePeer', { roomId: this.roomId, peerId, ...(reason ? { reason } : {}) });
  }
  async closeRoom(): Promise<void> {
    await this.#client.request('room:close', { roomId: this.roomId });
  }

  // -------------------------------------------------------------------------------- receiving

  /**
   * Show a remote video in `element` (a `<video>`): attaches the track, asks for the simulcast
   * layer that fits the element's size, and pauses the consumer while the element is not visible
   * (scrolled away, hidden, or the page in the background). Returns the function that detaches.
   */
  attachVideo(track: RemoteTrack, element: HTMLVideoElement): () => void {
    this.detachVideo(track.consumerId);
    element.srcObject = new MediaStream([track.track]);
    element.muted = true;
    element.playsInline = true;
    void element.play().catch((error: unknown) => {
      // AbortError: a newer srcObject interrupted this play() (harmless). Anything else (autoplay
      // refused) leaves the element paused until the app calls play() on a user gesture.
      const aborted = (error as { name?: unknown } | null)?.name === 'AbortError';
      this.#log[aborted ? 'debug' : 'warn']('video element did not start playing', {
        consumerId: track.consumerId,
        error,
      });
    });
    const a: Attachment = { element, visible: true };
    this.#attached.set(track.consumerId, a);
    const update = () => {
      clearTimeout(a.timer);
      a.timer = setTimeout(() => void this.#applyView(track, a), 250);
    };
    if (typeof ResizeObserver !== 'undefined') {
      a.resize = new ResizeObserver(update);
      a.resize.observe(element);
    }
    if (typeof IntersectionObserver !== 'undefined') {
      a.intersect = new IntersectionObserver((entries) => {
        a.visible = entries.some((e) => e.isIntersecting);
        update();
      });
      a.intersect.observe(element);
    }
    update();
    return () => this.detachVideo(track.consumerId);
  }

  detachVideo(consumerId: string): void {
    const a = this.#attached.get(consumerId);
    if (!a) return;
    this.#attached.delete(consumerId);
    clearTimeout(a.timer);
    a.resize?.disconnect();
    a.intersect?.disconnect();
  }

  /** Ask for a simulcast layer yourself (0 = lowest). */
  async setPreferredLayer(track: RemoteTrack, spatialLayer: number): Promise<void> {
    if (track.preferredSpatialLayer === spatialLayer || track.closed || !track.layered) return;
    track.preferredSpatialLayer = spatialLayer;
    await this.#client.request('media:setPreferredLayers', {
      roomId: this.roomId,
      consumerId: track.consumerId,
      spatialLayer,
    });
  }

  /** Pause or resume receiving one remote track (both here and on the server). */
  async setReceiving(track: RemoteTrack, receiving: boolean): Promise<void> {
    if (track.locallyPaused === !receiving || track.closed) return;
    track.locallyPaused = !receiving;
    if (receiving) track.consumer.resume();
    else track.consumer.pause();
    await this.#client.request(receiving ? 'media:resumeConsumer' : 'media:pauseConsumer', {
      roomId: this.roomId,
      consumerId: track.consumerId,
    });
    if (receiving && track.kind === 'video')
      await this.#client
        .request('media:requestKeyFrame', { roomId: this.roomId, consumerId: track.consumerId })
        // best effort: without it the picture starts at the sender's next key frame (the SFU asks for one too)
        .catch((error: unknown) =>
          this.#log.debug('key frame request failed', { consumerId: track.consumerId, error }),
        );
    this.safeEmit(track.paused ? 'trackPaused' : 'trackResumed', track);
  }

  /** Current network figures (round trip, available bitrate, loss, decoded frames, scores). */
  quality(): Promise<NetworkQuality> {
    return readNetworkQuality(this.#send, this.#recv, this.remoteTracks);
  }

  /** Leave the room (local tracks are stopped). */
  async leave(): Promise<void> {
    if (this.#closed) return;
    this.#dispose('left');
    // left locally whatever the server answers; unacknowledged, the server ends the peer after its grace period
    await this.#client
      .request('room:leave', { roomId: this.roomId })
      .catch((error: unknown) => this.#log.warn('the server did not acknowledge leaving', { error }));
  }

  // ----------------------------------------------------------------------------------- internal

  /** Run one state-changing step at a time (publishing and rejoining never interleave). */
  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(step);
    this.#busy = run.then(
      () => undefined,
      // the step's failure goes to its caller through `run`; the queue only waits for it to settle
      () => undefined,
    );
    return run;
  }

  async #setUp(res: JoinResponse): Promise<void> {
    const device = await this.#deps.createDevice();
    await device.load({ routerRtpCapabilities: res.routerRtpCapabilities as types.RtpCapabilities });
    this.#device = device;
    this.#iceServers = res.iceServers.map((s) => ({ ...s }));
    for (const p of res.peers) {
      if (p.peerId === this.#peerId) continue;
      const known = this.#peers.has(p.peerId);
      this.#peers.set(p.peerId, { ...p });
      if (!known) this.safeEmit('peerJoined', { ...p });
    }
    this.#recv = await this.#createTransport('recv');
    await this.#client.request('media:setCapabilities', {
      roomId: this.roomId,
      rtpCapabilities: device.recvRtpCapabilities as never,
    });
    await this.#publishAgain();
    this.#startQuality();
  }

  /** Publish the tracks a rejoin took down (one stays listed until it is published, for the next attempt). */
  async #publishAgain(): Promise<void> {
    while (this.#republish.length > 0) {
      const l = this.#republish[0]!;
      if (l.track.readyState === 'ended') this.safeEmit('localTrackEnded', l);
      else await this.#produce(l.track, l.source, l.index, l.paused);
      this.#republish.shift();
    }
  }

  async #createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const info: TransportInfo = await this.#client.request('media:createTransport', {
      roomId: this.roomId,
      direction,
    });
    const options = {
      id: info.transportId,
      iceParameters: info.iceParameters as types.IceParameters,
      iceCandidates: info.iceCandidates as types.IceCandidate[],
      dtlsParameters: info.dtlsParameters as types.DtlsParameters,
      iceServers: this.#iceServers,
    };
    const device = this.#device!;
    const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#client
        .request('media:connectTransport', {
          roomId: this.roomId,
          transportId: transport.id,
          dtlsParameters: dtlsParameters as never,
        })
        .then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        const a = appData as { source: MediaSource; index: number; paused: boolean };
        this.#client
          .request('media:produce', {
            roomId: this.roomId,
            transportId: transport.id,
            kind,
            rtpParameters: rtpParameters as never,
            source: a.source,
            index: a.index,
            paused: a.paused,
          })
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    transport.on('connectionstatechange', (state) => {
      // a transport whose ICE failed while the socket is up: restart ICE once
      if (state === 'failed' && this.#client.connected && !this.#closed) void this.#restartIce(transport);
    });
    return transport;
  }

  async #restartIce(transport: types.Transport): Promise<void> {
    try {
      const { iceParameters } = await this.#client.request('media:restartIce', {
        roomId: this.roomId,
        transportId: transport.id,
      });
      await transport.restartIce({ iceParameters: iceParameters as types.IceParameters });
    } catch (err) {
      this.#client.safeEmit('error', toMoimError(err, 'MEDIA_ERROR'));
    }
  }

  async #sendTransport(): Promise<types.Transport> {
    if (this.#send && !this.#send.closed) return this.#send;
    this.#sendCreating ??= this.#createTransport('send').finally(() => {
      this.#sendCreating = undefined;
    });
    this.#send = await this.#sendCreating;
    return this.#send;
  }

  async #produce(track: MediaStreamTrack, source: MediaSource, index: number, paused: boolean): Promise<LocalTrack> {
    if (this.#closed) throw new MoimError('NOT_IN_ROOM', 'the room is closed');
    const key = PRODUCER_KEY(source, index);
    const existing = this.#local.get(key);
    if (existing && !existing.producer.closed) {
      if (existing.info.track === track) return existing.info;
      throw new MoimError('CONFLICT', `${source} ${index} is already published; unpublish it or switch devices`);
    }
    const transport = await this.#sendTransport();
    const video = track.kind === 'video';
    const encodings = video
      ? toSendEncodings(source === 'screen' ? this.#profile.screenEncodings : this.#profile.cameraEncodings)
      : undefined;
    const codecOptions: types.ProducerCodecOptions = video
      ? { videoGoogleStartBitrate: 1000 }
      : { opusStereo: this.#profile.stereoAudio, opusFec: true, opusDtx: !this.#profile.stereoAudio };
    const producer = await transport.produce({
      track,
      ...(encodings ? { encodings } : {}),
      codecOptions,
      // the room owns the tracks: a rebuilt transport publishes the same track again
      stopTracks: false,
      appData: { source, index, paused },
    });
    if (paused) producer.pause();
    const info: LocalTrack = {
      source,
      index,
      track,
      producerId: producer.id,
      paused,
      encodings: (encodings ?? []).map((e) => ({ ...e })),
    };
    this.#local.set(key, { info, producer });
    this.#watchEnded(info);
    if (video && this.#deps.stallCheckMs > 0) this.#watchStall(info, producer);
    this.safeEmit('localTrack', info);
    return info;
  }

  #watchStall(info: LocalTrack, producer: types.Producer): void {
    setTimeout(async () => {
      if (producer.closed || producer.paused || this.#closed) return;
      const stats = await producer.getStats().catch((error: unknown) => {
        // no stats (the producer closed meanwhile): no verdict rather than a false alarm
        this.#log.debug('stall check could not read stats', { producerId: producer.id, error });
        return undefined;
      });
      let frames = 0;
      stats?.forEach((s: Record<string, unknown>) => {
        if (s.type === 'media-source' && typeof s.frames === 'number') frames += s.frames;
        if (s.type === 'outbound-rtp' && typeof s.framesEncoded === 'number') frames += s.framesEncoded;
      });
      if (frames === 0 && !producer.closed) this.safeEmit('localTrackStalled', info);
    }, this.#deps.stallCheckMs);
  }

  #watchEnded(info: LocalTrack): void {
    const track = info.track;
    track.addEventListener(
      'ended',
      () => {
        const l = this.#local.get(PRODUCER_KEY(info.source, info.index));
        if (!l || l.info.track !== track || this.#closed) return;
        void this.unpublish(info.source, info.index).catch((error: unknown) =>
          // the producer is closed here already; the server's stays until the peer leaves
          this.#log.warn('unpublishing an ended track failed', { source: info.source, index: info.index, error }),
        );
      },
      { once: true },
    );
  }

  async #onNewConsumer(e: ConsumerInfo & { roomId: string }, ack: (ok: unknown) => void): Promise<void> {
    const recv = this.#recv;
    if (!recv || recv.closed || this.#closed) {
      ack({ ok: false });
      return;
    }
    try {
      const consumer = await recv.consume({
        id: e.consumerId,
        producerId: e.producerId,
        kind: e.kind,
        rtpParameters: e.rtpParameters as types.RtpParameters,
        streamId: `${e.peerId}-${e.source}-${e.index}`,
        appData: { peerId: e.peerId, source: e.source, index: e.index },
      });
      const track = new RemoteTrack(e, consumer);
      this.#remote.set(e.consumerId, track);
      const peer = this.#peers.get(e.peerId);
      if (peer && !peer.producers.some((p) => p.producerId === e.producerId))
        peer.producers.push({
          producerId: e.producerId,
          kind: e.kind,
          source: e.source,
          index: e.index,
          paused: e.producerPaused,
        });
      consumer.on('transportclose', () => this.#dropRemote(e.consumerId));
      ack({ ok: true });
      this.safeEmit('track', track);
    } catch (err) {
      ack({ ok: false });
      this.#client.safeEmit('error', toMoimError(err, 'CANNOT_CONSUME'));
      await this.#client
        .request('media:closeConsumer', { roomId: this.roomId, consumerId: e.consumerId })
        // the server's consumer stays paused (it was never resumed) until the peer leaves
        .catch((error: unknown) =>
          this.#log.warn('closing a consumer that failed here failed', { consumerId: e.consumerId, error }),
        );
    }
  }

  #dropRemote(consumerId: string): void {
    const t = this.#remote.get(consumerId);
    if (!t) return;
    this.#remote.delete(consumerId);
    this.detachVideo(consumerId);
    if (!t.consumer.closed) t.consumer.close();
    this.safeEmit('trackEnded', t);
  }

  async #applyView(track: RemoteTrack, a: Attachment): Promise<void> {
    if (track.closed || this.#attached.get(track.consumerId) !== a) return;
    const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
    const visible = a.visible && !hidden && a.element.isConnected;
    try {
      await this.setReceiving(track, visible);
      if (!visible) return;
      const rect = a.element.getBoundingClientRect();
      const dpr = typeof devicePixelRatio === 'number' ? devicePixelRatio : 1;
      if (track.source === 'camera' && track.layered && rect.width > 0) {
        const layer = chooseSpatialLayer(this.#profile.cameraEncodings, this.#profile.maxVideo, {
          width: rect.width * dpr,
          height: rect.height * dpr,
        });
        await this.setPreferredLayer(track, layer);
      }
    } catch (err) {
      if (!this.#closed) this.#client.safeEmit('error', toMoimError(err, 'MEDIA_ERROR'));
    }
  }

  /** Room-level events (peers, hands, removal, closure); also replayed when they came before the join answer. */
  #roomEvent(e: EarlyEvent): void {
    if (e.payload.roomId !== this.roomId || this.#closed) return;
    switch (e.event) {
      case 'room:peerJoined': {
        const peer = e.payload.peer;
        if (peer.peerId === this.#peerId) return;
        const known = this.#peers.has(peer.peerId);
        this.#peers.set(peer.peerId, { ...peer });
        this.#announced.add(peer.peerId);
        if (!known) this.safeEmit('peerJoined', { ...peer });
        return;
      }
      case 'room:peerLeft': {
        const { peerId, reason } = e.payload;
        this.#announced.delete(peerId);
        if (!this.#peers.delete(peerId)) return;
        for (const t of [...this.#remote.values()]) if (t.peerId === peerId) this.#dropRemote(t.consumerId);
        this.safeEmit('peerLeft', { peerId, reason });
        return;
      }
      case 'room:handRaised': {
        const { peerId, raised } = e.payload;
        if (peerId === this.#peerId) this.#handRaised = raised;
        const peer = this.#peers.get(peerId);
        if (peer) peer.handRaised = raised;
        this.safeEmit('handRaised', { peerId, raised });
        return;
      }
      case 'room:removed':
        this.safeEmit('removed', { reason: e.payload.reason });
        this.#dispose('removed');
        return;
      case 'room:closed':
        // the worker died: join again and the room is re-created on a live worker
        if (e.payload.reason === 'WORKER_DIED') {
          this.#log.info("the room's media worker died; rejoining");
          void this.#rejoinOrClose(false, 'worker died');
        } else this.#dispose(e.payload.reason);
        return;
    }
  }

  #listen(): void {
    const mine = (e: { roomId: string }) => e.roomId === this.roomId && !this.#closed;
    const c = this.#client;
    for (const event of ROOM_EVENTS)
      this.#off.push(
        c.onServer(event, ((payload: EarlyEvent['payload']) =>
          this.#roomEvent({ event, payload } as EarlyEvent)) as never),
      );
    this.#off.push(
      c.onServer('media:newConsumer', (e, ack) => {
        if (!mine(e)) return;
        void this.#onNewConsumer(e, ack);
      }),
      c.onServer('media:consumerClosed', (e) => {
        if (mine(e)) this.#dropRemote(e.consumerId);
      }),
      c.onServer('media:producerPaused', (e) => {
        if (!mine(e)) return;
        if (e.consumerId) {
          const t = this.#remote.get(e.consumerId);
          if (!t) return;
          t.producerPaused = true;
          this.safeEmit('trackPaused', t);
          return;
        }
        for (const l of this.#local.values()) {
          if (l.info.producerId !== e.producerId) continue;
          l.producer.pause();
          l.info.paused = true;
          this.safeEmit('localTrackPaused', { ...l.info, byModerator: e.byModerator === true });
        }
      }),
      c.onServer('media:producerResumed', (e) => {
        if (!mine(e) || !e.consumerId) return;
        const t = this.#remote.get(e.consumerId);
        if (!t) return;
        t.producerPaused = false;
        if (!t.paused) this.safeEmit('trackResumed', t);
      }),
      c.onServer('media:producerClosed', (e) => {
        if (!mine(e)) return;
        for (const [key, l] of this.#local) {
          if (l.info.producerId !== e.producerId) continue;
          this.#local.delete(key);
          l.producer.close();
          l.info.track.stop();
          this.safeEmit('localTrackEnded', l.info);
        }
      }),
      c.onServer('media:activeSpeaker', (e) => {
        if (mine(e)) this.safeEmit('activeSpeaker', { peerId: e.peerId, producerId: e.producerId });
      }),
      c.onServer('media:audioLevels', (e) => {
        if (mine(e)) this.safeEmit('audioLevels', e.levels);
      }),
      c.onServer('media:consumerLayersChanged', (e) => {
        if (!mine(e)) return;
        const t = this.#remote.get(e.consumerId);
        if (!t) return;
        t.spatialLayer = e.spatialLayer;
        t.temporalLayer = e.temporalLayer;
        this.safeEmit('layersChanged', t);
      }),
      c.onServer('media:consumerScore', (e) => {
        if (!mine(e)) return;
        const t = this.#remote.get(e.consumerId);
        if (!t) return;
        t.score = e.score;
        t.producerScore = e.producerScore;
      }),
    );
    const onReconnecting = () => {
      if (!this.#closed) this.safeEmit('reconnecting');
    };
    c.on('reconnecting', onReconnecting);
    this.#off.push(() => c.off('reconnecting', onReconnecting));
    if (typeof document !== 'undefined') {
      const onVis = () => {
        for (const [id, a] of this.#attached) {
          const t = this.#remote.get(id);
          if (t) void this.#applyView(t, a);
        }
      };
      document.addEventListener('visibilitychange', onVis);
      this.#offVisibility = () => document.removeEventListener('visibilitychange', onVis);
    }
  }

  /**
   * Back after a reconnect (or a dead worker): resume the server's peer when it still exists
   * (restart ICE, reconcile producers and consumers); otherwise build everything again.
   */
  async restore(): Promise<void> {
    if (this.#closed) return;
    await this.#rejoinOrClose(true, 'reconnected');
  }

  /**
   * Rejoin (resuming when `tryResume`), `rejoinAttempts` attempts in all with a doubling delay.
   * When all fail, the room closes (`closed` with reason `rejoin failed` and the error, and the
   * client's `error`) instead of staying neither closed nor rejoined. A connection that drops
   * meanwhile ends the attempts: the reconnect restores the room.
   */
  async #rejoinOrClose(tryResume: boolean, why: string): Promise<void> {
    const run = ++this.#rejoinRun;
    const attempts = Math.max(1, this.#deps.rejoinAttempts);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#serial(() => this.#rejoin(tryResume));
        return;
      } catch (err) {
        const error = toMoimError(err, 'MEDIA_ERROR');
        if (this.#closed || run !== this.#rejoinRun) return;
        if (!this.#client.connected) {
          this.#log.info('rejoin interrupted by a dropped connection; the reconnect restores the room', {
            why,
            attempt,
            error,
          });
          return;
        }
        if (attempt >= attempts) {
          this.#giveUp(why, attempt, error);
          return;
        }
        const delayMs = this.#deps.rejoinDelayMs * 2 ** (attempt - 1);
        this.#log.warn('rejoin failed; retrying', { why, attempt, attempts, delayMs, error });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (this.#closed || run !== this.#rejoinRun) return;
      }
    }
  }

  #giveUp(why: string, attempts: number, error: MoimError): void {
    const e = new MoimError(
      error.code,
      `rejoining room ${this.roomId} (${why}) failed after ${attempts} attempt(s): ${error.message}`,
      { cause: error },
    );
    this.#log.warn('rejoin failed; closing the room', { why, attempts, error });
    this.#client.safeEmit('error', e);
    this.#dispose('rejoin failed', e);
    // a join that succeeded on the server before a later step failed here left a peer there
    void this.#client
      .request('room:leave', { roomId: this.roomId })
      .catch((err: unknown) => this.#log.debug('leave after a failed rejoin not acknowledged', { error: err }));
  }

  async #rejoin(tryResume: boolean): Promise<void> {
    if (this.#closed) return;
    let res: JoinResponse;
    this.#announced.clear();
    try {
      res = await this.#client.request('room:join', {
        roomId: this.roomId,
        ...(this.#displayName ? { displayName: this.#displayName } : {}),
        ...(tryResume ? { resume: { peerId: this.#peerId } } : {}),
      });
    } catch (err) {
      const e = toMoimError(err, 'MEDIA_ERROR');
      if (e.code === 'PEER_REMOVED' || e.code === 'ROOM_CLOSED' || e.code === 'NOT_FOUND' || e.code === 'FORBIDDEN') {
        if (e.code === 'PEER_REMOVED') this.safeEmit('removed', { reason: null });
        this.#dispose(e.code);
        return;
      }
      throw e;
    }
    this.#record = res.room;
    this.#profile = res.profile;
    if (res.resumed && this.#recv && !this.#recv.closed) await this.#resume(res);
    else await this.#rebuild(res);
    this.safeEmit('rejoined', { resumed: res.resumed });
  }

  async #resume(res: JoinResponse): Promise<void> {
    for (const t of [this.#send, this.#recv]) if (t && !t.closed) await this.#restartIce(t);
    // producers the server no longer has are published again
    const serverProducers = new Set((res.producers ?? []).map((p) => p.producerId));
    for (const [key, l] of [...this.#local]) {
      if (serverProducers.has(l.info.producerId)) continue;
      this.#local.delete(key);
      l.producer.close();
      this.#republish.push({ ...l.info });
    }
    await this.#publishAgain();
    // consumers: drop the ones the server closed, take the ones whose event we missed
    const serverConsumers = new Map((res.consumers ?? []).map((c) => [c.consumerId, c]));
    for (const id of [...this.#remote.keys()]) if (!serverConsumers.has(id)) this.#dropRemote(id);
    for (const c of serverConsumers.values()) {
      if (this.#remote.has(c.consumerId)) continue;
      await this.#onNewConsumer({ ...c, roomId: this.roomId }, () => {});
      await this.#client
        .request('media:resumeConsumer', { roomId: this.roomId, consumerId: c.consumerId })
        // the track is there but stays paused on the server until the app resumes it (setReceiving)
        .catch((error: unknown) =>
          this.#log.warn('resuming a consumer after a resume failed', { consumerId: c.consumerId, error }),
        );
    }
    this.#reconcilePeers(res.peers);
  }

  async #rebuild(res: JoinResponse): Promise<void> {
    this.#republish.push(...[...this.#local.values()].map((l) => ({ ...l.info })));
    this.#local.clear();
    this.#stopQuality();
    for (const t of [this.#send, this.#recv]) t?.close();
    this.#send = undefined;
    this.#recv = undefined;
    for (const id of [...this.#remote.keys()]) this.#dropRemote(id);
    this.#peerId = res.peerId;
    this.#reconcilePeers(res.peers);
    await this.#setUp(res);
  }

  #reconcilePeers(peers: PeerInfo[]): void {
    const now = new Set(peers.map((p) => p.peerId));
    for (const id of [...this.#peers.keys()]) {
      if (now.has(id) || this.#announced.has(id)) continue;
      this.#peers.delete(id);
      this.safeEmit('peerLeft', { peerId: id, reason: 'reconnect' });
    }
    for (const p of peers) {
      if (p.peerId === this.#peerId) continue;
      const known = this.#peers.has(p.peerId);
      this.#peers.set(p.peerId, { ...p });
      if (!known) this.safeEmit('peerJoined', { ...p });
    }
  }

  #startQuality(): void {
    this.#stopQuality();
    if (this.#deps.qualityIntervalMs <= 0) return;
    this.#qualityTimer = setInterval(() => {
      if (this.listenerCount('quality') === 0) return;
      this.quality().then(
        (q) => this.safeEmit('quality', q),
        // a best-effort poll: the next tick tries again
        (error: unknown) => this.#log.debug('quality poll failed', { error }),
      );
    }, this.#deps.qualityIntervalMs);
  }

  #stopQuality(): void {
    clearInterval(this.#qualityTimer);
    this.#qualityTimer = undefined;
  }

  /** Close everything locally (no requests). */
  #dispose(reason: string, error?: MoimError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#log.info('room closed', { reason, ...(error ? { error } : {}) });
    this.#stopQuality();
    this.#offVisibility?.();
    for (const off of this.#off.splice(0)) off();
    for (const id of [...this.#attached.keys()]) this.detachVideo(id);
    for (const l of this.#local.values()) {
      l.producer.close();
      l.info.track.stop();
    }
    this.#local.clear();
    for (const l of this.#republish.splice(0)) l.track.stop();
    this.#send?.close();
    this.#recv?.close();
    for (const id of [...this.#remote.keys()]) this.#dropRemote(id);
    this.#deps.onClosed(this);
    this.safeEmit('closed', error ? { reason, error } : { reason });
  }

  /** Close locally without telling the server (the client is closing). */
  dispose(): void {
    this.#dispose('client closed');
  }
}
