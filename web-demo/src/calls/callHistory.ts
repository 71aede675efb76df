/**
 * "Recent calls" (the presence page): my last calls and invitations from the server's history
 * (`client.calls.history`), each with its outcome, who, and when; an invitation names its meeting
 * and offers "Join" while the meeting is still open (`meetingToJoin`). Read again when one of my
 * calls finishes. Names come from presence when known, else the person's id.
 */
import { type CallHistoryEntry, type CallInfo, callActive, meetingToJoin } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h, mount } from '../dom.ts';
import { errorText, type TextKey, t } from '../i18n.ts';
import { formatAgo } from '../time.ts';

const SHOWN = 10;

/** The card and a function that stops following the calls. */
export function callHistoryCard(ctx: AppContext): { el: HTMLElement; stop: () => void } {
  const { client } = ctx;
  const el = h('section', { class: 'card call-history' });
  let stopped = false;
  const nameOf = (sub: string) => client.presence.people.get(sub)?.name ?? sub;

  const row = (e: CallHistoryEntry) => {
    const joinRoom = meetingToJoin(e);
    const who = e.with.map(nameOf).join(', ');
    const what = e.meeting ? t('call_history_meeting', { name: e.meeting.name ?? t('call_history_unnamed') }) : null;
    return h(
      'li',
      { class: `call-entry ${e.outcome}${e.unread ? ' unread' : ''}`, dataset: { call: e.callId } },
      h('span', { class: 'call-entry-dir', 'aria-hidden': 'true' }, e.direction === 'outgoing' ? '↗' : '↙'),
      h('span', { class: 'call-entry-who' }, who),
      what ? h('span', { class: 'call-entry-meeting' }, what) : null,
      h('span', { class: 'call-entry-outcome' }, t(`call_history_${e.outcome}` as TextKey)),
      h('span', { class: 'call-entry-when muted' }, formatAgo(e.endedAt)),
      joinRoom
        ? h(
            'a',
            { class: 'button small call-entry-join', href: `#/meeting/${encodeURIComponent(joinRoom)}` },
            t('call_history_join'),
          )
        : null,
    );
  };

  const load = async () => {
    try {
      const { entries } = await client.calls.history(SHOWN);
      if (stopped) return;
      mount(
        el,
        h('h2', null, t('call_history_title')),
        entries.length === 0
          ? h('p', { class: 'muted' }, t('call_history_empty'))
          : h('ul', { class: 'call-entries' }, ...entries.map(row)),
      );
    } catch (err) {
      if (!stopped) mount(el, h('h2', null, t('call_history_title')), h('p', { class: 'error' }, errorText(err)));
    }
  };
  // a call of mine finished: its entry is written a moment later
  const onUpdate = (call: CallInfo) => {
    if (!callActive(call)) setTimeout(() => void load(), 500);
  };
  client.calls.on('update', onUpdate);
  void load();
  return {
    el,
    stop: () => {
      stopped = true;
      client.calls.off('update', onUpdate);
    },
  };
}
