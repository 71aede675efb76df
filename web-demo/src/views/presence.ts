import type { PersonPresence } from '@moim/client-sdk';
import type { View } from '../context.ts';
import { coalesce, h, mount } from '../dom.ts';
import { getLang, t } from '../i18n.ts';
import { KNOWN_SITES, siteKind, siteLabel, siteOrder } from '../sites.ts';
import { formatAgo } from '../time.ts';

const STATE_ORDER = { 'in-meeting': 0, online: 1, busy: 2, away: 3, offline: 4 } as const;

/** Presence board: everyone grouped by site (HQ, each smart office, home) with state, status and last seen. */
export const presenceView: View = (root, ctx) => {
  const { client, identity } = ctx;
  const presence = client.presence;
  const board = h('div', { class: 'board' });
  const mine = h('section', { class: 'card my-status' });
  mount(root, h('div', { class: 'page presence-page' }, h('h1', null, t('presenceTitle')), mine, board));

  const render = coalesce(() => {
    renderMine();
    renderBoard();
  });
  presence.on('update', render);
  const timer = setInterval(render, 30_000);

  void (async () => {
    const sites = new Set([...KNOWN_SITES.map((s) => s.id), identity.site]);
    try {
      await presence.subscribe({ sites: [...sites], teams: client.me.teams });
      // people at sites we do not list yet: watch those sites too
      const others = await presence.query({ limit: 1000 });
      const extra = [...new Set(others.map((p) => p.site).filter((s): s is string => !!s && !sites.has(s)))];
      if (extra.length) await presence.subscribe({ sites: extra });
    } catch (err) {
      ctx.toast(`${t('errorPrefix')}: ${(err as Error).message}`, 'error');
    }
    render();
  })();

  function renderMine(): void {
    const me = presence.people.get(identity.sub);
    const status = h('input', {
      id: 'my-status',
      maxlength: '200',
      placeholder: t('statusPlaceholder'),
      value: me?.status ?? '',
    });
    const busy = h('input', {
      type: 'checkbox',
      id: 'my-busy',
      checked: me?.busy ?? false,
      onchange: () => void presence.set({ busy: busy.checked }).catch(report),
    });
    const site = h(
      'select',
      {
        id: 'my-site',
        onchange: () => void presence.set({ site: site.value }).catch(report),
      },
      KNOWN_SITES.map((s) =>
        h('option', { value: s.id, selected: s.id === (me?.site ?? identity.site) }, s[getLang()]),
      ),
    );
    // keep what the person is typing when an update re-renders the card
    if (mine.contains(document.activeElement) && document.activeElement instanceof HTMLInputElement) return;
    mount(
      mine,
      h('h2', null, t('myStatus')),
      h(
        'form',
        {
          class: 'row wrap',
          onsubmit: (e: Event) => {
            e.preventDefault();
            const v = status.value.trim();
            void presence.set({ status: v || null }).catch(report);
          },
        },
        status,
        h('button', { type: 'submit' }, t('setStatus')),
        h(
          'button',
          {
            type: 'button',
            class: 'ghost',
            onclick: () => void presence.set({ status: null }).catch(report),
          },
          t('clearStatus'),
        ),
      ),
      h(
        'div',
        { class: 'row wrap' },
        h('label', { class: 'check' }, busy, h('span', null, t('busy'))),
        h('label', { for: 'my-site' }, t('movedTo')),
        site,
      ),
    );
  }

  function renderBoard(): void {
    const bySite = new Map<string, PersonPresence[]>();
    for (const s of KNOWN_SITES) bySite.set(s.id, []);
    for (const p of presence.people.values()) {
      const site = p.site ?? 'hq';
      if (!bySite.has(site)) bySite.set(site, []);
      bySite.get(site)!.push(p);
    }
    const groups = (['hq', 'smart-office', 'home'] as const).map((kind) => {
      const sites = [...bySite.keys()].filter((s) => siteKind(s) === kind).sort((a, b) => siteOrder(a) - siteOrder(b));
      return h(
        'section',
        { class: `site-group site-${kind}`, dataset: { kind } },
        h('h2', null, t(kind === 'hq' ? 'group_hq' : kind === 'home' ? 'group_home' : 'group_smart')),
        sites.map((site) => siteCard(site, bySite.get(site) ?? [], kind !== 'smart-office')),
      );
    });
    mount(board, groups);
  }

  function siteCard(site: string, people: PersonPresence[], single: boolean): HTMLElement {
    people.sort(
      (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || (a.name ?? a.sub).localeCompare(b.name ?? b.sub),
    );
    const online = people.filter((p) => p.state !== 'offline').length;
    return h(
      'div',
      { class: 'site card', dataset: { site } },
      single ? null : h('h3', null, siteLabel(site, getLang()), ' ', h('span', { class: 'count' }, String(online))),
      single ? h('div', { class: 'count-line' }, h('span', { class: 'count' }, String(online))) : null,
      people.length === 0
        ? h('p', { class: 'muted empty' }, t('nobody'))
        : h('ul', { class: 'people' }, people.map(personRow)),
    );
  }

  function personRow(p: PersonPresence): HTMLElement {
    const me = p.sub === identity.sub;
    const name = p.name ?? p.sub;
    const when =
      p.lastSeen === null ? null : p.state === 'offline' ? t('lastSeen', { when: formatAgo(p.lastSeen) }) : null;
    return h(
      'li',
      { class: `person state-${p.state}`, dataset: { sub: p.sub } },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initial(name)),
      h(
        'div',
        { class: 'person-main' },
        h(
          'div',
          { class: 'person-line' },
          h('span', { class: 'person-name' }, name),
          me ? h('span', { class: 'tag' }, t('you')) : null,
          h('span', { class: 'state' }, h('span', { class: 'dot' }), t(`state_${p.state}`)),
        ),
        p.status ? h('div', { class: 'person-status' }, p.status) : null,
        when ? h('div', { class: 'person-seen muted' }, when) : null,
      ),
    );
  }

  function report(err: unknown): void {
    ctx.toast(`${t('errorPrefix')}: ${(err as Error).message}`, 'error');
  }

  return () => {
    presence.off('update', render);
    clearInterval(timer);
  };
};

export function initial(name: string): string {
  return [...name.trim()][0]?.toUpperCase() ?? '?';
}
