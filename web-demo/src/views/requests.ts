/**
 * Telework requests (`#/telework/requests[/<id>]`): apply for days of telework — at home, at a
 * smart-work centre (optionally a seat there) or mobile — with the tasks planned, and my requests
 * with each day's status, the waitlist position of a centre day waiting for a seat, the approval
 * steps and their comments; cancel what is still open. A request named in the address (a chat
 * notice's link) is shown first and marked. Days are picked on the chosen site's calendar (its
 * time zone), which is the one the server checks them against.
 */
import {
  addDays,
  type Place,
  type Site,
  TELEWORK_TYPES,
  TELEWORK_WORKFLOW_LIMITS,
  type TeleworkRequest,
  type TeleworkType,
} from '@moim/client-sdk';
import type { View } from '../context.ts';
import { h, mount } from '../dom.ts';
import { getLang, t } from '../i18n.ts';
import { knownSites, loadSites, onSitesChange, siteLabel } from '../sites.ts';
import { errorBox, nameBook, site, statusTag, todayAt, typeLabel, UUID_RE } from './teleworkCommon.ts';

const OPEN_DAY = new Set(['pending', 'approved', 'waitlisted']);

/** Sites a type of telework may name: home sites, centres, or any site when mobile. */
function sitesFor(type: TeleworkType): Site[] {
  const all = knownSites();
  if (type === 'home') return all.filter((s) => s.kind === 'home');
  if (type === 'smart-work-centre') return all.filter((s) => s.kind === 'smart-work-centre');
  return [...all];
}

