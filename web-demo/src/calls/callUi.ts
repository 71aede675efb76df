/**
 * Calls in the web app: the incoming-call banner (with its ringtone) on every open tab, the
 * "calling…" and "in a call" bars, and `placeCall` for the call buttons of the presence board and
 * the DMs. The call itself is a video room: answering opens the meeting view of the call's room
 * (`#/meeting/<roomId>`), which joins it and publishes camera and microphone.
 *
 * A meeting invitation (`call.meeting`, from `placeInvite`: the participants panel and the presence
 * board) rings the same banner — "X invites you to <meeting>" with Join / Decline — and Join opens
 * the meeting (`#/meeting/<roomId>`), which joins it; the inviter sees "Inviting…" with Cancel and
 * hears how it ended. The meeting is never the invitation's: nothing here leaves it.
 *
 * Ringtone: a short generated tone played by an `<audio>` element. Browsers refuse to play sound
 * in a tab the person has not touched yet (autoplay policy); then the tab shows a system
 * Notification instead (when allowed). The banner says which one it used (`data-ringtone`:
 * `audio`, `notification`, or `silent`).
 */
import { type CallInfo, type CallMeeting, getLogger, invitationEndedBy, type MoimClient } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h, mount } from '../dom.ts';
import { errorText, type TextKey, t } from '../i18n.ts';

import './calls.css';

const log = getLogger('moim.web.calls');

/** Display names of the people of a call other than me. */
function othersOf(call: CallInfo, me: string): string {
  const all = [call.caller, ...call.callees].filter((p) => p.sub !== me);
  return all.map((p) => p.name ?? p.sub).join(', ');
}

/**
 * Calls this tab made or answered. Tabs of one browser share its device id (presence counts
 * browsers), so "answered here" is this tab's own record, not `me.answeredOn`.
 */
const ownedHere = new Set<string>();
/** The running call UI's reaction to a call (set by startCallUi). */
let follow: ((call: CallInfo) => void) | undefined;

/** Call these people and show the "calling…" bar (the presence board's and the DMs' call buttons). */
export async function placeCall(ctx: AppContext, subs: string[] | (() => Promise<string[]>)): Promise<void> {
  try {
    const call = await ctx.client.calls.start(typeof subs === 'function' ? await subs() : subs);
    ownedHere.add(call.id);
    // the call may have been answered before the answer to `start` came back
    follow?.(ctx.client.calls.get(call.id) ?? call);
  } catch (err) {
    ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
  }
}

/**
 * Ring these people into the meeting `roomId` this tab is in (a meeting invitation) and show the
 * "Inviting…" bar until it ends. Errors are the caller's to show.
 */
export async function placeInvite(ctx: AppContext, roomId: string, subs: string[]): Promise<CallInfo> {
  const call = await ctx.client.calls.invite(roomId, subs);
  ownedHere.add(call.id);
  follow?.(ctx.client.calls.get(call.id) ?? call);
  return call;
}

/** A call button for one person or several (`subs` may be looked up at the click: a DM's members). */
export function callButton(
  ctx: AppContext,
  subs: string[] | (() => Promise<string[]>),
  label: string,
): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'ghost small call-button',
      title: t('call_buttonTitle', { name: label }),
      'aria-label': t('call_buttonTitle', { name: label }),
      dataset: { call: typeof subs === 'function' ? 'members' : subs.join(',') },
      onclick: () => void placeCall(ctx, subs),
    },
    '📞 ',
    t('call_button'),
  );
}

/**
 * Mount the call bars into `host` and follow the client's calls. Returns the function that stops
 * (the shell's sign-out).
 */
