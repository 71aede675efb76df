/**
 * Browsing and searching the organisation's public channels (`#/chat/browse`): the server's
 * `chat:channels:public` with a search text, one page at a time, and a join button on each
 * channel the person is not in yet. Joining opens the channel.
 */
import type { Channel } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h, mount } from '../dom.ts';
import { errorText, getLang, t } from '../i18n.ts';
import { siteLabel } from '../sites.ts';
import { channelTitle } from './names.ts';

const PAGE = 50;

export function browseChannels(root: HTMLElement, ctx: AppContext): () => void {
  const { chat } = ctx.client;
  let alive = true;
  let generation = 0;
  const search = h('input', {
    id: 'channel-search',
    type: 'search',
    placeholder: t('searchChannels'),
    'aria-label': t('searchChannels'),
    maxlength: '80',
  });
  const results = h('ul', { class: 'channel-results', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'small', hidden: true }, t('loadMore'));
  let after: string | undefined;

  const row = (c: Channel) => {
    const member = chat.myChannels.some((m) => m.id === c.id);
    const open = () => ctx.navigate(`#/chat/${encodeURIComponent(c.id)}`);
    return h(
      'li',
      { class: 'card', dataset: { channel: c.id } },
      h(
        'div',
        null,
        h('strong', { class: 'channel-name' }, channelTitle(c)),
        c.kind === 'site' && c.site
          ? h('div', { class: 'muted' }, t('siteTopic', { site: siteLabel(c.site, getLang()) }))
          : c.topic
            ? h('div', { class: 'muted' }, c.topic)
            : null,
        h('small', { class: 'muted' }, t('memberCount', { n: c.memberCount })),
      ),
      member
        ? h('button', { type: 'button', class: 'small', onclick: open }, t('open'))
        : h(
            'button',
            {
              type: 'button',
              class: 'small primary join-channel',
              onclick: async () => {
                try {
                  await chat.join(c.id);
                  open();
                } catch (err) {
                  ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
                }
              },
            },
            t('joinChannel'),
          ),
    );
  };

  const load = async (reset: boolean) => {
    const mine = ++generation;
    if (reset) after = undefined;
    const q = search.value.trim();
    try {
      const page = await chat.publicChannels({ limit: PAGE, ...(q ? { q } : {}), ...(after ? { after } : {}) });
      if (!alive || mine !== generation) return;
      if (reset) results.replaceChildren();
      for (const c of page.channels) results.appendChild(row(c));
      after = page.channels.at(-1)?.id ?? after;
      more.hidden = !page.hasMore;
      if (results.childElementCount === 0) mount(results, h('li', { class: 'muted' }, t('noChannelsFound')));
    } catch (err) {
      if (alive) ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
    }
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(true), 250);
  });
  more.addEventListener('click', () => void load(false));
  mount(
    root,
    h(
      'div',
      { class: 'browse-channels' },
      h('header', { class: 'conversation-head' }, h('h1', null, t('browseChannels'))),
      h(
        'form',
        {
          role: 'search',
          onsubmit: (e: Event) => {
            e.preventDefault();
            void load(true);
          },
        },
        search,
      ),
      results,
      more,
    ),
  );
  void load(true);
  search.focus();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
