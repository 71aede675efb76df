/**
 * The people of a meeting (for views/meeting.ts): the participants panel (everyone by name, the
 * raised-hands queue in the order hands went up, inviting people, sharing the meeting's link), the
 * notices that follow the room for as long as the person is in it ("Lee left", and for moderators
 * "Lee raised a hand"), and the devices panel's "Add camera" that says why it cannot.
 *
 * An invitation rings like a call (`client.calls.invite`, calls/callUi.ts): every device of the
 * person shows "X invites you to <meeting>" with Join and Decline, and the inviter hears whether
 * they came; a missed one leaves a notice with the meeting's link in the DM.
 */
import { getLogger, type Room } from '@moim/client-sdk';
import { placeInvite } from '../calls/callUi.ts';
import type { AppContext } from '../context.ts';
import { h, mount } from '../dom.ts';
import { errorText, t } from '../i18n.ts';
import type { MeetingSession } from './MeetingSession.ts';

const log = getLogger('moim.web.meeting');

/** The address of a meeting (what "Copy link" copies). */
export function meetingLink(roomId: string): string {
  return `${location.origin}/#/meeting/${encodeURIComponent(roomId)}`;
}

/** Per room: names of peers by peer id (a peer that left keeps its name for the notice) and the hands queue. */
interface RoomPeople {
  names: Map<string, string>;
  hands: string[];
  listeners: Set<() => void>;
}
const rooms = new WeakMap<Room, RoomPeople>();

/** Follow a room's people once per room: names, the hands queue, and the notices. */
export function watchRoom(ctx: AppContext, session: MeetingSession, moderator: boolean): RoomPeople {
  const room = session.room;
  const known = rooms.get(room);
  if (known) return known;
  const people: RoomPeople = { names: new Map(), hands: [], listeners: new Set() };
  rooms.set(room, people);
  const changed = () => {
    for (const l of people.listeners) l();
  };
  for (const p of room.peers.values()) {
    people.names.set(p.peerId, p.displayName);
    if (p.handRaised) people.hands.push(p.peerId);
  }
  room.on('peerJoined', (p) => {
    people.names.set(p.peerId, p.displayName);
    changed();
  });
  room.on('peerLeft', ({ peerId, reason }) => {
    people.hands = people.hands.filter((id) => id !== peerId);
    changed();
    if (reason === 'reconnect') return;
    const name = people.names.get(peerId) ?? t('someone');
    ctx.toast(reason === 'removed' ? t('personRemoved', { name }) : t('personLeft', { name }));
  });
  room.on('handRaised', ({ peerId, raised }) => {
    people.hands = people.hands.filter((id) => id !== peerId);
    if (raised) people.hands.push(peerId);
    changed();
    const mine = peerId === room.peerId;
    if (raised && moderator && !mine) ctx.toast(t('handRaisedBy', { name: people.names.get(peerId) ?? t('someone') }));
  });
  return people;
}

/** Invite people to this meeting: their devices ring (a meeting invitation). */
async function invite(ctx: AppContext, session: MeetingSession, subs: string[]): Promise<void> {
  await placeInvite(ctx, session.room.roomId, subs);
}

/** Invite one person to the meeting this tab is in (the presence board's button). */
export function inviteButton(ctx: AppContext, sub: string, name: string): HTMLElement | null {
  const m = ctx.meeting;
  if (!m || m.ended || [...m.room.peers.values()].some((p) => p.sub === sub)) return null;
  return h(
    'button',
    {
      type: 'button',
      class: 'ghost small invite-person',
      onclick: async (e: Event) => {
        const b = e.currentTarget as HTMLButtonElement;
        b.disabled = true;
        try {
          await invite(ctx, m, [sub]);
          ctx.toast(t('invited', { name }));
        } catch (err) {
          b.disabled = false;
          ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
        }
      },
    },
    t('inviteToMeeting'),
  );
}

export interface ParticipantsPanel {
  el: HTMLElement;
  update(): void;
  dispose(): void;
}