export function startCallUi(host: HTMLElement, ctx: AppContext): () => void {
  const client: MoimClient = ctx.client;
  const me = ctx.identity.sub;
  const bars = new Map<string, HTMLElement>();
  const rings = new Map<string, Ringtone>();
  /** Calls whose room this tab opened already. */
  const opened = new Set<string>();
  /**
   * The call rooms this tab opened, by room id: the page the person was on before (`from`, where
   * they go back to when the call is over) and whether its meeting ended while they were looking
   * at it (`onPage`: the meeting view then moved to the lobby, `#/meeting`).
   */
  const trips = new Map<string, { from: string; onPage: boolean }>();
  const roomPage = (roomId: string) => `#/meeting/${encodeURIComponent(roomId)}`;

  const render = (call: CallInfo) => {
    const active = call.state === 'ringing' || call.state === 'accepted';
    const ringingHere = rings.has(call.id);
    const mine = ownedHere.has(call.id);
    let bar: HTMLElement | null = null;
    if (active && ringingHere) bar = call.meeting ? invitationBar(call, call.meeting) : incomingBar(call);
    else if (call.meeting) {
      // an invitation: only its inviter follows it (the invitees are in the meeting, or not)
      if (active && mine && call.me.state === 'caller' && call.callees.some((p) => p.state === 'ringing'))
        bar = callingBar(call);
    } else if (active && mine && call.me.state !== 'left')
      bar = call.state === 'ringing' ? callingBar(call) : inCallBar(call);
    const old = bars.get(call.id);
    if (!bar) {
      old?.remove();
      bars.delete(call.id);
      return;
    }
    if (old) old.replaceWith(bar);
    else host.appendChild(bar);
    bars.set(call.id, bar);
  };

  /** The banner of what rings here, a call or a meeting invitation: accept (or join), decline, dismiss. */
  const ringingBar = (
    call: CallInfo,
    o: {
      bannerClass: string;
      label: string;
      text: string;
      icon: string;
      acceptClass: string;
      acceptText: string;
      dataset?: Record<string, string>;
    },
  ) =>
    h(
      'div',
      {
        class: o.bannerClass,
        role: 'alertdialog',
        'aria-label': o.label,
        dataset: { callId: call.id, ...o.dataset, ringtone: rings.get(call.id)?.mode ?? 'silent' },
      },
      h('span', { class: 'call-icon', 'aria-hidden': 'true' }, o.icon),
      h('span', { class: 'call-text' }, o.text),
      h('button', { type: 'button', class: o.acceptClass, onclick: () => void accept(call.id) }, o.acceptText),
      h(
        'button',
        { type: 'button', class: 'danger call-decline', onclick: () => void act(() => client.calls.decline(call.id)) },
        t('call_decline'),
      ),
      h(
        'button',
        { type: 'button', class: 'ghost call-dismiss', onclick: () => void act(() => client.calls.dismiss(call.id)) },
        t('call_dismiss'),
      ),
    );

  const incomingBar = (call: CallInfo) => {
    const name = call.caller.name ?? call.caller.sub;
    const others = call.callees.length - 1;
    return ringingBar(call, {
      bannerClass: 'call-banner incoming',
      label: t('call_incoming', { name }),
      text: others > 0 ? t('call_incomingGroup', { name, n: others }) : t('call_incoming', { name }),
      icon: '📞',
      acceptClass: 'primary call-accept',
      acceptText: t('call_accept'),
    });
  };

  const invitationBar = (call: CallInfo, meeting: CallMeeting) => {
    const name = call.caller.name ?? call.caller.sub;
    const text = meeting.name ? t('inviteTitleNamed', { name, meeting: meeting.name }) : t('inviteTitle', { name });
    return ringingBar(call, {
      bannerClass: 'call-banner incoming invitation',
      label: text,
      text,
      icon: '📨',
      acceptClass: 'primary call-accept invite-join',
      acceptText: t('join'),
      dataset: { roomId: meeting.roomId },
    });
  };

  const partyList = (call: CallInfo) =>
    h(
      'ul',
      { class: 'call-parties' },
      call.callees.map((p) =>
        h(
          'li',
          { dataset: { sub: p.sub, state: p.state } },
          p.name ?? p.sub,
          ' · ',
          t(`call_party_${p.state}` as TextKey),
        ),
      ),
    );

  const callingBar = (call: CallInfo) =>
    h(
      'div',
      { class: 'call-banner outgoing', role: 'status', dataset: { callId: call.id } },
      h('span', { class: 'call-icon', 'aria-hidden': 'true' }, '📞'),
      h(
        'span',
        { class: 'call-text' },
        t(call.meeting ? 'call_inviting' : 'call_calling', { names: othersOf(call, me) }),
      ),
      call.group ? partyList(call) : null,
      h(
        'button',
        { type: 'button', class: 'danger call-cancel', onclick: () => void act(() => client.calls.cancel(call.id)) },
        t('call_cancel'),
      ),
    );

  const inCallBar = (call: CallInfo) => {
    const inCall = new Set([
      call.caller.sub,
      ...call.callees.filter((p) => p.state === 'joined' || p.state === 'ringing').map((p) => p.sub),
    ]);
    const add = h(
      'select',
      { class: 'call-add-input', 'aria-label': t('call_addPlaceholder') },
      h('option', { value: '' }, t('call_addPlaceholder')),
      [...client.presence.people.values()]
        .filter((p) => !inCall.has(p.sub) && p.state !== 'offline')
        .map((p) => h('option', { value: p.sub }, p.name ?? p.sub)),
    );
    return h(
      'div',
      { class: 'call-banner active', role: 'status', dataset: { callId: call.id, roomId: call.roomId ?? '' } },
      h('span', { class: 'call-icon', 'aria-hidden': 'true' }, '🎧'),
      h('span', { class: 'call-text' }, t('call_inCall', { names: othersOf(call, me) })),
      partyList(call),
      call.roomId
        ? h(
            'a',
            { class: 'button small call-open', href: `#/meeting/${encodeURIComponent(call.roomId)}` },
            t('call_open'),
          )
        : null,
      h(
        'form',
        {
          class: 'call-add',
          onsubmit: (e: Event) => {
            e.preventDefault();
            const sub = add.value;
            if (sub) void act(() => client.calls.add(call.id, [sub]));
          },
        },
        add,
        h('button', { type: 'submit', class: 'ghost small' }, t('call_add')),
      ),
      h('button', { type: 'button', class: 'danger call-hangup', onclick: () => void hangup(call) }, t('call_hangup')),
    );
  };

  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (err) {
      ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
    }
  };

  const openRoom = (call: CallInfo) => {
    if (!call.roomId || opened.has(call.id)) return;
    opened.add(call.id);
    const from = location.hash;
    // from another meeting (or nowhere): back to the presence board, not into that meeting again
    trips.set(call.roomId, {
      from: from.startsWith('#/meeting') || !from.startsWith('#/') ? '#/presence' : from,
      onPage: false,
    });
    ctx.navigate(roomPage(call.roomId));
  };

  const accept = async (callId: string) => {
    try {
      ownedHere.add(callId);
      const call = await client.calls.accept(callId);
      if (call.meeting) {
        // an invitation: the meeting view joins the meeting; the invitation is not this tab's to follow
        ownedHere.delete(callId);
        render(call);
        if (call.me.state === 'joined') ctx.navigate(roomPage(call.meeting.roomId));
      } else if (call.state === 'accepted') openRoom(call);
      else render(call);
    } catch (err) {
      ownedHere.delete(callId);
      ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
    }
  };

  /**
   * Leave the call's room (when this tab is still in it) and, if the person is still looking at
   * the call (its meeting page, or the lobby its ended meeting moved them to), go back to the page
   * they were on before the call. The room closes with the call, so its meeting may have ended
   * already (`room:closed` before the call's update): then only the going back is left to do.
   */
  const leaveRoom = async (call: CallInfo) => {
    const roomId = call.roomId;
    if (!roomId) return;
    const m = ctx.meeting;
    if (m && m.room.roomId === roomId && !m.ended) {
      await m.leave();
      ctx.setMeeting(undefined);
    }
    const trip = trips.get(roomId);
    trips.delete(roomId);
    const page = roomPage(roomId);
    if (location.hash === page || (trip?.onPage && location.hash === '#/meeting'))
      ctx.navigate(trip?.from ?? '#/presence');
  };

  const hangup = async (call: CallInfo) => {
    await act(() => client.calls.hangup(call.id));
    await leaveRoom(call).catch((error: unknown) => log.warn('leaving the call room failed', { call: call.id, error }));
  };

  const onRing = (call: CallInfo) => {
    const name = call.caller.name ?? call.caller.sub;
    const text = !call.meeting
      ? t('call_notification', { name })
      : call.meeting.name
        ? t('inviteTitleNamed', { name, meeting: call.meeting.name })
        : t('inviteTitle', { name });
    const tone = new Ringtone(text, () => {
      const bar = bars.get(call.id);
      if (bar) bar.dataset.ringtone = tone.mode;
    });
    rings.set(call.id, tone);
    tone.start();
    render(call);
  };
  const onStop = (call: CallInfo) => {
    rings.get(call.id)?.stop();
    rings.delete(call.id);
    if (call.me.state === 'joined' && !ownedHere.has(call.id)) ctx.toast(t('call_answeredElsewhere'));
    // an invitation that ended with its meeting for the inviter: say why the ring stopped
    const ended = invitationEnded(call);
    if (ended && call.me.state === 'cancelled') ctx.toast(t(ended, { name: call.caller.name ?? call.caller.sub }));
    render(call);
  };
  const onUpdate = (call: CallInfo) => {
    render(call);
    if (!ownedHere.has(call.id)) return;
    if (call.meeting) {
      // my invitation ended: how (the meeting itself goes on whatever happened)
      if (call.state !== 'ringing' && call.state !== 'accepted' && call.me.state === 'caller') {
        ownedHere.delete(call.id);
        const ended = invitationEnded(call);
        ctx.toast(
          ended ? t(`${ended}_mine`) : t(`call_invite_${call.state}` as TextKey, { names: othersOf(call, me) }),
        );
      }
      return;
    }
    if (call.state === 'accepted' && call.me.state !== 'left') openRoom(call);
    if (call.state !== 'ringing' && call.state !== 'accepted') {
      if (call.me.state === 'caller' || call.state === 'ended' || call.state === 'failed') {
        const names = othersOf(call, me);
        ctx.toast(t(`call_end_${call.state}` as TextKey, { names }));
      }
      void leaveRoom(call).catch((error: unknown) =>
        log.warn('leaving the call room failed', { call: call.id, error }),
      );
    }
  };
  // leaving the call's room in the meeting view (its Leave button) hangs up the call too (and goes
  // back to where the person was)
  const setMeeting = ctx.setMeeting;
  ctx.setMeeting = (m) => {
    const before = ctx.meeting;
    setMeeting.call(ctx, m);
    if (!before || m) return;
    const roomId = before.room.roomId;
    // the meeting view moves to the lobby right after this when the person is looking at it
    const trip = trips.get(roomId);
    if (trip && location.hash === roomPage(roomId)) trip.onPage = true;
    const call = client.calls.active.find((c) => c.roomId === roomId && ownedHere.has(c.id));
    if (call && call.me.state !== 'left') void hangup(call);
  };
  client.calls.on('ring', onRing);
  client.calls.on('stopRinging', onStop);
  client.calls.on('update', onUpdate);
  follow = onUpdate;
  // calls that rang before this UI started (the SDK heard of them at connect)
  for (const call of client.calls.ringing) onRing(call);
  for (const call of client.calls.active) render(call);
  void client.calls.refresh().catch((error: unknown) => log.warn('listing calls failed', { error }));

  return () => {
    client.calls.off('ring', onRing);
    client.calls.off('stopRinging', onStop);
    client.calls.off('update', onUpdate);
    if (follow === onUpdate) follow = undefined;
    ctx.setMeeting = setMeeting;
    for (const r of rings.values()) r.stop();
    rings.clear();
    mount(host);
  };
}

