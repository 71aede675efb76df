/**
 * Video bindings: a remote video shown in a `<video>` element. A binding asks for the simulcast
 * layer that fits the element's size and pauses the consumer while the element is not visible
 * (scrolled away, hidden, or the page in the background). `Room.attachVideo` creates them.
 * (Named apart from chat attachments, the files attached to chat messages.)
 */
import type { TierClientProfile } from '@moim/protocol';
import type { MoimError } from '@moim/protocol/client';
import type { Logger } from '../logger.ts';
import { toMoimError } from '../MoimClient.ts';
import { chooseSpatialLayer } from './layers.ts';
import type { RemoteTrack } from './RemoteTrack.ts';

/** One remote video bound to an element. */
export interface VideoBinding {
  element: HTMLElement;
  visible: boolean;
  resize?: ResizeObserver;
  intersect?: IntersectionObserver;
  timer?: ReturnType<typeof setTimeout>;
}

/** What the bindings need from their room. */
export interface VideoBindingsHost {
  readonly log: Logger;
  profile(): TierClientProfile;
  closed(): boolean;
  remote(consumerId: string): RemoteTrack | undefined;
  setReceiving(track: RemoteTrack, receiving: boolean): Promise<void>;
  setPreferredLayer(track: RemoteTrack, spatialLayer: number): Promise<void>;
  error(error: MoimError): void;
}

/** A room's video bindings, by consumer id. */
export class VideoBindings {
  readonly #host: VideoBindingsHost;
  readonly #bound = new Map<string, VideoBinding>();
  readonly #offVisibility: (() => void) | undefined;

  constructor(host: VideoBindingsHost) {
    this.#host = host;
    if (typeof document !== 'undefined') {
      const onVis = () => {
        for (const [id, b] of this.#bound) {
          const t = this.#host.remote(id);
          if (t) void this.#apply(t, b);
        }
      };
      document.addEventListener('visibilitychange', onVis);
      this.#offVisibility = () => document.removeEventListener('visibilitychange', onVis);
    }
  }

  /** Stop following the page's visibility (the room closed). */
  stopWatchingVisibility(): void {
    this.#offVisibility?.();
  }

  attach(track: RemoteTrack, element: HTMLVideoElement): () => void {
    this.detach(track.consumerId);
    element.srcObject = new MediaStream([track.track]);
    element.muted = true;
    element.playsInline = true;
    void element.play().catch((error: unknown) => {
      // AbortError: a newer srcObject interrupted this play() (harmless). Anything else (autoplay
      // refused) leaves the element paused until the app calls play() on a user gesture.
      const aborted = (error as { name?: unknown } | null)?.name === 'AbortError';
      this.#host.log[aborted ? 'debug' : 'warn']('video element did not start playing', {
        consumerId: track.consumerId,
        error,
      });
    });
    const b: VideoBinding = { element, visible: true };
    this.#bound.set(track.consumerId, b);
    const update = () => {
      clearTimeout(b.timer);
      b.timer = setTimeout(() => void this.#apply(track, b), 250);
    };
    if (typeof ResizeObserver !== 'undefined') {
      b.resize = new ResizeObserver(update);
      b.resize.observe(element);
    }
    if (typeof IntersectionObserver !== 'undefined') {
      b.intersect = new IntersectionObserver((entries) => {
        b.visible = entries.some((e) => e.isIntersecting);
        update();
      });
      b.intersect.observe(element);
    }
    update();
    return () => this.detach(track.consumerId);
  }

  detach(consumerId: string): void {
    const b = this.#bound.get(consumerId);
    if (!b) return;
    this.#bound.delete(consumerId);
    clearTimeout(b.timer);
    b.resize?.disconnect();
    b.intersect?.disconnect();
  }

  detachAll(): void {
    for (const id of [...this.#bound.keys()]) this.detach(id);
  }

  async #apply(track: RemoteTrack, b: VideoBinding): Promise<void> {
    if (track.closed || this.#bound.get(track.consumerId) !== b) return;
    const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
    const visible = b.visible && !hidden && b.element.isConnected;
    try {
      await this.#host.setReceiving(track, visible);
      if (!visible) return;
      const rect = b.element.getBoundingClientRect();
      const dpr = typeof devicePixelRatio === 'number' ? devicePixelRatio : 1;
      if (track.source === 'camera' && track.layered && rect.width > 0) {
        const profile = this.#host.profile();
        const layer = chooseSpatialLayer(profile.cameraEncodings, profile.maxVideo, {
          width: rect.width * dpr,
          height: rect.height * dpr,
        });
        await this.#host.setPreferredLayer(track, layer);
      }
    } catch (err) {
      if (!this.#host.closed()) this.#host.error(toMoimError(err, 'MEDIA_ERROR'));
    }
  }
}
