/**
 * The meeting view (`#/meeting/<roomId>`): joining the meeting (a video room of the SDK, `Room`),
 * then its page: video tiles, people, moderation menu, devices, controls, notes. The lobby
 * (`#/meeting`) is in meeting/lobby.ts; the meeting that outlives this view in
 * meeting/MeetingSession.ts.
 */
import { getLogger, type RemoteTrack } from '@moim/client-sdk';
import type { AppContext, View } from '../context.ts';
import { coalesce, h, icon, mount } from '../dom.ts';
import { getLang, t } from '../i18n.ts';
import { lobby, remember } from '../meeting/lobby.ts';
import { MeetingSession } from '../meeting/MeetingSession.ts';
import { siteLabel } from '../sites.ts';
import { initial } from './presence.ts';

const log = getLogger('moim.web.meeting');

/** `#/meeting`: create or join; `#/meeting/<roomId>`: the meeting itself. */
export const meetingView: View = (root, ctx, params) => {
  const roomId = params[0];
  return roomId ? roomPage(root, ctx, roomId) : lobby(root, ctx);
};

function roomPage(root: HTMLElement, ctx: AppContext, roomId: string): () => void {
  let alive = true;
  let teardown = () => {};
  const current = ctx.meeting;
  if (current && !current.ended && current.room.roomId === roomId) {
    teardown = renderRoom(root, ctx, current);
  } else {
    mount(root, h('div', { class: 'page' }, h('p', { class: 'muted joining' }, t('joining'))));
    void (async () => {
      if (current && !current.ended) await current.leave();
      try {
        const session = await MeetingSession.start(ctx, roomId);
        remember(session.room.record);
        ctx.setMeeting(session);
        if (!alive) return;
        teardown = renderRoom(root, ctx, session);
      } catch (err) {
        if (!alive) return;
        mount(
          root,
          h(
            'div',
            { class: 'page' },
            h('p', { class: 'error', role: 'alert' }, `${t('errorPrefix')}: ${(err as Error).message}`),
            h('a', { href: '#/meeting' }, t('meetingTitle')),
          ),
        );
      }
    })();
  }
  return () => {
    alive = false;
    teardown();
  };
}

interface Tile {
  key: string;
  el: HTMLElement;
  video?: HTMLVideoElement;
  detach?: () => void;
}