/**
 * The ringtone of one incoming call: a generated two-tone ring looped by an `<audio>` element;
 * when the browser refuses to play (no interaction with the tab yet) a Notification instead.
 */
class Ringtone {
  mode: 'audio' | 'notification' | 'silent' = 'silent';
  readonly #text: string;
  readonly #changed: () => void;
  #audio: HTMLAudioElement | undefined;
  #notification: Notification | undefined;
  #stopped = false;

  constructor(text: string, changed: () => void) {
    this.#text = text;
    this.#changed = changed;
  }

  start(): void {
    const audio = new Audio(ringUrl());
    audio.loop = true;
    this.#audio = audio;
    audio.play().then(
      () => {
        if (this.#stopped) audio.pause();
        else this.#set('audio');
      },
      (error: unknown) => {
        // autoplay refused (NotAllowedError): tell the person another way
        log.info('the ringtone may not play in this tab; showing a notification', { error });
        this.#notify();
      },
    );
  }

  #notify(): void {
    if (this.#stopped || typeof Notification === 'undefined') return;
    const show = () => {
      if (this.#stopped || Notification.permission !== 'granted') return;
      this.#notification = new Notification('moim', { body: this.#text, tag: 'moim-call', requireInteraction: true });
      this.#set('notification');
    };
    if (Notification.permission === 'default')
      void Notification.requestPermission().then(show, (error: unknown) =>
        log.warn('notification permission request failed', { error }),
      );
    else show();
  }

  #set(mode: 'audio' | 'notification'): void {
    this.mode = mode;
    this.#changed();
  }

  stop(): void {
    this.#stopped = true;
    this.#audio?.pause();
    this.#notification?.close();
  }
}

let cachedRing: string | undefined;
/** A 2-second ring (0.4 s of 440+480 Hz, twice, then silence) as a WAV blob URL, made once. */
function ringUrl(): string {
  if (cachedRing) return cachedRing;
  const rate = 8000;
  const n = rate * 2;
  const buf = new ArrayBuffer(44 + n * 2);
  const v = new DataView(buf);
  const str = (o: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i));
  };
  str(0, 'RIFF');
  v.setUint32(4, 36 + n * 2, true);
  str(8, 'WAVE');
  str(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  str(36, 'data');
  v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {
    const s = i / rate;
    const on = s < 0.4 || (s >= 0.6 && s < 1.0);
    const x = on ? 0.25 * (Math.sin(2 * Math.PI * 440 * s) + Math.sin(2 * Math.PI * 480 * s)) : 0;
    v.setInt16(44 + i * 2, Math.round(x * 32767 * 0.5), true);
  }
  cachedRing = URL.createObjectURL(new Blob([buf], { type: 'audio/wav' }));
  return cachedRing;
}

/** The text key of an invitation the server ended with its meeting (`inviter-left`, `meeting-closed`), if so. */
function invitationEnded(call: CallInfo): 'call_invite_inviterLeft' | 'call_invite_meetingClosed' | null {
  const by = invitationEndedBy(call);
  return by === null ? null : by === 'inviter-left' ? 'call_invite_inviterLeft' : 'call_invite_meetingClosed';
}
