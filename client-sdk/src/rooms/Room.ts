/**
 * A joined video room (the SDK's `rooms`; the server's `media`, the SFU's `MediaRoom`, the web
 * app's `meeting`): its public API, the device and transports, the room's state and events, and
 * the rejoin after a reconnect or a dead worker. Kept apart: published tracks (LocalTracks.ts),
 * received tracks (RemoteTracks.ts), peers and room events (peers.ts), the server's media events
 * (mediaEvents.ts), capture (capture.ts), transports (transports.ts), video bindings
 * (VideoBindings.ts), the rejoin's retry policy (rejoin.ts), stats (stats.ts), types (types.ts).
 */
import type { ConsumerInfo, JoinResponse, MediaSource, RoomRecordInfo, TierClientProfile } from '@moim/protocol';
import { MoimError, TypedEmitter } from '@moim/protocol/client';
import type { Device, types } from 'mediasoup-client';
import { getLogger, type Logger, LoggerNames } from '../logger.ts';
import { type MoimClient, toMoimError } from '../MoimClient.ts';
import { captureCamera, captureMic, captureScreen, videoInputIds } from './capture.ts';
import { LocalTracks } from './LocalTracks.ts';
import { listenMediaEvents } from './mediaEvents.ts';
import { bufferRoomEvents, type EarlyEvent, ROOM_EVENTS, RoomPeers } from './peers.ts';
import type { RemoteTrack } from './RemoteTrack.ts';
import { RemoteTracks } from './RemoteTracks.ts';
import { retryRejoin } from './rejoin.ts';
import { type NetworkQuality, readNetworkQuality } from './stats.ts';
import { createTransport, restartIce, type TransportHost } from './transports.ts';
import type { LocalTrack, RemotePeer, RoomDeps, RoomEvents } from './types.ts';
import { VideoBindings } from './VideoBindings.ts';

export type { LocalTrack, RemotePeer, RoomDeps, RoomEvents } from './types.ts';

