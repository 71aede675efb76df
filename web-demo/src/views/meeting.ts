/**
 * The meeting view (`#/meeting/<roomId>`): joining the meeting (a video room of the SDK, `Room`),
 * then its page: the head (title, tier, people, room code, quality), the reconnecting banner, and
 * the render that keeps it current. The video tiles and moderator menus are in meetingTiles.ts;
 * the toolbar, devices and notes in meetingControls.ts. The lobby (`#/meeting`) is in
 * meeting/lobby.ts; the meeting that outlives this view in meeting/MeetingSession.ts.
 */
import { getLogger } from '@moim/client-sdk';
import type { AppContext, View } from '../context.ts';
import { coalesce, h, mount } from '../dom.ts';
import { errorText, t } from '../i18n.ts';
import { lobby, remember } from '../meeting/lobby.ts';
import { MeetingSession } from '../meeting/MeetingSession.ts';
import { meetingLink, participantsPanel } from '../meeting/participants.ts';
import { recordingsPanel } from '../meeting/recordings.ts';
import { tn } from '../plural.ts';
import { followWatermark } from '../watermark.ts';
import { meetingControls } from './meetingControls.ts';
import { tileGrid } from './meetingTiles.ts';

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
            h('p', { class: 'error', role: 'alert' }, `${t('errorPrefix')}: ${errorText(err)}`),
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

function renderRoom(root: HTMLElement, ctx: AppContext, session: MeetingSession): () => void {
  const room = session.room;
  const me = ctx.identity;
  const moderator = me.role !== 'member' || room.record.ownerSub === me.sub;
  const immersive = room.tier === 'immersive';
  const stage = h('div', { class: `stage ${immersive ? 'immersive' : 'grid'}`, id: 'stage' });
  const controls = h('div', { class: 'controls', role: 'toolbar' });
  const quality = h('span', { class: 'quality muted' });
  const banner = h('div', { class: 'banner', hidden: true }, t('reconnectingMedia'));
  // everyone in the room sees that it is recorded (also those who join while it runs)
  const recording = h('span', { class: 'recording-badge', role: 'status', hidden: true }, t('recordingOn'));
  const notes = h('aside', { class: 'notes card', id: 'notes' });
  const notesOpen = window.matchMedia('(min-width: 1100px)').matches;
  notes.hidden = !notesOpen;
  const people = h('span', { class: 'muted' });
  const participants = participantsPanel(ctx, session, moderator);
  const recordings = recordingsPanel(ctx, session);
  const codeBtn = h(
    'button',
    {
      type: 'button',
      class: 'ghost small',
      onclick: async () => {
        try {
          if (!navigator.clipboard) throw new Error('no clipboard access (not a secure context)');
          await navigator.clipboard.writeText(meetingLink(room.roomId));
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
        recording,
      ),
      banner,
      participants.el,
      h('div', { class: 'meeting-body' }, stage, notes),
      controls,
      recordings.el,
    ),
  );

  const grid = tileGrid({ ctx, session, stage, moderator, immersive });
  // the room's data-leak policy may ask for the viewer's watermark over the tiles and screen shares
  const stopWatermark = followWatermark(ctx, 'room', room.roomId, stage);

  // immersive rooms are laid out per site: learn where each participant is
  const watchPeers = () => {
    const subs = [...room.peers.values()].map((p) => p.sub).filter((s) => !ctx.client.presence.people.has(s));
    if (subs.length)
      void ctx.client.presence.subscribe({ people: subs }).then(render, (error: unknown) => {
        // their tiles stay in the default group until the next change of peers asks again
        log.warn("learning participants' sites failed", { people: subs, error });
      });
  };

  const render = coalesce(() => {
    if (session.ended) return;
    grid.update();
    people.textContent = tn('participants', room.peers.size + 1);
    banner.hidden = !session.reconnecting;
    recording.hidden = room.recording === null;
    recording.textContent = room.recording?.state === 'saving' ? t('recordingSaving') : t('recordingOn');
    recordings.update();
    const q = session.quality;
    quality.textContent = q
      ? `${t('quality')}: ${t(`quality_${q.level}`)}${q.rttMs !== null ? ` · ${Math.round(q.rttMs)} ms` : ''}`
      : '';
    toolbar.update();
    participants.update();
  });

  const toolbar = meetingControls({ ctx, session, controls, notes, moderator, immersive, render });

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
    stopWatermark();
    offChange();
    ctx.client.presence.off('update', onPresence);
    grid.detachAll();
    participants.dispose();
    recordings.dispose();
    toolbar.closeNotes();
  };
}
