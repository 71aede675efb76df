/**
 * The data-leak watermark: where the policy of a room or document asks for it (`watermark`), the
 * viewer's name, id and the time are drawn over the video tiles and screen shares (the meeting's
 * stage) or the document view. The policy is followed live (`policy:changed`): switched on or off
 * without reloading. Removed from the page or hidden (devtools, an extension), it is put back at
 * once, and the removal is logged and reported to the server (audited as `policy.watermark-removed`).
 */
import { getLogger } from '@moim/client-sdk';
import type { PolicyKind } from '@moim/protocol';
import type { AppContext } from './context.ts';
import { h } from './dom.ts';
import { formatDateTime } from './time.ts';

const log = getLogger('moim.web.watermark');

/** How many times the text repeats across the overlay (a diagonal pattern over the whole area). */
const REPEAT = 12;

/** Follow the policy of `kind`/`id` and draw the watermark over `host` while it asks; returns the teardown. */
export function followWatermark(ctx: AppContext, kind: PolicyKind, id: string, host: HTMLElement): () => void {
  let alive = true;
  let overlay: HTMLElement | undefined;
  let observer: MutationObserver | undefined;
  let clock: ReturnType<typeof setInterval> | undefined;
  const me = ctx.identity;

  const text = () => `${me.name} · ${me.sub} · ${formatDateTime(Date.now())}`;
  const render = (el: HTMLElement) => {
    el.replaceChildren(...Array.from({ length: REPEAT }, () => h('span', { class: 'watermark-text' }, text())));
  };
  const make = (): HTMLElement => {
    const el = h('div', { class: 'watermark', 'aria-hidden': 'true', dataset: { watermark: `${kind}:${id}` } });
    render(el);
    return el;
  };
  const tampered = (how: string) => {
    log.warn('the watermark was removed from the page; restored', { kind, id, how });
    ctx.client
      .request('policy:report', { kind, id, what: 'watermark-removed' })
      .catch((error: unknown) => log.warn('reporting a removed watermark failed', { kind, id, error }));
  };
  const restore = () => {
    if (!overlay) return;
    let how: string | undefined;
    if (overlay.parentElement !== host || host.lastElementChild !== overlay) {
      // back on top, as the last child of the host
      if (overlay.parentElement !== host) how = 'removed';
      host.appendChild(overlay);
    }
    if (overlay.getAttribute('class') !== 'watermark' || overlay.hasAttribute('style') || overlay.hidden) {
      how ??= 'hidden';
      overlay.setAttribute('class', 'watermark');
      overlay.removeAttribute('style');
      overlay.hidden = false;
    }
    if (overlay.childElementCount !== REPEAT || !overlay.textContent?.includes(me.sub)) {
      how ??= 'emptied';
      render(overlay);
    }
    if (how) tampered(how);
  };
  const show = (on: boolean) => {
    if (!alive) return;
    if (on && !overlay) {
      overlay = make();
      host.classList.add('watermark-host');
      host.appendChild(overlay);
      observer = new MutationObserver(restore);
      observer.observe(host, { childList: true });
      observer.observe(overlay, { attributes: true, childList: true, characterData: true, subtree: true });
      clock = setInterval(() => overlay && render(overlay), 30_000);
    } else if (!on && overlay) {
      observer?.disconnect();
      if (clock) clearInterval(clock);
      overlay.remove();
      overlay = undefined;
      host.classList.remove('watermark-host');
    }
  };

  const off = ctx.client.onServer('policy:changed', (view) => {
    if (view.kind === kind && view.id === id) show(view.policy.watermark);
  });
  // asked again after a reconnect: the new socket follows the policy again and misses no change
  const ask = () =>
    ctx.client.request('policy:get', { kind, id }).then(
      (view) => show(view.policy.watermark),
      (error: unknown) =>
        log.warn('reading the data-leak policy failed; the watermark stays as it is', { kind, id, error }),
    );
  const onReconnected = () => void ask();
  ctx.client.on('reconnected', onReconnected);
  void ask();
  return () => {
    alive = false;
    off();
    ctx.client.off('reconnected', onReconnected);
    show(false);
  };
}