function renderRoom(root: HTMLElement, ctx: AppContext, session: MeetingSession): () => void {
  const room = session.room;
  const me = ctx.identity;
  const moderator = me.role !== 'member' || room.record.ownerSub === me.sub;
  const immersive = room.tier === 'immersive';
  const stage = h('div', { class: `stage ${immersive ? 'immersive' : 'grid'}`, id: 'stage' });
  const controls = h('div', { class: 'controls', role: 'toolbar' });
  const quality = h('span', { class: 'quality muted' });
  const banner = h('div', { class: 'banner', hidden: true }, t('reconnectingMedia'));
  const notes = h('aside', { class: 'notes card', id: 'notes' });
  const notesOpen = window.matchMedia('(min-width: 1100px)').matches;
  notes.hidden = !notesOpen;
  const people = h('span', { class: 'muted' });
  const codeBtn = h(
    'button',
    {
      type: 'button',
      class: 'ghost small',
      onclick: async () => {
        try {
          if (!navigator.clipboard) throw new Error('no clipboard access (not a secure context)');
          await navigator.clipboard.writeText(room.roomId);
          codeBtn.textContent = t('copied');
        } catch (error) {
          log.warn('copying the room code failed', { roomId: room.roomId, error });
          ctx.toast(t('copyFailed'), 'error');
        }
      },
    },
    t('copyLink'),
  );
  mount(
    root,
    h(
      'div',
      { class: `meeting tier-${room.tier}`, dataset: { roomId: room.roomId, tier: room.tier } },
      h(
        'div',
        { class: 'meeting-head' },
        h('h1', null, session.title),
        h('span', { class: 'tag' }, t(`tier_${room.tier}`)),
        people,
        h('code', { class: 'room-code' }, room.roomId),
        codeBtn,
        quality,
      ),
      banner,
      h('div', { class: 'meeting-body' }, stage, notes),
      controls,
    ),
  );

  // ---------------------------------------------------------------------------- tiles
  const tiles = new Map<string, Tile>();
  const groups = new Map<string, HTMLElement>();

  const siteOf = (sub: string | undefined) =>
    (sub ? ctx.client.presence.people.get(sub)?.site : undefined) ?? (sub === me.sub ? me.site : null);

  // immersive rooms are laid out per site: learn where each participant is
  const watchPeers = () => {
    const subs = [...room.peers.values()].map((p) => p.sub).filter((s) => !ctx.client.presence.people.has(s));
    if (subs.length)
      void ctx.client.presence.subscribe({ people: subs }).then(render, (error: unknown) => {
        // their tiles stay in the default group until the next change of peers asks again
        log.warn("learning participants' sites failed", { people: subs, error });
      });
  };

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
      void fn().catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${err.message}`, 'error'));
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

  const render = coalesce(() => {
    if (session.ended) return;
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
    people.textContent = t('participants', { n: room.peers.size + 1 });
    banner.hidden = !session.reconnecting;
    const q = session.quality;
    quality.textContent = q
      ? `${t('quality')}: ${t(`quality_${q.level}`)}${q.rttMs !== null ? ` · ${Math.round(q.rttMs)} ms` : ''}`
      : '';
    renderControls();
  });

  // ---------------------------------------------------------------------------- controls
  const deviceBox = h('details', { class: 'devices' });
  async function renderDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    const cams = devices.filter((d) => d.kind === 'videoinput');
    const mics = devices.filter((d) => d.kind === 'audioinput');
    const camNow = session.local('camera')?.track.getSettings().deviceId;
    const micNow = session.local('mic')?.track.getSettings().deviceId;
    const select = (kind: 'camera' | 'mic', list: MediaDeviceInfo[], now: string | undefined) =>
      h(
        'select',
        {
          id: `device-${kind}`,
          onchange: (e: Event) =>
            void room
              .switchDevice(kind, (e.target as HTMLSelectElement).value)
              .catch((err: Error) => ctx.toast(err.message, 'error')),
        },
        list.map((d, i) =>
          h('option', { value: d.deviceId, selected: d.deviceId === now }, d.label || `${kind} ${i + 1}`),
        ),
      );
    mount(
      deviceBox,
      h('summary', null, icon('gear'), h('span', null, t('devicesTitle'))),
      h(
        'div',
        { class: 'device-panel card' },
        h('label', { for: 'device-camera' }, t('camera')),
        select('camera', cams, camNow),
        h('label', { for: 'device-mic' }, t('microphone')),
        select('mic', mics, micNow),
        immersive
          ? h(
              'button',
              { type: 'button', class: 'small', onclick: () => void session.addCamera().then(render) },
              t('addCamera'),
            )
          : null,
      ),
    );
  }
  mount(deviceBox, h('summary', null, icon('gear'), h('span', null, t('devicesTitle'))));
  deviceBox.addEventListener('toggle', () => {
    if (deviceBox.open) void renderDevices();
  });

  let editorTeardown: (() => void) | undefined;
  async function openNotes(): Promise<void> {
    if (editorTeardown) return;
    const handle = await ctx.client.docs.open(room.record.docName);
    mount(notes, h('h2', null, t('notes')));
    const ed = (await import('../editor.ts')).createEditor(notes, handle, { sub: me.sub, name: me.name });
    editorTeardown = () => {
      ed.destroy();
      handle.close();
    };
  }
  if (!notes.hidden) void openNotes();

  function button(id: string, on: boolean, ic: Parameters<typeof icon>[0], label: string, action: () => Promise<void>) {
    return h(
      'button',
      {
        type: 'button',
        id,
        class: `control${on ? ' on' : ''}`,
        'aria-pressed': String(on),
        title: label,
        onclick: async (e: Event) => {
          const b = e.currentTarget as HTMLButtonElement;
          b.disabled = true;
          try {
            await action();
          } catch (err) {
            ctx.toast(`${t('errorPrefix')}: ${(err as Error).message}`, 'error');
          } finally {
            b.disabled = false;
            render();
          }
        },
      },
      icon(ic),
      h('span', null, label),
    );
  }

  function renderControls(): void {
    const mic = session.local('mic');
    const cam = session.local('camera');
    const micOn = !!mic && !mic.paused;
    const camOn = !!cam && !cam.paused;
    const sharing = !!session.local('screen');
    mount(
      controls,
      button('ctl-mic', !micOn, micOn ? 'mic' : 'micOff', micOn ? t('mute') : t('unmute'), () => session.toggleMic()),
      button('ctl-cam', !camOn, camOn ? 'cam' : 'camOff', camOn ? t('cameraOff') : t('cameraOn'), () =>
        session.toggleCamera(),
      ),
      button('ctl-screen', sharing, 'screen', sharing ? t('stopShare') : t('shareScreen'), () =>
        session.toggleScreen(),
      ),
      button('ctl-hand', room.handRaised, 'hand', room.handRaised ? t('lowerHand') : t('raiseHand'), () =>
        session.toggleHand(),
      ),
      button('ctl-notes', !notes.hidden, 'notes', t('notes'), async () => {
        notes.hidden = !notes.hidden;
        if (!notes.hidden) await openNotes();
      }),
      deviceBox,
      moderator
        ? h(
            'button',
            {
              type: 'button',
              class: 'control danger-outline',
              id: 'ctl-close',
              onclick: () => void room.closeRoom().catch((err: Error) => ctx.toast(err.message, 'error')),
            },
            h('span', null, t('closeRoom')),
          )
        : null,
      button('ctl-leave', false, 'leave', t('leave'), async () => {
        await session.leave();
        ctx.navigate('#/meeting');
      }),
    );
    controls.querySelector('#ctl-leave')?.classList.add('danger');
  }

  const offChange = session.onChange(() => {
    if (session.ended) {
      ctx.navigate('#/meeting');
      return;
    }
    watchPeers();
    render();
  });
  watchPeers();
  const onPresence = () => render();
  ctx.client.presence.on('update', onPresence);
  render();

  return () => {
    offChange();
    ctx.client.presence.off('update', onPresence);
    for (const tile of tiles.values()) tile.detach?.();
    tiles.clear();
    editorTeardown?.();
  };
}