export const requestsView: View = (root, ctx, params) => {
  let alive = true;
  const focus = params[0] && UUID_RE.test(params[0]) ? params[0] : undefined;
  const names = nameBook(ctx, () => alive && renderMine());
  let mine: TeleworkRequest[] = [];
  let days: string[] = [];
  /** The person picked days themself (else the list follows the chosen site's today). */
  let picked = false;
  let places: Place[] = [];

  const typeSelect = h(
    'select',
    { id: 'request-type', onchange: () => renderSites() },
    TELEWORK_TYPES.map((ty) => h('option', { value: ty }, typeLabel(ty))),
  );
  const siteSelect = h('select', { id: 'request-site', onchange: () => void siteChanged() });
  const placeSelect = h('select', { id: 'request-place' });
  const placeRow = h(
    'div',
    { class: 'field', hidden: true },
    h('label', { for: 'request-place' }, t('reqPlace')),
    placeSelect,
  );
  const dayInput = h('input', { id: 'request-day', type: 'date' });
  const dayList = h('ul', { class: 'chips', id: 'request-days' });
  const tasks = h('textarea', {
    id: 'request-tasks',
    rows: '4',
    placeholder: t('reqTasksHint'),
    maxlength: String(TELEWORK_WORKFLOW_LIMITS.maxTasks * (TELEWORK_WORKFLOW_LIMITS.taskChars + 1)),
  });
  const error = errorBox('request-error');
  const submit = h('button', { type: 'submit', class: 'primary' }, t('reqApply'));
  const list = h('ul', { class: 'cards request-list', id: 'my-requests' }, h('li', { class: 'muted' }, t('syncing')));
  const listError = errorBox('requests-error');

  const form = h(
    'form',
    {
      class: 'card request-form',
      id: 'request-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void apply();
      },
    },
    h('h2', null, t('reqNew')),
    h('label', { for: 'request-type' }, t('reqType')),
    typeSelect,
    h('label', { for: 'request-site' }, t('site')),
    siteSelect,
    placeRow,
    h('label', { for: 'request-day' }, t('reqDays')),
    h(
      'div',
      { class: 'row wrap' },
      dayInput,
      h(
        'button',
        {
          type: 'button',
          class: 'small',
          id: 'request-add-day',
          onclick: () => {
            picked = true;
            addDay(dayInput.value);
          },
        },
        t('reqAddDay'),
      ),
    ),
    dayList,
    h('label', { for: 'request-tasks' }, t('reqTasks')),
    tasks,
    error.el,
    submit,
  );

  mount(
    root,
    h(
      'div',
      { class: 'page requests-page' },
      h('h1', null, t('reqTitle')),
      h(
        'div',
        { class: 'telework-layout' },
        form,
        h('section', { class: 'telework-main' }, h('h2', null, t('reqMine')), listError.el, list),
      ),
    ),
  );

  function chosenSite(): string {
    return siteSelect.value;
  }

  function renderSites(): void {
    const type = typeSelect.value as TeleworkType;
    const options = sitesFor(type);
    const before = siteSelect.value;
    mount(
      siteSelect,
      options.map((s) => h('option', { value: s.id, selected: s.id === before }, siteLabel(s.id, getLang()))),
    );
    void siteChanged();
  }

  async function siteChanged(): Promise<void> {
    const id = chosenSite();
    // the day offered is the chosen site's today (the server checks days on its calendar)
    dayInput.min = todayAt(id);
    if (!picked && id) {
      days = [todayAt(id)];
      dayInput.value = addDays(todayAt(id), 1);
      renderDays();
    }
    const centre = typeSelect.value === 'smart-work-centre' && id !== '';
    placeRow.hidden = !centre;
    if (!centre) {
      places = [];
      mount(placeSelect);
      return;
    }
    try {
      const loaded = (await ctx.client.telework.site(id)).places.filter((p) => p.kind === 'seat');
      if (!alive || chosenSite() !== id) return;
      places = loaded;
      mount(
        placeSelect,
        h('option', { value: '' }, t('reqAnySeat')),
        places.map((p) => h('option', { value: p.id }, p.name)),
      );
    } catch (err) {
      if (alive) error.show(err);
    }
  }

  function addDay(day: string): void {
    if (!day || days.includes(day) || days.length >= TELEWORK_WORKFLOW_LIMITS.maxDays) return;
    days = [...days, day].sort();
    dayInput.value = addDays(day, 1);
    renderDays();
  }

  function renderDays(): void {
    mount(
      dayList,
      days.map((d) =>
        h(
          'li',
          { class: 'chip', dataset: { day: d } },
          h('span', null, d),
          h(
            'button',
            {
              type: 'button',
              class: 'ghost small',
              'aria-label': t('reqRemoveDay', { day: d }),
              onclick: () => {
                picked = true;
                days = days.filter((x) => x !== d);
                renderDays();
              },
            },
            '×',
          ),
        ),
      ),
    );
  }

  async function apply(): Promise<void> {
    error.clear();
    const planned = tasks.value
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    submit.disabled = true;
    try {
      const req = await ctx.client.teleworkRequests.apply({
        days,
        type: typeSelect.value as TeleworkType,
        siteId: chosenSite(),
        ...(placeSelect.value && !placeRow.hidden ? { placeId: placeSelect.value } : {}),
        tasks: planned,
      });
      ctx.toast(t('reqApplied'));
      picked = false;
      tasks.value = '';
      void siteChanged();
      mine = [req, ...mine.filter((r) => r.id !== req.id)];
      renderMine();
    } catch (err) {
      if (alive) error.show(err);
    } finally {
      submit.disabled = false;
    }
  }

  async function refresh(): Promise<void> {
    try {
      const loaded = await ctx.client.teleworkRequests.mine();
      if (!alive) return;
      listError.clear();
      mine = loaded;
      // a request named by a link that is not among mine (an approver's link): read it on its own
      if (focus && !mine.some((r) => r.id === focus)) {
        const one = await ctx.client.teleworkRequests.get(focus);
        if (!alive) return;
        mine = [one.request, ...mine];
      }
      renderMine();
    } catch (err) {
      if (alive) listError.show(err);
    }
  }

  function renderMine(): void {
    names.learn(mine.flatMap((r) => r.approval.steps.map((s) => s.approver)));
    if (mine.length === 0) {
      mount(list, h('li', { class: 'muted empty' }, t('reqNone')));
      return;
    }
    const ordered = focus ? [...mine].sort((a, b) => Number(b.id === focus) - Number(a.id === focus)) : mine;
    mount(list, ordered.map(requestItem));
    if (focus) list.querySelector('.focused')?.scrollIntoView({ block: 'nearest' });
  }

  function requestItem(r: TeleworkRequest): HTMLElement {
    const open = r.applicant === ctx.identity.sub && r.dayStatus.some((d) => OPEN_DAY.has(d.status));
    const cancel = open
      ? h(
          'button',
          {
            type: 'button',
            class: 'small cancel-request',
            onclick: async (e: Event) => {
              const button = e.currentTarget as HTMLButtonElement;
              button.disabled = true;
              try {
                const after = await ctx.client.teleworkRequests.cancel(r.id);
                mine = mine.map((x) => (x.id === after.id ? after : x));
                ctx.toast(t('reqCancelled'));
                renderMine();
              } catch (err) {
                button.disabled = false;
                if (alive) listError.show(err);
              }
            },
          },
          t('reqCancel'),
        )
      : null;
    return h(
      'li',
      {
        class: `card my-request${r.id === focus ? ' focused' : ''}`,
        dataset: { request: r.id, status: r.approval.status },
      },
      h(
        'div',
        { class: 'request-head' },
        h('strong', null, typeLabel(r.type)),
        ' · ',
        h('span', { class: 'request-site' }, site(r.siteId)),
        r.placeId ? h('span', { class: 'muted' }, ` · ${r.placeId}`) : null,
        ' ',
        statusTag('approval', r.approval.status),
      ),
      h(
        'ul',
        { class: 'request-days' },
        r.dayStatus.map((d) =>
          h(
            'li',
            { class: 'req-day', dataset: { day: d.day, status: d.status } },
            h('span', { class: 'req-day-date' }, d.day),
            ' ',
            statusTag('day', d.status),
            d.waitlistPosition !== null
              ? h('span', { class: 'waitlist-position' }, t('reqWaitlistPos', { n: d.waitlistPosition }))
              : null,
          ),
        ),
      ),
      h(
        'ul',
        { class: 'request-tasks' },
        r.tasks.map((task) => h('li', null, task)),
      ),
      h(
        'ol',
        { class: 'approval-steps muted' },
        r.approval.steps.map((s) =>
          h(
            'li',
            { dataset: { approver: s.approver, status: s.status } },
            names.of(s.approver),
            ' ',
            statusTag('step', s.status),
            s.comment ? h('q', { class: 'step-comment' }, s.comment) : null,
          ),
        ),
      ),
      h(
        'div',
        { class: 'row' },
        h('a', { class: 'button ghost small', href: `#/approvals/${r.id}` }, t('reqOpenApproval')),
        cancel,
      ),
    );
  }

  const offSites = onSitesChange(() => alive && renderSites());
  (knownSites().length ? Promise.resolve() : loadSites(ctx.client.telework).then(() => undefined)).then(
    () => {
      if (alive) renderSites();
    },
    (err: unknown) => alive && error.show(err),
  );
  void refresh();
  // a decision or a seat coming free changes my requests: look again now and then
  const timer = setInterval(() => void refresh(), 15_000);

  return () => {
    alive = false;
    offSites();
    clearInterval(timer);
  };
};