/** The participants panel: names, raised hands in order, invitations, the meeting's link. */
export function participantsPanel(ctx: AppContext, session: MeetingSession, moderator: boolean): ParticipantsPanel {
  const room = session.room;
  const people = watchRoom(ctx, session, moderator);
  const list = h('ul', { class: 'participants' });
  const hands = h('ol', { class: 'hands-queue' });
  const handsBox = h('div', { class: 'hands', hidden: true }, h('h3', null, t('raisedHands')), hands);
  const inviteSelect = h('select', { id: 'invite-person', 'aria-label': t('inviteToMeeting') });
  const inviteForm = h(
    'form',
    {
      class: 'row wrap invite-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const sub = inviteSelect.value;
        if (!sub) return;
        const name = inviteSelect.selectedOptions[0]?.textContent ?? sub;
        try {
          await invite(ctx, session, [sub]);
          ctx.toast(t('invited', { name }));
        } catch (err) {
          ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
        }
      },
    },
    inviteSelect,
    h('button', { type: 'submit', class: 'small' }, t('invite')),
  );
  const el = h(
    'details',
    { class: 'participants-panel card' },
    h('summary', { class: 'participants-summary' }, t('participantsTitle')),
    list,
    handsBox,
    h('h3', null, t('inviteToMeeting')),
    inviteForm,
  );
  const nameOf = (peerId: string, sub: string) =>
    ctx.client.presence.people.get(sub)?.name ?? people.names.get(peerId) ?? sub;
  const update = () => {
    const peers = [...room.peers.values()];
    mount(
      list,
      h('li', { class: 'participant me' }, ctx.identity.name, ' ', h('span', { class: 'tag' }, t('you'))),
      peers.map((p) =>
        h(
          'li',
          { class: 'participant', dataset: { peer: p.peerId } },
          nameOf(p.peerId, p.sub),
          p.handRaised ? h('span', { class: 'tag hand-tag' }, t('handUp')) : null,
        ),
      ),
    );
    const queue = people.hands.filter((id) => id === room.peerId || room.peers.has(id));
    handsBox.hidden = queue.length === 0;
    mount(
      hands,
      queue.map((id) => {
        const p = room.peers.get(id);
        return h('li', { dataset: { peer: id } }, p ? nameOf(id, p.sub) : ctx.identity.name);
      }),
    );
    const inMeeting = new Set(peers.map((p) => p.sub));
    const candidates = [...ctx.client.presence.people.values()].filter(
      (p) => p.sub !== ctx.client.me.sub && !inMeeting.has(p.sub) && p.state !== 'offline',
    );
    const chosen = inviteSelect.value;
    mount(
      inviteSelect,
      candidates.map((p) => h('option', { value: p.sub, selected: p.sub === chosen }, p.name ?? p.sub)),
    );
    inviteForm.hidden = candidates.length === 0;
  };
  people.listeners.add(update);
  update();
  return {
    el,
    update,
    dispose() {
      people.listeners.delete(update);
    },
  };
}

/** "Add camera" in the devices panel, or why not (one camera, or the tier's limit reached). */
export function addCameraButton(
  ctx: AppContext,
  session: MeetingSession,
  cams: MediaDeviceInfo[],
  render: () => void,
): HTMLElement {
  const used = new Set(session.room.localTracks.map((l) => l.track.getSettings().deviceId));
  const free = cams.filter((c) => !used.has(c.deviceId));
  const cameras = session.room.localTracks.filter((l) => l.source === 'camera').length;
  const max = session.room.profile.maxProducersPerSource.camera;
  const why = free.length === 0 ? t('noOtherCamera') : cameras >= max ? t('cameraLimit', { n: max }) : null;
  if (why) return h('p', { class: 'muted add-camera-why' }, why);
  return h(
    'button',
    {
      type: 'button',
      class: 'small',
      onclick: () =>
        void session.addCamera().then(render, (err: unknown) => {
          log.warn('adding a camera failed', { error: err });
          ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
        }),
    },
    t('addCamera'),
  );
}