/**
 * A joined video room: mediasoup-client device and transports, local tracks (published with the
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
  readonly #peerList: RoomPeers;
  readonly #peers: RoomPeers['byId'];
  readonly #tracks: LocalTracks;
  readonly #receiving: RemoteTracks;
  readonly #remote: RemoteTracks['byId'];
  readonly #videos: VideoBindings;
  #handRaised = false;
  #closed = false;
  #busy: Promise<void> = Promise.resolve();
  #qualityTimer: ReturnType<typeof setInterval> | undefined;
  readonly #off: Array<() => void> = [];
  readonly #log: Logger;
  /** Bumped by each rejoin run, so that an older run waiting to retry gives way to a newer one. */
  #rejoinRun = 0;

  /** Join a room: load the device, create the receive transport, announce capabilities. */
  static async join(deps: RoomDeps, roomId: string, displayName?: string): Promise<Room> {
    // the server may announce another peer before it answers the join: replay such events
    const { early, stop } = bufferRoomEvents(deps.client, roomId);
    let res: JoinResponse;
    try {
      res = await deps.client.request('room:join', { roomId, ...(displayName ? { displayName } : {}) });
    } finally {
      stop();
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
    this.#tracks = new LocalTracks({
      client: this.#client,
      roomId: this.roomId,
      log: this.#log,
      emitter: this,
      stallCheckMs: deps.stallCheckMs,
      profile: () => this.#profile,
      closed: () => this.#closed,
      sendTransport: () => this.#sendTransport(),
      unpublish: (source, index) => this.unpublish(source, index),
    });
    this.#peerList = new RoomPeers(this, () => this.#peerId);
    this.#peers = this.#peerList.byId;
    this.#receiving = new RemoteTracks({
      client: this.#client,
      roomId: this.roomId,
      log: this.#log,
      emitter: this,
      peers: this.#peers,
      closed: () => this.#closed,
      recv: () => this.#recv,
      detachVideo: (consumerId) => this.detachVideo(consumerId),
    });
    this.#remote = this.#receiving.byId;
    this.#videos = new VideoBindings({
      log: this.#log,
      profile: () => this.#profile,
      closed: () => this.#closed,
      remote: (consumerId) => this.#remote.get(consumerId),
      setReceiving: (track, receiving) => this.setReceiving(track, receiving),
      setPreferredLayer: (track, layer) => this.setPreferredLayer(track, layer),
      error: (error) => this.#client.safeEmit('error', error),
    });
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
    return [...this.#tracks.byKey.values()].map((l) => l.info);
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
    const track = await captureCamera(this.#profile, opts.deviceId);
    return this.publishTrack(track, { source: 'camera', index: opts.index ?? 0 });
  }

  /** Publish several cameras at once (immersive): one per video input device, up to the tier's limit. */
  async publishCameras(deviceIds?: string[]): Promise<LocalTrack[]> {
    const ids = deviceIds ?? (await videoInputIds());
    const max = this.#profile.maxProducersPerSource.camera;
    const out: LocalTrack[] = [];
    for (const [index, deviceId] of ids.slice(0, max).entries())
      out.push(await this.publishCamera({ deviceId, index }));
    return out;
  }

  async publishMic(opts: { deviceId?: string } = {}): Promise<LocalTrack> {
    const track = await captureMic(this.#profile, opts.deviceId);
    return this.publishTrack(track, { source: 'mic', index: 0 });
  }

  /** Share the screen (the browser asks which one); ends when the person stops sharing. */
  async publishScreen(): Promise<LocalTrack> {
    return this.publishTrack(await captureScreen(), { source: 'screen', index: 0 });
  }

  /** Publish any track (the tier's encodings are applied to video). */
  publishTrack(
    track: MediaStreamTrack,
    opts: { source: MediaSource; index?: number; paused?: boolean },
  ): Promise<LocalTrack> {
    return this.#serial(() => this.#tracks.produce(track, opts.source, opts.index ?? 0, opts.paused ?? false));
  }

  /** Stop publishing a source (the track is stopped). */
  unpublish(source: MediaSource, index = 0): Promise<void> {
    return this.#serial(() => this.#tracks.unpublish(source, index));
  }

  /** Mute or unmute (pause or resume) a published source; camera off is `setPaused('camera', true)`. */
  async setPaused(source: MediaSource, paused: boolean, index = 0): Promise<void> {
    await this.#busy;
    await this.#tracks.setPaused(source, paused, index);
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
    await this.#tracks.switchDevice(source, deviceId, index);
  }

  /** The browser's current send parameters of a published source (encodings as configured). */
  senderParameters(source: MediaSource, index = 0): RTCRtpSendParameters | undefined {
    return this.#tracks.get(source, index)?.producer.rtpSender?.getParameters();
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
    return this.#videos.attach(track, element);
  }

  detachVideo(consumerId: string): void {
    this.#videos.detach(consumerId);
  }

  /** Ask for a simulcast layer yourself (0 = lowest). */
  async setPreferredLayer(track: RemoteTrack, spatialLayer: number): Promise<void> {
    await this.#receiving.setPreferredLayer(track, spatialLayer);
  }

  /** Pause or resume receiving one remote track (both here and on the server). */
  async setReceiving(track: RemoteTrack, receiving: boolean): Promise<void> {
    await this.#receiving.setReceiving(track, receiving);
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
    this.#peerList.add(res.peers);
    this.#recv = await this.#createTransport('recv');
    await this.#client.request('media:setCapabilities', {
      roomId: this.roomId,
      rtpCapabilities: device.recvRtpCapabilities as never,
    });
    await this.#tracks.publishAgain();
    this.#startQuality();
  }

  /** What the transports need from this room. */
  get #transportHost(): TransportHost {
    return { client: this.#client, roomId: this.roomId, closed: () => this.#closed };
  }

  #createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    return createTransport(this.#transportHost, this.#device!, this.#iceServers, direction);
  }

  #restartIce(transport: types.Transport): Promise<void> {
    return restartIce(this.#transportHost, transport);
  }

  async #sendTransport(): Promise<types.Transport> {
    if (this.#send && !this.#send.closed) return this.#send;
    this.#sendCreating ??= this.#createTransport('send').finally(() => {
      this.#sendCreating = undefined;
    });
    this.#send = await this.#sendCreating;
    return this.#send;
  }

  #onNewConsumer(e: ConsumerInfo & { roomId: string }, ack: (ok: unknown) => void): Promise<void> {
    return this.#receiving.consume(e, ack);
  }

  #dropRemote(consumerId: string): void {
    this.#receiving.drop(consumerId);
  }

  /** Room-level events (peers, hands, removal, closure); also replayed when they came before the join answer. */
  #roomEvent(e: EarlyEvent): void {
    if (e.payload.roomId !== this.roomId || this.#closed) return;
    switch (e.event) {
      case 'room:peerJoined': {
        this.#peerList.joined(e.payload.peer);
        return;
      }
      case 'room:peerLeft': {
        const { peerId, reason } = e.payload;
        if (!this.#peerList.left(peerId)) return;
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
      ...listenMediaEvents({
        client: c,
        emitter: this,
        mine,
        local: this.#tracks.byKey,
        remote: this.#remote,
        dropRemote: (consumerId) => this.#dropRemote(consumerId),
        onNewConsumer: (e, ack) => this.#onNewConsumer(e, ack),
      }),
    );
    const onReconnecting = () => {
      if (!this.#closed) this.safeEmit('reconnecting');
    };
    c.on('reconnecting', onReconnecting);
    this.#off.push(() => c.off('reconnecting', onReconnecting));
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
    await retryRejoin({
      attempts: this.#deps.rejoinAttempts,
      delayMs: this.#deps.rejoinDelayMs,
      why,
      log: this.#log,
      attempt: () => this.#serial(() => this.#rejoin(tryResume)),
      stale: () => this.#closed || run !== this.#rejoinRun,
      connected: () => this.#client.connected,
      giveUp: (attempts, error) => this.#giveUp(why, attempts, error),
    });
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
    this.#peerList.clearAnnounced();
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
    this.#tracks.keepOnly(new Set((res.producers ?? []).map((p) => p.producerId)));
    await this.#tracks.publishAgain();
    // consumers: drop the ones the server closed, take the ones whose event we missed
    await this.#receiving.reconcile(res.consumers ?? []);
    this.#peerList.reconcile(res.peers);
  }

  async #rebuild(res: JoinResponse): Promise<void> {
    this.#tracks.takeAllDown();
    this.#stopQuality();
    for (const t of [this.#send, this.#recv]) t?.close();
    this.#send = undefined;
    this.#recv = undefined;
    this.#receiving.dropAll();
    this.#peerId = res.peerId;
    this.#peerList.reconcile(res.peers);
    await this.#setUp(res);
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
    this.#videos.stopWatchingVisibility();
    for (const off of this.#off.splice(0)) off();
    this.#videos.detachAll();
    this.#tracks.closeAll();
    this.#send?.close();
    this.#recv?.close();
    this.#receiving.dropAll();
    this.#deps.onClosed(this);
    this.safeEmit('closed', error ? { reason, error } : { reason });
  }

  /** Close locally without telling the server (the client is closing). */
  dispose(): void {
    this.#dispose('client closed');
  }
}
