/**
 * A channel's members (a panel that opens from the conversation's header): the members by name
 * with their role, adding people (from the people the app knows) and removing them where the
 * person may (owners and admins; anyone may leave). Direct messages, site channels and the
 * organisation's channel have fixed members and show no panel.
 */
import type { MyChannel } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h, mount } from '../dom.ts';
import { errorText, t } from '../i18n.ts';

const MEMBERS_SHOWN = 200;

export function membersPanel(
  ctx: AppContext,
  channel: MyChannel,
  nameOf: (sub: string) => string,
): HTMLDetailsElement | null {
  if (channel.kind === 'dm' || channel.kind === 'site' || channel.id.startsWith('org-everyone')) return null;
  const { client } = ctx;
  const chat = client.chat;
  const manager = channel.role === 'owner' || ctx.identity.role === 'admin';
  const list = h('ul', { class: 'members' });
  const addSelect = h('select', { id: 'member-add', 'aria-label': t('addMember') });
  const report = (err: unknown) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');

  const load = async () => {
    try {
      const { members } = await chat.members(channel.id, { limit: MEMBERS_SHOWN });
      const inChannel = new Set(members.map((m) => m.sub));
      mount(
        list,
        members.map((m) =>
          h(
            'li',
            { dataset: { sub: m.sub } },
            h('span', { class: 'member-name' }, nameOf(m.sub)),
            m.role === 'owner' ? h('span', { class: 'tag' }, t('owner')) : null,
            (manager && m.sub !== client.me.sub) || m.sub === client.me.sub
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'ghost small',
                    onclick: async () => {
                      try {
                        if (m.sub === client.me.sub) {
                          await chat.leave(channel.id);
                          ctx.navigate('#/chat');
                          return;
                        }
                        await chat.updateMembers(channel.id, { remove: [m.sub] });
                        await load();
                      } catch (err) {
                        report(err);
                      }
                    },
                  },
                  m.sub === client.me.sub ? t('leaveChannel') : t('removeMember'),
                )
              : null,
          ),
        ),
      );
      const candidates = [...client.presence.people.values()].filter((p) => !inChannel.has(p.sub));
      mount(
        addSelect,
        candidates.map((p) => h('option', { value: p.sub }, p.name ?? p.sub)),
      );
      addForm.hidden = candidates.length === 0 || (!manager && channel.kind === 'private');
    } catch (err) {
      report(err);
    }
  };

  const addForm = h(
    'form',
    {
      class: 'row wrap',
      hidden: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!addSelect.value) return;
        try {
          await chat.updateMembers(channel.id, { add: [addSelect.value] });
          await load();
        } catch (err) {
          report(err);
        }
      },
    },
    addSelect,
    h('button', { type: 'submit', class: 'small' }, t('addMember')),
  );
  const panel = h(
    'details',
    { class: 'members-panel' },
    h('summary', null, t('membersOf', { n: channel.memberCount })),
    list,
    addForm,
  );
  panel.addEventListener('toggle', () => {
    if (panel.open) void load();
  });
  return panel;
}
