import {
  CALL_LEFT_REASON,
  getLogger,
  type LocalTrack,
  type NetworkQuality,
  type RemoteTrack,
  type Room,
} from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';

type Listener = () => void;

const log = getLogger('moim.web.meeting');

/**
 * The meeting this tab is in: the SDK room plus what the interface shows about it (active
 * speaker, audio levels, network quality). It outlives the meeting view, so people can look at
 * chat or documents while they stay in the call; remote audio plays from the app's audio sink.
 */
export class MeetingSession {
  readonly room: Room;
  readonly #ctx: AppContext;
  readonly #listeners = new Set<Listener>();
  readonly #audio = new Map<string, HTMLAudioElement>();
  activeSpeaker: string | null = null;
  readonly levels = new Map<string, number>();
  quality: NetworkQuality | undefined;
  reconnecting = false;
  #ended = false;

  static async start(ctx: AppContext, roomId: string): Promise<MeetingSession> {
    const room = await ctx.client.rooms.join(roomId, { displayName: ctx.identity.name });
    const session = new MeetingSession(ctx, room);
    await session.#publishDefaults();
    return session;
  }

  private constructor(ctx: AppContext, room: Room) {
    this.#ctx = ctx;
    this.room = room;
    const changed = () => this.#changed();
    for (const e of [
      'peerJoined',
      'peerLeft',
      'handRaised',
      'trackPaused',
      'trackResumed',
      'localTrack',
      'localTrackEnded',
      'localTrackResumed',
      'recording',
    ] as const)
      room.on(e, changed);
    room.on('track', (track) => {
      if (track.kind === 'audio') this.#playAudio(track);
      this.#changed();
    });
    room.on('trackEnded', (track) => {
      this.#audio.get(track.consumerId)?.remove();
      this.#audio.delete(track.consumerId);
      this.#changed();
    });
    room.on('localTrackPaused', (l) => {
      if (l.byModerator) ctx.toast(t('mutedByModerator'));
      this.#changed();
    });
    room.on('localTrackStalled', (l) => {
      ctx.toast(t('cameraStalled', { n: l.index + 1 }), 'error');
      void room
        .unpublish(l.source, l.index)
        .catch((error: unknown) => log.warn('unpublishing a stalled camera failed', { index: l.index, error }));
    });
    room.on('activeSpeaker', ({ peerId }) => {
      this.activeSpeaker = peerId;
      this.#changed();
    });
    room.on('audioLevels', (levels) => {
      this.levels.clear();
      for (const l of levels) this.levels.set(l.peerId, l.volume);
      this.#changed();
    });
    room.on('quality', (q) => {
      this.quality = q;
      this.#changed();
    });
    room.on('reconnecting', () => {
      this.reconnecting = true;
      this.#changed();
    });
    room.on('rejoined', () => {
      this.reconnecting = false;
      this.#changed();
    });
    // leaving a call that goes on also takes the person out of its room: not a moderator's removal
    room.on('removed', ({ reason }) => {
      if (reason !== CALL_LEFT_REASON) ctx.toast(t('removed'), 'error');
    });
    room.on('closed', ({ reason }) => {
      if (reason !== 'left' && reason !== 'removed') ctx.toast(t('roomClosed'));
      this.#end();
    });
    for (const track of room.remoteTracks) if (track.kind === 'audio') this.#playAudio(track);
  }

  get title(): string {
    return this.room.record.name ?? t('untitledMeeting');
  }

  get ended(): boolean {
    return this.#ended;
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  local(source: LocalTrack['source'], index = 0): LocalTrack | undefined {
    return this.room.localTracks.find((l) => l.source === source && l.index === index);
  }

  async toggleMic(): Promise<void> {
    const mic = this.local('mic');
    if (!mic) await this.room.publishMic();
    else await this.room.setMicMuted(!mic.paused);
    this.#changed();
  }

  async toggleCamera(): Promise<void> {
    const cams = this.room.localTracks.filter((l) => l.source === 'camera');
    if (cams.length === 0) await this.room.publishCamera();
    else {
      const off = !cams[0]!.paused;
      for (const c of cams) await this.room.setCameraOff(off, c.index);
    }
    this.#changed();
  }

  /** Immersive rooms: publish the next camera that is not published yet. */
  async addCamera(): Promise<void> {
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    const used = new Set(this.room.localTracks.map((l) => l.track.getSettings().deviceId));
    const next = devices.find((d) => !used.has(d.deviceId));
    const index = Math.max(-1, ...this.room.localTracks.filter((l) => l.source === 'camera').map((l) => l.index)) + 1;
    if (!next || index >= this.room.profile.maxProducersPerSource.camera) return;
    await this.room.publishCamera({ deviceId: next.deviceId, index });
  }

  async toggleScreen(): Promise<void> {
    if (this.local('screen')) await this.room.unpublish('screen');
    else await this.room.publishScreen();
    this.#changed();
  }

  async toggleHand(): Promise<void> {
    await this.room.raiseHand(!this.room.handRaised);
    this.#changed();
  }

  async leave(): Promise<void> {
    await this.room.leave();
    this.#end();
  }

  async #publishDefaults(): Promise<void> {
    const tasks: Array<Promise<unknown>> = [this.room.publishMic()];
    if (this.room.tier === 'immersive') tasks.push(this.room.publishCameras());
    else tasks.push(this.room.publishCamera());
    const results = await Promise.allSettled(tasks);
    for (const r of results)
      if (r.status === 'rejected')
        this.#ctx.toast(t('noCameraPermission', { error: (r.reason as Error).message }), 'error');
  }

  #playAudio(track: RemoteTrack): void {
    if (this.#audio.has(track.consumerId)) return;
    const el = h('audio', { autoplay: true, dataset: { consumer: track.consumerId, peer: track.peerId } });
    el.srcObject = new MediaStream([track.track]);
    this.#ctx.audioSink.appendChild(el);
    void el.play().catch((error: unknown) => {
      if ((error as { name?: unknown } | null)?.name === 'AbortError') {
        // a newer source or the element's removal interrupted play(): nothing to do
        log.debug('remote audio play() interrupted', { consumerId: track.consumerId, error });
        return;
      }
      // the browser refused to play sound before a user gesture: play it on the next one
      log.warn('remote audio not playing; retrying on the next click or key', { consumerId: track.consumerId, error });
      const retry = () => {
        document.removeEventListener('pointerdown', retry);
        document.removeEventListener('keydown', retry);
        if (!el.isConnected) return;
        void el
          .play()
          .catch((e: unknown) =>
            log.warn('remote audio still not playing', { consumerId: track.consumerId, error: e }),
          );
      };
      document.addEventListener('pointerdown', retry);
      document.addEventListener('keydown', retry);
    });
    this.#audio.set(track.consumerId, el);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const el of this.#audio.values()) el.remove();
    this.#audio.clear();
    if (this.#ctx.meeting === this) this.#ctx.setMeeting(undefined);
    this.#changed();
  }
}
