/**
 * The life of one joined room behind its public API (Room.ts): the join answer's state (record,
 * tier profile, peer id), the device and transports, the parts holding tracks and peers, the room's
 * server events, the set-up after a join, the rejoin after a reconnect or a dead worker (resumed or
 * rebuilt; the retry policy is in rejoin.ts), the quality poll, and closing locally. Steps that
 * change state run one at a time through `serial` (publishing and rejoining never interleave).
 */
import type { ConsumerInfo, JoinResponse, RecordingInfo, RoomRecordInfo, TierClientProfile } from '@moim/protocol';
import { MoimError } from '@moim/protocol/client';
import type { Device, types } from 'mediasoup-client';
import { getLogger, type Logger, LoggerNames } from '../logger.ts';
import { type MoimClient, toMoimError } from '../MoimClient.ts';
import { LocalTracks } from './LocalTracks.ts';
import { listenMediaEvents } from './mediaEvents.ts';
import { type EarlyEvent, ROOM_EVENTS, RoomPeers } from './peers.ts';
import { RemoteTracks } from './RemoteTracks.ts';
import type { Room } from './Room.ts';
import { retryRejoin } from './rejoin.ts';
import { type NetworkQuality, readNetworkQuality } from './stats.ts';
import { createTransport, restartIce, type TransportHost } from './transports.ts';
import type { RoomDeps } from './types.ts';
import { VideoBindings } from './VideoBindings.ts';

export class RoomSession {
  readonly roomId: string;
  readonly client: MoimClient;
  readonly log: Logger;
  readonly peerList: RoomPeers;
  readonly tracks: LocalTracks;
  readonly receiving: RemoteTracks;
  readonly videos: VideoBindings;
  /** The room whose events this session emits. */
  readonly #room: Room;
  readonly #deps: RoomDeps;
  #record: RoomRecordInfo;
  #profile: TierClientProfile;
  #peerId: string;
  #displayName: string | undefined;
  #device: Device | undefined;
  #iceServers: RTCIceServer[] = [];
  #send: types.Transport | undefined;
  #recv: types.Transport | undefined;
  #sendCreating: Promise<types.Transport> | undefined;
  readonly #peers: RoomPeers['byId'];
  readonly #remote: RemoteTracks['byId'];
  #handRaised = false;
  /** The room's running recording, or the one being saved, as last told (`room:recordingChanged`). */
  recording: RecordingInfo | null = null;
  #closed = false;
  #busy: Promise<void> = Promise.resolve();
  #qualityTimer: ReturnType<typeof setInterval> | undefined;
  readonly #off: Array<() => void> = [];
  /** Bumped by each rejoin run, so that an older run waiting to retry gives way to a newer one. */
  #rejoinRun = 0;

