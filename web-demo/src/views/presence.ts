import type { PersonPresence } from '@moim/client-sdk';
import { callHistoryCard } from '../calls/callHistory.ts';
import { callButton } from '../calls/callUi.ts';
import type { View } from '../context.ts';
import { coalesce, h, mount } from '../dom.ts';
import { errorText, getLang, t } from '../i18n.ts';
import { inviteButton } from '../meeting/participants.ts';
import { KIND_ORDER, knownSites, loadSites, onSitesChange, siteKind, siteLabel, siteOrder } from '../sites.ts';
import { formatAgo } from '../time.ts';

const STATE_ORDER = { 'in-call': 0, 'in-meeting': 0, online: 1, busy: 2, away: 3, offline: 4 } as const;

/**
 * Presence board: everyone grouped by site (HQ, each smart-work centre, home: the organisation's
 * sites as data, see sites.ts) with state, status and last seen.
 */
export const presenceView: View = (root, ctx) => {
  const { client, identity } = ctx;
  const presence = client.presence;
  const board = h('div', { class: 'board' });
  const mine = h('section', { class: 'card my-status' });
  const history = callHistoryCard(ctx);
  mount(root, h('div', { class: 'page presence-page' }, h('h1', null, t('presenceTitle')), mine, history.el, board));

  const render = coalesce(() => {
    renderMine();
    renderBoard();
  });
  presence.on('update', render);
  const timer = setInterval(render, 30_000);
  /** Sites this board subscribed to (a site created later is subscribed when the list changes). */
  const watched = new Set<string>();
  const watchSites = async () => {
    const fresh = [...new Set([...knownSites().map((s) => s.id), identity.site])].filter((s) => !watched.has(s));
    for (const s of fresh) watched.add(s);
    // the server takes at most 50 sites per call
    for (let i = 0; i < fresh.length; i += 50) await presence.subscribe({ sites: fresh.slice(i, i + 50) });
  };
  const offSites = onSitesChange(() => {
    render();
    watchSites().catch(report);
  });

  void (async () => {
    try {
      // the session's list, refreshed as the board opens (a centre created since shows up)
      const loading = loadSites(client.telework, { force: true });
      if (knownSites().length === 0) await loading.catch(report);
      else void loading.catch(report);
      await presence.subscribe({ teams: client.me.teams });
      await watchSites();
      // people at sites we do not list yet: watch those sites too
      const others = await presence.query({ limit: 1000 });
      const extra = [...new Set(others.map((p) => p.site).filter((s): s is string => !!s && !watched.has(s)))];
      for (const s of extra) watched.add(s);
      for (let i = 0; i < extra.length; i += 50) await presence.subscribe({ sites: extra.slice(i, i + 50) });
    } catch (err) {
      report(err);
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
      [...new Set([...knownSites().map((s) => s.id), me?.site ?? identity.site])].map((id) =>
        h('option', { value: id, selected: id === (me?.site ?? identity.site) }, siteLabel(id, getLang())),
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
    for (const s of knownSites()) bySite.set(s.id, []);
    for (const p of presence.people.values()) {
      const site = p.site ?? 'hq';
      if (!bySite.has(site)) bySite.set(site, []);
      bySite.get(site)!.push(p);
    }
    const groups = KIND_ORDER.map((kind) => {
      const sites = [...bySite.keys()].filter((s) => siteKind(s) === kind).sort((a, b) => siteOrder(a) - siteOrder(b));
      // one headquarters and one home need no title of their own; centres are always named
      const single = kind !== 'smart-work-centre' && sites.length === 1;
      return h(
        'section',
        { class: `site-group site-${kind}`, dataset: { kind } },
        h('h2', null, t(kind === 'hq' ? 'group_hq' : kind === 'home' ? 'group_home' : 'group_smart')),
        sites.map((site) => siteCard(site, bySite.get(site) ?? [], single)),
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
          me ? null : callButton(ctx, [p.sub], name),
        ),
        p.status ? h('div', { class: 'person-status' }, p.status) : null,
        me || p.state === 'offline' ? null : inviteButton(ctx, p.sub, name),
        when ? h('div', { class: 'person-seen muted' }, when) : null,
      ),
    );
  }

  function report(err: unknown): void {
    ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
  }

  return () => {
    history.stop();
    presence.off('update', render);
    offSites();
    clearInterval(timer);
  };
};

export function initial(name: string): string {
  return [...name.trim()][0]?.toUpperCase() ?? '?';
}
