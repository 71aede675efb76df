/**
 * A joined video room (the SDK's `rooms`; the server's `media`, the SFU's `MediaRoom`, the web
 * app's `meeting`): its public API — joining, publishing, moderation, receiving, leaving — over the
 * room's session (RoomSession.ts: state, device and transports, server events, set-up, the rejoin
 * after a reconnect or a dead worker, the quality poll, closing). Kept apart too: published tracks
 * (LocalTracks.ts), received tracks (RemoteTracks.ts), peers and room events (peers.ts), the
 * server's media events (mediaEvents.ts), capture (capture.ts), transports (transports.ts), video
 * bindings (VideoBindings.ts), the rejoin's retry policy (rejoin.ts), stats (stats.ts), types
 * (types.ts).
 */
import type {
  JoinResponse,
  MediaSource,
  RecordingInfo,
  RecordingResponses,
  RoomRecordInfo,
  TierClientProfile,
} from '@moim/protocol';
import { RECORDING_STOP_MS, TypedEmitter } from '@moim/protocol/client';
import type { types } from 'mediasoup-client';
import { type MoimClient, toMoimError } from '../MoimClient.ts';
import { captureCamera, captureMic, captureScreen, videoInputIds } from './capture.ts';
import { bufferRoomEvents } from './peers.ts';
import type { RemoteTrack } from './RemoteTrack.ts';
import { RoomSession } from './RoomSession.ts';
import type { NetworkQuality } from './stats.ts';
import type { LocalTrack, RemotePeer, RoomDeps, RoomEvents } from './types.ts';

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
  readonly #client: MoimClient;
  readonly #s: RoomSession;

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
    for (const e of early) room.#s.roomEvent(e);
    try {
      await room.#s.setUp(res);
    } catch (err) {
      const error = toMoimError(err, 'MEDIA_ERROR');
      room.#s.dispose('join failed', error);
      // the caller gets the join's error; a failed leave only means the server keeps the peer for its grace period
      await deps.client
        .request('room:leave', { roomId })
        .catch((e: unknown) => room.#s.log.warn('leaving after a failed join failed', { error: e }));
      throw error;
    }
    return room;
  }

  private constructor(deps: RoomDeps, res: JoinResponse, displayName: string | undefined) {
    super();
    this.#client = deps.client;
    this.roomId = res.room.roomId;
    this.#s = new RoomSession(this, deps, res, displayName);
  }

  get record(): RoomRecordInfo {
    return this.#s.record;
  }
  get tier(): RoomRecordInfo['tier'] {
    return this.#s.record.tier;
  }
  /** What this tier lets clients publish (encodings, largest video, stereo audio). */
  get profile(): TierClientProfile {
    return this.#s.profile;
  }
  get peerId(): string {
    return this.#s.peerId;
  }
  get closed(): boolean {
    return this.#s.closed;
  }
  get handRaised(): boolean {
    return this.#s.handRaised;
  }
  /**
   * The room's running recording, or the one whose files are being saved (`state: 'saving'`; the
   * room cannot be recorded again until it ended) — everyone in the room is told — or null.
   */
  get recording(): RecordingInfo | null {
    return this.#s.recording;
  }
  get peers(): ReadonlyMap<string, RemotePeer> {
    return this.#s.peerList.byId;
  }
  get localTracks(): LocalTrack[] {
    return [...this.#s.tracks.byKey.values()].map((l) => l.info);
  }
  get remoteTracks(): RemoteTrack[] {
    return [...this.#s.receiving.byId.values()];
  }
  /** The send and receive transports (for stats in tests and diagnostics). */
  get transports(): { send?: types.Transport; recv?: types.Transport } {
    return this.#s.transports;
  }

  // ---------------------------------------------------------------------------------- publishing

  /** Capture and publish a camera (`index` for immersive rooms' several cameras). */
  async publishCamera(opts: { deviceId?: string; index?: number } = {}): Promise<LocalTrack> {
    const track = await captureCamera(this.#s.profile, opts.deviceId);
    return this.publishTrack(track, { source: 'camera', index: opts.index ?? 0 });
  }

  /** Publish several cameras at once (immersive): one per video input device, up to the tier's limit. */
  async publishCameras(deviceIds?: string[]): Promise<LocalTrack[]> {
    const ids = deviceIds ?? (await videoInputIds());
    const max = this.#s.profile.maxProducersPerSource.camera;
    const out: LocalTrack[] = [];
    for (const [index, deviceId] of ids.slice(0, max).entries())
      out.push(await this.publishCamera({ deviceId, index }));
    return out;
  }

  async publishMic(opts: { deviceId?: string } = {}): Promise<LocalTrack> {
    const track = await captureMic(this.#s.profile, opts.deviceId);
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
    return this.#s.serial(() => this.#s.tracks.produce(track, opts.source, opts.index ?? 0, opts.paused ?? false));
  }

  /** Stop publishing a source (the track is stopped). */
  unpublish(source: MediaSource, index = 0): Promise<void> {
    return this.#s.serial(() => this.#s.tracks.unpublish(source, index));
  }

  /** Mute or unmute (pause or resume) a published source; camera off is `setPaused('camera', true)`. */
  async setPaused(source: MediaSource, paused: boolean, index = 0): Promise<void> {
    await this.#s.busy;
    await this.#s.tracks.setPaused(source, paused, index);
  }

  setMicMuted(muted: boolean): Promise<void> {
    return this.setPaused('mic', muted);
  }

  setCameraOff(off: boolean, index = 0): Promise<void> {
    return this.setPaused('camera', off, index);
  }

  /** Switch a published source to another input device (same producer, new track). */
  async switchDevice(source: 'camera' | 'mic', deviceId: string, index = 0): Promise<void> {
    await this.#s.busy;
    await this.#s.tracks.switchDevice(source, deviceId, index);
  }

  /** The browser's current send parameters of a published source (encodings as configured). */
  senderParameters(source: MediaSource, index = 0): RTCRtpSendParameters | undefined {
    return this.#s.tracks.get(source, index)?.producer.rtpSender?.getParameters();
  }

  async raiseHand(raised = true): Promise<void> {
    await this.#s.raiseHand(raised);
  }

  // -------------------------------------------------------------------------------- recording

  /** Start recording the room (needs the `record` grant and a tier whose policy records). */
  startRecording(): Promise<RecordingInfo> {
    return this.#client.request('room:startRecording', { roomId: this.roomId });
  }

  /**
   * Stop the room's running recording (`record` or `moderate`). Resolves once its files are kept
   * (`stopped`), or with `saving` when storing them takes longer than `RECORDING_KEEP_WAIT_MS` after
   * its recorders ended (the end follows as a `recording` event); up to `RECORDING_STOP_MS` (the server's bound) rather than a
   * request's usual wait.
   */
  stopRecording(): Promise<RecordingInfo> {
    return this.#client.request(
      'room:stopRecording',
      { roomId: this.roomId },
      { timeoutMs: RECORDING_STOP_MS + 5_000 },
    );
  }

  /** The room's recordings, newest first, and its tier's recording policy. */
  recordings(): Promise<RecordingResponses['room:recordings']> {
    return this.#client.request('room:recordings', { roomId: this.roomId });
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
    return this.#s.videos.attach(track, element);
  }

  detachVideo(consumerId: string): void {
    this.#s.videos.detach(consumerId);
  }

  /** Ask for a simulcast layer yourself (0 = lowest). */
  async setPreferredLayer(track: RemoteTrack, spatialLayer: number): Promise<void> {
    await this.#s.receiving.setPreferredLayer(track, spatialLayer);
  }

  /** Pause or resume receiving one remote track (both here and on the server). */
  async setReceiving(track: RemoteTrack, receiving: boolean): Promise<void> {
    await this.#s.receiving.setReceiving(track, receiving);
  }

  /** Current network figures (round trip, available bitrate, loss, decoded frames, scores). */
  quality(): Promise<NetworkQuality> {
    return this.#s.quality();
  }

  /** Leave the room (local tracks are stopped). */
  async leave(): Promise<void> {
    if (this.#s.closed) return;
    this.#s.dispose('left');
    // left locally whatever the server answers; unacknowledged, the server ends the peer after its grace period
    await this.#client
      .request('room:leave', { roomId: this.roomId })
      .catch((error: unknown) => this.#s.log.warn('the server did not acknowledge leaving', { error }));
  }

  /**
   * Back after a reconnect (or a dead worker): resume the server's peer when it still exists
   * (restart ICE, reconcile producers and consumers); otherwise build everything again.
   */
  async restore(): Promise<void> {
    if (this.#s.closed) return;
    await this.#s.rejoinOrClose(true, 'reconnected');
  }

  /** Close locally without telling the server (the client is closing). */
  dispose(): void {
    this.#s.dispose('client closed');
  }
}