  constructor(room: Room, deps: RoomDeps, res: JoinResponse, displayName: string | undefined) {
    this.#room = room;
    this.#deps = deps;
    this.client = deps.client;
    this.roomId = res.room.roomId;
    this.#record = res.room;
    this.#profile = res.profile;
    this.#peerId = res.peerId;
    this.#displayName = displayName;
    this.log = getLogger(LoggerNames.Room).withContext(() => ({ roomId: this.roomId, peerId: this.#peerId }));
    this.tracks = new LocalTracks({
      client: this.client,
      roomId: this.roomId,
      log: this.log,
      emitter: room,
      stallCheckMs: deps.stallCheckMs,
      profile: () => this.#profile,
      closed: () => this.#closed,
      sendTransport: () => this.#sendTransport(),
      unpublish: (source, index) => this.serial(() => this.tracks.unpublish(source, index)),
    });
    this.peerList = new RoomPeers(room, () => this.#peerId);
    this.#peers = this.peerList.byId;
    this.receiving = new RemoteTracks({
      client: this.client,
      roomId: this.roomId,
      log: this.log,
      emitter: room,
      peers: this.#peers,
      closed: () => this.#closed,
      recv: () => this.#recv,
      detachVideo: (consumerId) => this.videos.detach(consumerId),
    });
    this.#remote = this.receiving.byId;
    this.videos = new VideoBindings({
      log: this.log,
      profile: () => this.#profile,
      closed: () => this.#closed,
      remote: (consumerId) => this.#remote.get(consumerId),
      setReceiving: (track, receiving) => this.receiving.setReceiving(track, receiving),
      setPreferredLayer: (track, layer) => this.receiving.setPreferredLayer(track, layer),
      error: (error) => this.client.safeEmit('error', error),
    });
    this.#listen();
  }

  get record(): RoomRecordInfo {
    return this.#record;
  }
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
  /** Settles when the steps queued so far have (see `serial`). */
  get busy(): Promise<void> {
    return this.#busy;
  }
  get transports(): { send?: types.Transport; recv?: types.Transport } {
    return { ...(this.#send ? { send: this.#send } : {}), ...(this.#recv ? { recv: this.#recv } : {}) };
  }

  async raiseHand(raised: boolean): Promise<void> {
    await this.client.request('room:raiseHand', { roomId: this.roomId, raised });
    this.#handRaised = raised;
  }

  /** Current network figures (round trip, available bitrate, loss, decoded frames, scores). */
  quality(): Promise<NetworkQuality> {
    return readNetworkQuality(this.#send, this.#recv, [...this.#remote.values()]);
  }

  /** Run one state-changing step at a time (publishing and rejoining never interleave). */
  serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(step);
    this.#busy = run.then(
      () => undefined,
      // the step's failure goes to its caller through `run`; the queue only waits for it to settle
      () => undefined,
    );
    return run;
  }

  async setUp(res: JoinResponse): Promise<void> {
    const device = await this.#deps.createDevice();
    await device.load({ routerRtpCapabilities: res.routerRtpCapabilities as types.RtpCapabilities });
    this.#device = device;
    this.#iceServers = res.iceServers.map((s) => ({ ...s }));
    this.peerList.add(res.peers);
    this.#recv = await this.#createTransport('recv');
    await this.client.request('media:setCapabilities', {
      roomId: this.roomId,
      rtpCapabilities: device.recvRtpCapabilities as never,
    });
    await this.tracks.publishAgain();
    this.#startQuality();
  }

  /** What the transports need from this room. */
  get #transportHost(): TransportHost {
    return { client: this.client, roomId: this.roomId, closed: () => this.#closed };
  }

  #createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    return createTransport(this.#transportHost, this.#device!, this.#iceServers, direction, this.#deps.network());
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
    return this.receiving.consume(e, ack);
  }

  #dropRemote(consumerId: string): void {
    this.receiving.drop(consumerId);
  }

  /** Room-level events (peers, hands, removal, closure); also replayed when they came before the join answer. */
  roomEvent(e: EarlyEvent): void {
    if (e.payload.roomId !== this.roomId || this.#closed) return;
    switch (e.event) {
      case 'room:peerJoined': {
        this.peerList.joined(e.payload.peer);
        return;
      }
      case 'room:peerLeft': {
        const { peerId, reason } = e.payload;
        if (!this.peerList.left(peerId)) return;
        for (const t of [...this.#remote.values()]) if (t.peerId === peerId) this.#dropRemote(t.consumerId);
        this.#room.safeEmit('peerLeft', { peerId, reason });
        return;
      }
      case 'room:handRaised': {
        const { peerId, raised } = e.payload;
        if (peerId === this.#peerId) this.#handRaised = raised;
        const peer = this.#peers.get(peerId);
        if (peer) peer.handRaised = raised;
        this.#room.safeEmit('handRaised', { peerId, raised });
        return;
      }
      case 'room:removed':
        this.#room.safeEmit('removed', { reason: e.payload.reason });
        this.dispose('removed');
        return;
      case 'room:recordingChanged': {
        const { recording } = e.payload;
        this.recording = recording.state === 'recording' || recording.state === 'saving' ? recording : null;
        this.#room.safeEmit('recording', recording);
        return;
      }
      case 'room:closed':
        // the worker died: join again and the room is re-created on a live worker
        if (e.payload.reason === 'WORKER_DIED') {
          this.log.info("the room's media worker died; rejoining");
          void this.rejoinOrClose(false, 'worker died');
        } else this.dispose(e.payload.reason);
        return;
    }
  }

  #listen(): void {
    const mine = (e: { roomId: string }) => e.roomId === this.roomId && !this.#closed;
    const c = this.client;
    for (const event of ROOM_EVENTS)
      this.#off.push(
        c.onServer(event, ((payload: EarlyEvent['payload']) =>
          this.roomEvent({ event, payload } as EarlyEvent)) as never),
      );
    this.#off.push(
      ...listenMediaEvents({
        client: c,
        emitter: this.#room,
        mine,
        local: this.tracks.byKey,
        remote: this.#remote,
        dropRemote: (consumerId) => this.#dropRemote(consumerId),
        onNewConsumer: (e, ack) => this.#onNewConsumer(e, ack),
      }),
    );
    const onReconnecting = () => {
      if (!this.#closed) this.#room.safeEmit('reconnecting');
    };
    c.on('reconnecting', onReconnecting);
    this.#off.push(() => c.off('reconnecting', onReconnecting));
  }

  /**
   * Rejoin (resuming when `tryResume`), `rejoinAttempts` attempts in all with a doubling delay.
   * When all fail, the room closes (`closed` with reason `rejoin failed` and the error, and the
   * client's `error`) instead of staying neither closed nor rejoined. A connection that drops
   * meanwhile ends the attempts: the reconnect restores the room.
   */
  async rejoinOrClose(tryResume: boolean, why: string): Promise<void> {
    const run = ++this.#rejoinRun;
    await retryRejoin({
      attempts: this.#deps.rejoinAttempts,
      delayMs: this.#deps.rejoinDelayMs,
      why,
      log: this.log,
      attempt: () => this.serial(() => this.#rejoin(tryResume)),
      stale: () => this.#closed || run !== this.#rejoinRun,
      connected: () => this.client.connected,
      giveUp: (attempts, error) => this.#giveUp(why, attempts, error),
    });
  }

  #giveUp(why: string, attempts: number, error: MoimError): void {
    const e = new MoimError(
      error.code,
      `rejoining room ${this.roomId} (${why}) failed after ${attempts} attempt(s): ${error.message}`,
      { cause: error },
    );
    this.log.warn('rejoin failed; closing the room', { why, attempts, error });
    this.client.safeEmit('error', e);
    this.dispose('rejoin failed', e);
    // a join that succeeded on the server before a later step failed here left a peer there
    void this.client
      .request('room:leave', { roomId: this.roomId })
      .catch((err: unknown) => this.log.debug('leave after a failed rejoin not acknowledged', { error: err }));
  }

  async #rejoin(tryResume: boolean): Promise<void> {
    if (this.#closed) return;
    let res: JoinResponse;
    this.peerList.clearAnnounced();
    try {
      res = await this.client.request('room:join', {
        roomId: this.roomId,
        ...(this.#displayName ? { displayName: this.#displayName } : {}),
        ...(tryResume ? { resume: { peerId: this.#peerId } } : {}),
      });
    } catch (err) {
      const e = toMoimError(err, 'MEDIA_ERROR');
      if (e.code === 'PEER_REMOVED' || e.code === 'ROOM_CLOSED' || e.code === 'NOT_FOUND' || e.code === 'FORBIDDEN') {
        if (e.code === 'PEER_REMOVED') this.#room.safeEmit('removed', { reason: null });
        this.dispose(e.code);
        return;
      }
      throw e;
    }
    this.#record = res.room;
    this.#profile = res.profile;
    if (res.resumed && this.#recv && !this.#recv.closed) await this.#resume(res);
    else await this.#rebuild(res);
    this.#room.safeEmit('rejoined', { resumed: res.resumed });
  }

  async #resume(res: JoinResponse): Promise<void> {
    // the rejoin's TURN credentials for transports created from now on (restarts fetch their own)
    this.#iceServers = res.iceServers.map((s) => ({ ...s }));
    for (const t of [this.#send, this.#recv]) if (t && !t.closed) await this.#restartIce(t);
    // producers the server no longer has are published again
    this.tracks.keepOnly(new Set((res.producers ?? []).map((p) => p.producerId)));
    await this.tracks.publishAgain();
    // consumers: drop the ones the server closed, take the ones whose event we missed
    await this.receiving.reconcile(res.consumers ?? []);
    this.peerList.reconcile(res.peers);
  }

  async #rebuild(res: JoinResponse): Promise<void> {
    this.tracks.takeAllDown();
    this.#stopQuality();
    for (const t of [this.#send, this.#recv]) t?.close();
    this.#send = undefined;
    this.#recv = undefined;
    this.receiving.dropAll();
    this.#peerId = res.peerId;
    this.peerList.reconcile(res.peers);
    await this.setUp(res);
  }

  #startQuality(): void {
    this.#stopQuality();
    if (this.#deps.qualityIntervalMs <= 0) return;
    this.#qualityTimer = setInterval(() => {
      if (this.#room.listenerCount('quality') === 0) return;
      this.quality().then(
        (q) => this.#room.safeEmit('quality', q),
        // a best-effort poll: the next tick tries again
        (error: unknown) => this.log.debug('quality poll failed', { error }),
      );
    }, this.#deps.qualityIntervalMs);
  }

  #stopQuality(): void {
    clearInterval(this.#qualityTimer);
    this.#qualityTimer = undefined;
  }

  /** Close everything locally (no requests). */
  dispose(reason: string, error?: MoimError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.log.info('room closed', { reason, ...(error ? { error } : {}) });
    this.#stopQuality();
    this.videos.stopWatchingVisibility();
    for (const off of this.#off.splice(0)) off();
    this.videos.detachAll();
    this.tracks.closeAll();
    this.#send?.close();
    this.#recv?.close();
    this.receiving.dropAll();
    this.#deps.onClosed(this.#room);
    this.#room.safeEmit('closed', error ? { reason, error } : { reason });
  }
}
