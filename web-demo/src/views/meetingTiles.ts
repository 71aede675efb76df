/**
 * The meeting's video tiles (for views/meeting.ts): a tile per published or received video, a
 * placeholder per person without one, each tile's flags (active speaker, raised hand, muted mic),
 * the moderator's menu on other people's tiles, and the layout: one grid, or one row per site in
 * immersive rooms. The view calls `update` from its coalesced render.
 */
import { getLogger, type RemoteTrack } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h, icon } from '../dom.ts';
import { errorText, getLang, t } from '../i18n.ts';
import type { MeetingSession } from '../meeting/MeetingSession.ts';
import { siteLabel } from '../sites.ts';
import { initial } from './presence.ts';

const log = getLogger('moim.web.meeting');

interface Tile {
  key: string;
  el: HTMLElement;
  video?: HTMLVideoElement;
  detach?: () => void;
}

export interface TileGrid {
  /** Bring the tiles, their flags and the layout in line with the room. */
  update(): void;
  /** Detach every remote video and forget the tiles (the view is going away). */
  detachAll(): void;
}

export function tileGrid(opts: {
  ctx: AppContext;
  session: MeetingSession;
  stage: HTMLElement;
  moderator: boolean;
  immersive: boolean;
}): TileGrid {
  const { ctx, session, stage, moderator, immersive } = opts;
  const room = session.room;
  const me = ctx.identity;
  const tiles = new Map<string, Tile>();
  const groups = new Map<string, HTMLElement>();

  const siteOf = (sub: string | undefined) =>
    (sub ? ctx.client.presence.people.get(sub)?.site : undefined) ?? (sub === me.sub ? me.site : null);

  function tileFor(key: string, make: () => Tile): Tile {
    let tile = tiles.get(key);
    if (!tile) {
      tile = make();
      tiles.set(key, tile);
    }
    return tile;
  }

  function videoTile(key: string, label: string, peerId: string, source: string): Tile {
    const video = h('video', { autoplay: true, muted: true, playsInline: true });
    const el = h(
      'div',
      { class: `tile source-${source}`, dataset: { key, peer: peerId } },
      video,
      h('div', { class: 'tile-label' }, h('span', { class: 'tile-name' }, label), h('span', { class: 'tile-flags' })),
    );
    return { key, el, video };
  }

  function placeholderTile(key: string, name: string, peerId: string): Tile {
    const el = h(
      'div',
      { class: 'tile placeholder', dataset: { key, peer: peerId } },
      h('div', { class: 'big-avatar', 'aria-hidden': 'true' }, initial(name)),
      h('div', { class: 'tile-label' }, h('span', { class: 'tile-name' }, name), h('span', { class: 'tile-flags' })),
    );
    return { key, el };
  }

  function moderatorMenu(peerId: string): HTMLElement {
    const act = (fn: () => Promise<unknown>) => () =>
      void fn().catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error'));
    return h(
      'div',
      { class: 'mod-menu' },
      h('button', { type: 'button', class: 'small', onclick: act(() => room.mutePeer(peerId)) }, t('mutePeer')),
      h('button', { type: 'button', class: 'small', onclick: act(() => room.stopVideo(peerId)) }, t('stopPeerVideo')),
      h(
        'button',
        { type: 'button', class: 'small danger', onclick: act(() => room.removePeer(peerId)) },
        t('removePeer'),
      ),
    );
  }

  function update(): void {
    const wanted: Array<{ tile: Tile; group: string }> = [];
    const myPeer = room.peerId;
    // my own tiles
    const myVideos = room.localTracks.filter((l) => l.track.kind === 'video');
    for (const l of myVideos) {
      const key = `local:${l.source}:${l.index}`;
      const label =
        l.source === 'screen'
          ? t('screenOf', { name: me.name })
          : immersive
            ? `${t('meTile', { name: me.name })} · ${t('cameraN', { n: l.index + 1 })}`
            : t('meTile', { name: me.name });
      const tile = tileFor(key, () => {
        const tl = videoTile(key, label, myPeer, l.source);
        tl.el.classList.add('local');
        return tl;
      });
      if (tile.video && (tile.video.srcObject as MediaStream | null)?.getVideoTracks()[0] !== l.track) {
        tile.video.srcObject = new MediaStream([l.track]);
        void tile.video
          .play()
          // the local preview is muted (no autoplay refusal): only a newer source interrupts this play()
          .catch((error: unknown) => log.debug('local preview play() interrupted', { source: l.source, error }));
      }
      tile.el.classList.toggle('paused', l.paused);
      wanted.push({ tile, group: siteOf(me.sub) ?? 'hq' });
    }
    if (myVideos.length === 0)
      wanted.push({
        tile: tileFor('me', () => placeholderTile('me', t('meTile', { name: me.name }), myPeer)),
        group: siteOf(me.sub) ?? 'hq',
      });
    // remote tiles
    const videosByPeer = new Map<string, RemoteTrack[]>();
    for (const track of room.remoteTracks) {
      if (track.kind !== 'video') continue;
      const list = videosByPeer.get(track.peerId) ?? [];
      list.push(track);
      videosByPeer.set(track.peerId, list);
    }
    for (const peer of room.peers.values()) {
      const group = siteOf(peer.sub) ?? 'unknown';
      const videos = (videosByPeer.get(peer.peerId) ?? []).sort(
        (a, b) => a.source.localeCompare(b.source) || a.index - b.index,
      );
      if (videos.length === 0) {
        const key = `p:${peer.peerId}`;
        wanted.push({ tile: tileFor(key, () => placeholderTile(key, peer.displayName, peer.peerId)), group });
      }
      for (const track of videos) {
        const key = `c:${track.consumerId}`;
        const label =
          track.source === 'screen'
            ? t('screenOf', { name: peer.displayName })
            : immersive
              ? `${peer.displayName} · ${t('cameraN', { n: track.index + 1 })}`
              : peer.displayName;
        const tile = tileFor(key, () => {
          const tl = videoTile(key, label, peer.peerId, track.source);
          tl.el.dataset.consumer = track.consumerId;
          if (moderator) tl.el.appendChild(moderatorMenu(peer.peerId));
          tl.detach = room.attachVideo(track, tl.video!);
          return tl;
        });
        tile.el.classList.toggle('paused', track.producerPaused);
        wanted.push({ tile, group });
      }
      const pTile = tiles.get(`p:${peer.peerId}`);
      if (pTile && moderator && !pTile.el.querySelector('.mod-menu')) pTile.el.appendChild(moderatorMenu(peer.peerId));
    }
    // remove tiles no longer wanted
    const keep = new Set(wanted.map((w) => w.tile.key));
    for (const [key, tile] of tiles) {
      if (keep.has(key)) continue;
      tile.detach?.();
      tile.el.remove();
      tiles.delete(key);
    }
    // flags: active speaker, hand, muted mic
    const micPaused = (peerId: string) =>
      peerId === myPeer
        ? (session.local('mic')?.paused ?? true)
        : !room.remoteTracks.some((tr) => tr.peerId === peerId && tr.kind === 'audio' && !tr.producerPaused);
    const hand = (peerId: string) =>
      peerId === myPeer ? room.handRaised : (room.peers.get(peerId)?.handRaised ?? false);
    for (const { tile } of wanted) {
      const peerId = tile.el.dataset.peer!;
      tile.el.classList.toggle('speaking', session.activeSpeaker === peerId && peerId !== '');
      const flags = tile.el.querySelector('.tile-flags')!;
      flags.replaceChildren();
      if (hand(peerId)) flags.appendChild(h('span', { class: 'flag hand', title: t('handRaised') }, icon('hand')));
      if (micPaused(peerId)) flags.appendChild(h('span', { class: 'flag muted', title: t('mute') }, icon('micOff')));
    }
    // lay out: one grid, or one row per site (immersive)
    if (immersive) {
      const bySite = new Map<string, Tile[]>();
      for (const w of wanted) {
        const list = bySite.get(w.group) ?? [];
        list.push(w.tile);
        bySite.set(w.group, list);
      }
      for (const [site, g] of groups) {
        if (bySite.has(site)) continue;
        g.remove();
        groups.delete(site);
      }
      // the other sites first and large, my own site last and small
      const mySite = siteOf(me.sub) ?? 'hq';
      const order = [...bySite.keys()].sort(
        (a, b) => Number(a === mySite) - Number(b === mySite) || a.localeCompare(b),
      );
      for (const site of order) {
        const list = bySite.get(site)!;
        let g = groups.get(site);
        if (!g) {
          g = h(
            'section',
            { class: 'site-row', dataset: { site } },
            h('h2', null, ''),
            h('div', { class: 'site-tiles' }),
          );
          groups.set(site, g);
        }
        g.classList.toggle('own-site', site === mySite);
        g.querySelector('h2')!.textContent = site === 'unknown' ? '…' : siteLabel(site, getLang());
        const box = g.querySelector('.site-tiles')!;
        for (const tl of list)
          if (tl.el.parentElement !== box || box.lastElementChild !== tl.el) box.appendChild(tl.el);
        stage.appendChild(g);
      }
    } else {
      // keep the wanted order (moving a playing video within one task does not pause it)
      const inOrder = wanted.every((w, i) => stage.children[i] === w.tile.el);
      if (!inOrder) for (const w of wanted) stage.appendChild(w.tile.el);
      stage.dataset.count = String(Math.min(wanted.length, 9));
    }
  }

  return {
    update,
    detachAll() {
      for (const tile of tiles.values()) tile.detach?.();
      tiles.clear();
    },
  };
}
