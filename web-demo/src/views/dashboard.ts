/**
 * The manager's view (`#/telework/dashboard[/<day>]`): for a working day — today by default, any
 * day from the picker — the totals (expected, checked in, late, absent, at HQ, at centres, at
 * home, online, approvals waiting), each site with its centre occupancy (seats booked / seats),
 * each team, and the people with their status and where they are (the site they checked in at
 * and how it was known: `network` from the site's address ranges, `declared`, `manual`). It is
 * refreshed every few seconds while shown; the CSV download holds the same people rows. Whom it
 * shows is the server's decision (admins everyone, managers their reports, members themself).
 */
import { addDays, type DashboardPerson, type DashboardView } from '@moim/client-sdk';
import type { View } from '../context.ts';
import { h, mount } from '../dom.ts';
import { t } from '../i18n.ts';
import { siteOf } from '../sites.ts';
import { formatTime } from '../time.ts';
import { DAY_RE, errorBox, site, statusTag, timeAt, typeLabel } from './teleworkCommon.ts';

/** How often the shown day is read again. */
export const DASHBOARD_REFRESH_MS = 5_000;

export const dashboardView: View = (root, ctx, params) => {
  let alive = true;
  let view: DashboardView | undefined;
  /** The day asked for; undefined: the server's today (it follows midnight). */
  let day: string | undefined = params[0] && DAY_RE.test(params[0]) ? params[0] : undefined;
  let inFlight = false;

  const dayInput = h('input', {
    id: 'dash-day',
    type: 'date',
    onchange: () => {
      if (DAY_RE.test(dayInput.value)) choose(dayInput.value);
    },
  });
  const updated = h('span', { class: 'muted', id: 'dash-updated' });
  const totals = h('div', { class: 'dash-totals', id: 'dash-totals' });
  const sites = h('tbody');
  const teams = h('tbody');
  const people = h('tbody');
  const error = errorBox('dash-error');
  const head = (...cols: string[]) =>
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        cols.map((c) => h('th', null, c)),
      ),
    );
  mount(
    root,
    h(
      'div',
      { class: 'page dashboard-page' },
      h('h1', null, t('dashTitle')),
      h(
        'div',
        { class: 'card row wrap dash-pick' },
        h('label', { for: 'dash-day' }, t('bookingDay')),
        h(
          'button',
          { type: 'button', class: 'ghost small', 'aria-label': t('bookingPrevDay'), onclick: () => shift(-1) },
          '‹',
        ),
        dayInput,
        h(
          'button',
          { type: 'button', class: 'ghost small', 'aria-label': t('bookingNextDay'), onclick: () => shift(1) },
          '›',
        ),
        h(
          'button',
          { type: 'button', class: 'ghost small', id: 'dash-today', onclick: () => choose(undefined) },
          t('dashToday'),
        ),
        h('button', { type: 'button', class: 'small', id: 'dash-csv', onclick: () => void download() }, t('dashCsv')),
        updated,
      ),
      error.el,
      totals,
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('dashSites')),
        h(
          'table',
          { class: 'table', id: 'dash-sites' },
          head(
            t('site'),
            t('dashExpected'),
            t('dashCheckedIn'),
            t('dashLate'),
            t('dashAbsent'),
            t('dashOnline'),
            t('dashOccupancy'),
          ),
          sites,
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('dashTeams')),
        h(
          'table',
          { class: 'table', id: 'dash-teams' },
          head(t('dashTeam'), t('dashPeople'), t('dashExpected'), t('dashCheckedIn'), t('dashLate'), t('dashAbsent')),
          teams,
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('dashPeople')),
        h(
          'table',
          { class: 'table', id: 'dash-people' },
          head(t('name'), t('dashTeam'), t('dashExpectedAt'), t('dashWhere'), t('dashSince'), t('dashStatus')),
          people,
        ),
      ),
    ),
  );

  function choose(d: string | undefined): void {
    day = d;
    // the address names the day, so a reload or a shared link shows the same one
    history.replaceState(null, '', d ? `#/telework/dashboard/${d}` : '#/telework/dashboard');
    void refresh();
  }

  function shift(by: number): void {
    const from = view?.day ?? day;
    if (from) choose(addDays(from, by));
  }

  async function refresh(): Promise<void> {
    if (inFlight) return;
    inFlight = true;
    const asked = day;
    try {
      const v = await ctx.client.dashboard.view(asked);
      if (!alive || asked !== day) return;
      view = v;
      error.clear();
      render(v);
    } catch (err) {
      if (alive) error.show(err);
    } finally {
      inFlight = false;
    }
  }

  async function download(): Promise<void> {
    try {
      const text = await ctx.client.dashboard.csv(view?.day ?? day);
      // the BOM lets spreadsheets read the UTF-8 (Korean names) right; decoding dropped the server's
      const blob = new Blob([`\uFEFF${text}`], { type: 'text/csv;charset=utf-8' });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `moim-dashboard-${view?.day ?? day ?? 'today'}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      if (alive) error.show(err);
    }
  }

  function render(v: DashboardView): void {
    dayInput.value = v.day;
    updated.textContent = t('dashUpdated', { when: formatTime(Date.parse(v.at)) });
    const total = (key: keyof DashboardView['totals'], label: string) =>
      h(
        'div',
        { class: 'total card', dataset: { key } },
        h('strong', { class: 'total-value' }, String(v.totals[key])),
        h('span', null, label),
      );
    mount(
      totals,
      total('people', t('dashPeople')),
      total('expected', t('dashExpected')),
      total('checkedIn', t('dashCheckedIn')),
      total('late', t('dashLate')),
      total('absent', t('dashAbsent')),
      total('notYet', t('dashNotYet')),
      total('atHq', t('dashAtHq')),
      total('atCentres', t('dashAtCentres')),
      total('atHome', t('dashAtHome')),
      total('online', t('dashOnline')),
      total('pendingApprovals', t('dashPending')),
    );
    mount(
      sites,
      v.sites.map((s) =>
        h(
          'tr',
          { dataset: { site: s.id, kind: s.kind } },
          h('td', null, site(s.id)),
          h('td', { dataset: { key: 'expected' } }, String(s.expected)),
          h('td', { dataset: { key: 'checkedIn' } }, String(s.checkedIn)),
          h('td', { dataset: { key: 'late' } }, String(s.late)),
          h('td', { dataset: { key: 'absent' } }, String(s.absent)),
          h('td', { dataset: { key: 'online' } }, String(s.online)),
          h(
            'td',
            { dataset: { key: 'occupancy' } },
            s.kind === 'smart-work-centre' || s.seats > 0
              ? h(
                  'span',
                  { class: 'occupancy' },
                  h('meter', { min: '0', max: String(Math.max(1, s.seats)), value: String(s.booked) }),
                  ` ${s.booked}/${s.seats}`,
                )
              : '—',
          ),
        ),
      ),
    );
    mount(
      teams,
      v.teams.map((tm) =>
        h(
          'tr',
          { dataset: { team: tm.team } },
          h('td', null, tm.team || t('dashNoTeam')),
          h('td', null, String(tm.people)),
          h('td', null, String(tm.expected)),
          h('td', null, String(tm.checkedIn)),
          h('td', null, String(tm.late)),
          h('td', null, String(tm.absent)),
        ),
      ),
    );
    mount(
      people,
      v.people.length
        ? v.people.map(personRow)
        : h('tr', null, h('td', { colspan: '6', class: 'muted' }, t('dashNobody'))),
    );
  }

  function personRow(p: DashboardPerson): HTMLElement {
    return h(
      'tr',
      {
        dataset: {
          sub: p.sub,
          status: p.status,
          expected: p.expectedSiteId ?? '',
          site: p.checkedInSiteId ?? '',
          source: p.source ?? '',
          online: p.online ? 'yes' : 'no',
        },
      },
      h(
        'td',
        null,
        h('span', { class: `dot ${p.online ? 'dot-online' : 'dot-offline'}`, title: p.online ? t('dashOnline') : '' }),
        ' ',
        h('span', { class: 'person-name' }, p.name),
      ),
      h('td', null, p.team || '—'),
      h(
        'td',
        { class: 'dash-expected' },
        p.expectedSiteId ? `${site(p.expectedSiteId)} · ${typeLabel(p.expectedType)}` : t('st_dash_off'),
      ),
      h(
        'td',
        { class: 'dash-where' },
        p.checkedInSiteId ? site(p.checkedInSiteId) : '—',
        p.source ? h('span', { class: `tag source source-${p.source}` }, t(`dashSource_${p.source}`)) : null,
      ),
      // the time on the clock of the site they are at (where the day is kept)
      h('td', null, p.checkedInAt ? `${timeAt(p.checkedInAt, p.checkedInSiteId)} ${zoneNote(p.checkedInSiteId)}` : '—'),
      h('td', null, statusTag('dash', p.status)),
    );
  }

  void refresh();
  const timer = setInterval(() => void refresh(), DASHBOARD_REFRESH_MS);
  return () => {
    alive = false;
    clearInterval(timer);
  };
};

/** The site's zone, when it differs from the viewer's (a time is always the site's). */
function zoneNote(siteId: string | null): string {
  const zone = siteOf(siteId)?.timeZone;
  const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && zone !== mine ? `(${zone})` : '';
}
