/**
 * The meeting lobby (`#/meeting`): create a meeting (name and tier), join one by its code, and the
 * meetings this browser joined recently (kept in localStorage). A meeting is a video room of the
 * SDK (`client.rooms`, `Room`).
 */
import { type RoomRecordInfo, TIER_PROFILES, type Tier } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h, mount } from '../dom.ts';
import { creatableTiers } from '../grants.ts';
import { errorText, t } from '../i18n.ts';
import { setStrictNetwork } from '../network.ts';
import { formatAgo } from '../time.ts';

const RECENT_KEY = 'moim.recentRooms';

interface Recent {
  roomId: string;
  name: string | null;
  tier: Tier;
  at: number;
}

function recentRooms(): Recent[] {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as Recent[];
    return Array.isArray(v) ? v.filter((r) => typeof r?.roomId === 'string').slice(0, 8) : [];
  } catch {
    return [];
  }
}

export function remember(r: RoomRecordInfo): void {
  const list = [
    { roomId: r.roomId, name: r.name, tier: r.tier, at: Date.now() },
    ...recentRooms().filter((x) => x.roomId !== r.roomId),
  ];
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, 8)));
  } catch {
    // not fatal
  }
}

export function lobby(root: HTMLElement, ctx: AppContext): () => void {
  const name = h('input', { id: 'meeting-name', maxlength: '100', placeholder: t('meetingName') });
  // only the tiers the person's grants allow (a member is not offered immersive rooms)
  const allowed = creatableTiers(ctx.client.token);
  const preferred: Tier = allowed.includes('standard') ? 'standard' : (allowed[0] ?? 'standard');
  const tiers = allowed.map((tier) =>
    h(
      'label',
      { class: 'tier-option', dataset: { tier } },
      h('input', { type: 'radio', name: 'tier', value: tier, checked: tier === preferred }),
      h(
        'span',
        null,
        h('strong', null, t(`tier_${tier}`)),
        h('small', { class: 'muted' }, t(`tierDesc_${tier}`, { n: TIER_PROFILES[tier].maxPeers })),
      ),
    ),
  );
  const code = h('input', { id: 'room-code', maxlength: '64', placeholder: t('roomCode'), required: true });
  const busy = (form: HTMLFormElement, on: boolean) => {
    for (const b of form.querySelectorAll('button')) b.disabled = on;
  };
  const recents = recentRooms();
  mount(
    root,
    h(
      'div',
      { class: 'page lobby' },
      h('h1', null, t('meetingTitle')),
      ctx.meeting
        ? h(
            'p',
            { class: 'card' },
            t('inMeeting', { name: ctx.meeting.title }),
            ' ',
            h('a', { href: `#/meeting/${encodeURIComponent(ctx.meeting.room.roomId)}` }, t('backToMeeting')),
          )
        : null,
      h(
        'div',
        { class: 'lobby-grid' },
        h(
          'form',
          {
            class: 'card',
            id: 'new-meeting',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              const form = e.currentTarget as HTMLFormElement;
              const checked = form.querySelector<HTMLInputElement>('input[name=tier]:checked');
              if (!checked) return;
              const tier = checked.value as Tier;
              busy(form, true);
              try {
                const record = await ctx.client.rooms.create({
                  tier,
                  ...(name.value.trim() ? { name: name.value.trim() } : {}),
                });
                remember(record);
                ctx.navigate(`#/meeting/${encodeURIComponent(record.roomId)}`);
              } catch (err) {
                ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
                busy(form, false);
              }
            },
          },
          h('h2', null, t('newMeeting')),
          h('label', { for: 'meeting-name' }, t('meetingName')),
          name,
          h('fieldset', { class: 'tiers' }, h('legend', null, t('tier')), tiers),
          h('button', { type: 'submit', class: 'primary' }, t('create')),
        ),
        h(
          'form',
          {
            class: 'card',
            id: 'join-meeting',
            onsubmit: (e: Event) => {
              e.preventDefault();
              const v = code.value.trim();
              if (v) ctx.navigate(`#/meeting/${encodeURIComponent(v)}`);
            },
          },
          h('h2', null, t('joinById')),
          h('label', { for: 'room-code' }, t('roomCode')),
          code,
          h('button', { type: 'submit' }, t('join')),
          recents.length
            ? [
                h('h3', null, t('recentRooms')),
                h(
                  'ul',
                  { class: 'recent' },
                  recents.map((r) =>
                    h(
                      'li',
                      null,
                      h('a', { href: `#/meeting/${encodeURIComponent(r.roomId)}` }, r.name ?? r.roomId),
                      h('span', { class: 'muted' }, `${t(`tier_${r.tier}`)} · ${formatAgo(r.at)}`),
                    ),
                  ),
                ),
              ]
            : null,
        ),
      ),
      // this browser's network setting, for every meeting it creates or joins
      h(
        'div',
        { class: 'card network-setting' },
        h(
          'label',
          { class: 'strict-network' },
          h('input', {
            type: 'checkbox',
            id: 'strict-network',
            checked: ctx.client.rooms.network.strictNetwork,
            onchange: (e: Event) => setStrictNetwork(ctx.client, (e.currentTarget as HTMLInputElement).checked),
          }),
          h(
            'span',
            null,
            h('strong', null, t('strictNetwork')),
            h('small', { class: 'muted' }, t('strictNetworkHint')),
          ),
        ),
      ),
    ),
  );
  return () => {};
}
