/**
 * The sites page (`#/sites`, `#/sites/new`, `#/sites/<id>`): the organisation's sites — name,
 * address, time zone, opening hours per weekday, network ranges, kind — and each site's places
 * (seats; meeting rooms with the video tier they are equipped for and a capacity). Everyone sees
 * them; only admins get the forms (the server refuses anyone else with FORBIDDEN either way).
 * Every change reloads the session's site list so the sign-in, presence and booking pages show it.
 * Deleting asks twice on the button itself (no native dialog).
 */
import {
  getLogger,
  MEETING_ROOM_TIERS,
  type MeetingRoomTier,
  type OpeningHours,
  PLACE_KINDS,
  type Place,
  type PlaceKind,
  SITE_KINDS,
  type Site,
  type SiteKind,
  TELEWORK_LIMITS,
} from '@moim/client-sdk';
import type { AppContext, View } from '../context.ts';
import { h, mount } from '../dom.ts';
import { errorText, getLang, t } from '../i18n.ts';
import { knownSites, loadSites, onSitesChange, siteLabel } from '../sites.ts';

const log = getLogger('moim.web.sites');
const ID_PATTERN = '[a-z0-9\\-]{1,40}';
/** Monday first on screen; the protocol's index is 0 = Sunday. */
const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0];
const WEEKDAYS_9_TO_6: OpeningHours = [
  null,
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  null,
];
const ALWAYS: OpeningHours = Array.from({ length: 7 }, () => ({ open: '00:00', close: '23:59' }));

const isAdmin = (ctx: AppContext) => ctx.identity.role === 'admin';

/** The weekday's name in the viewer's language (1 January 2023 was a Sunday). */
function weekdayName(index: number): string {
  return new Intl.DateTimeFormat(getLang(), { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2023, 0, 1 + index));
}

function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch (error) {
    log.debug('the browser lists no time zones; the field takes any IANA name', { error });
    return ['Asia/Seoul', 'UTC'];
  }
}

/** A button that deletes on its second click (the first asks). */
function deleteButton(label: string, run: () => Promise<void>): HTMLButtonElement {
  let armed = false;
  const b = h(
    'button',
    {
      type: 'button',
      class: 'small danger-outline delete',
      onclick: async () => {
        if (!armed) {
          armed = true;
          b.textContent = t('confirmDelete');
          b.classList.add('armed');
          return;
        }
        b.disabled = true;
        await run();
      },
    },
    label,
  );
  return b;
}

export const sitesView: View = (root, ctx, params) => {
  const id = params[0];
  if (id === 'new') return siteEditor(root, ctx, undefined);
  if (id) return siteEditor(root, ctx, id);
  return siteList(root, ctx);
};

function siteList(root: HTMLElement, ctx: AppContext): () => void {
  const list = h('div', { class: 'site-admin-list', id: 'site-list' }, t('syncing'));
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  mount(
    root,
    h(
      'div',
      { class: 'page sites-page' },
      h(
        'div',
        { class: 'row wrap page-head' },
        h('h1', null, t('sitesTitle')),
        isAdmin(ctx) ? h('a', { class: 'button primary', href: '#/sites/new', id: 'new-site' }, t('siteNew')) : null,
      ),
      isAdmin(ctx) ? null : h('p', { class: 'muted' }, t('sitesAdminOnly')),
      error,
      list,
    ),
  );
  const render = () => {
    const sites = knownSites();
    mount(
      list,
      sites.length === 0
        ? h('p', { class: 'muted' }, t('sitesNone'))
        : h(
            'ul',
            { class: 'cards' },
            sites.map((s) =>
              h(
                'li',
                { class: 'card site-row', dataset: { site: s.id, kind: s.kind } },
                h('a', { href: `#/sites/${encodeURIComponent(s.id)}`, class: 'site-name' }, siteLabel(s.id, getLang())),
                h('span', { class: 'tag' }, t(`siteKind_${s.kind}`)),
                h('span', { class: 'muted' }, s.timeZone),
                s.address ? h('span', { class: 'muted site-address' }, s.address) : null,
                h('span', { class: 'muted' }, hoursSummary(s.openingHours)),
                isAdmin(ctx)
                  ? deleteButton(t('delete'), async () => {
                      try {
                        await ctx.client.telework.deleteSite(s.id);
                        ctx.toast(t('siteDeleted'));
                        await loadSites(ctx.client.telework, { force: true });
                      } catch (err) {
                        error.textContent = errorText(err);
                        error.hidden = false;
                        render();
                      }
                    })
                  : null,
              ),
            ),
          ),
    );
  };
  const off = onSitesChange(render);
  loadSites(ctx.client.telework, { force: true }).then(render, (err: unknown) => {
    error.textContent = errorText(err);
    error.hidden = false;
    render();
  });
  return off;
}

/** Opening hours in a line: runs of weekdays with the same hours ("Mon–Fri 09:00–18:00"). */
function hoursSummary(hours: OpeningHours): string {
  const short = (i: number) => weekdayName(i).slice(0, getLang() === 'ko' ? 1 : 3);
  const runs: { from: number; to: number; text: string }[] = [];
  for (const i of WEEK_ORDER) {
    const d = hours[i];
    const text = d ? `${d.open}–${d.close}` : '';
    const last = runs.at(-1);
    if (last && last.text === text && WEEK_ORDER.indexOf(last.to) === WEEK_ORDER.indexOf(i) - 1) last.to = i;
    else runs.push({ from: i, to: i, text });
  }
  const open = runs.filter((r) => r.text);
  if (open.length === 0) return t('hoursNever');
  if (open.length === 1 && open[0]!.from === 1 && open[0]!.to === 0) return `${t('hoursEveryDay')} ${open[0]!.text}`;
  return open.map((r) => `${short(r.from)}${r.from === r.to ? '' : `–${short(r.to)}`} ${r.text}`).join(' · ');
}

function siteEditor(root: HTMLElement, ctx: AppContext, siteId: string | undefined): () => void {
  let alive = true;
  const admin = isAdmin(ctx);
  const siteBox = h('div', { class: 'site-editor' });
  const placesBox = h('section', { class: 'places-editor', id: 'places' });
  mount(
    root,
    h(
      'div',
      { class: 'page sites-page' },
      h(
        'div',
        { class: 'doc-head' },
        h('a', { href: '#/sites', class: 'back', 'aria-label': t('sitesTitle') }, '←'),
        h('h1', null, siteId ? siteLabel(siteId, getLang()) : t('siteNew')),
      ),
      siteBox,
      placesBox,
    ),
  );

  const start = async () => {
    if (!siteId) {
      renderSiteForm(undefined);
      return;
    }
    try {
      const { site, places } = await ctx.client.telework.site(siteId);
      if (!alive) return;
      renderSiteForm(site);
      renderPlaces(site, places);
    } catch (err) {
      if (alive) mount(siteBox, h('p', { class: 'error', role: 'alert' }, errorText(err)));
    }
  };
  void start();

  function renderSiteForm(site: Site | undefined): void {
    const error = h('p', { class: 'error', role: 'alert', id: 'site-error', hidden: true });
    const idInput = h('input', {
      id: 'site-id',
      required: true,
      pattern: ID_PATTERN,
      maxlength: String(TELEWORK_LIMITS.idChars),
      value: site?.id ?? '',
      disabled: !!site,
      autocapitalize: 'off',
      spellcheck: 'false',
    });
    const name = h('input', {
      id: 'site-name',
      required: true,
      maxlength: String(TELEWORK_LIMITS.nameChars),
      value: site?.name ?? '',
    });
    const kind = h(
      'select',
      { id: 'site-kind' },
      SITE_KINDS.map((k) =>
        h('option', { value: k, selected: k === (site?.kind ?? 'smart-work-centre') }, t(`siteKind_${k}`)),
      ),
    );
    const address = h('input', {
      id: 'site-address',
      maxlength: String(TELEWORK_LIMITS.addressChars),
      value: site?.address ?? '',
    });
    const zoneList = h(
      'datalist',
      { id: 'time-zones' },
      timeZones().map((z) => h('option', { value: z })),
    );
    const zone = h('input', {
      id: 'site-tz',
      required: true,
      list: 'time-zones',
      maxlength: String(TELEWORK_LIMITS.timeZoneChars),
      value: site?.timeZone ?? 'Asia/Seoul',
    });
    const networks = h('textarea', {
      id: 'site-networks',
      rows: '3',
      placeholder: '10.20.0.0/16\n2001:db8::/48',
    });
    networks.value = (site?.networks ?? []).join('\n');

    const rows = WEEK_ORDER.map((i) => {
      const day = (site?.openingHours ?? WEEKDAYS_9_TO_6)[i] ?? null;
      const open = h('input', { type: 'checkbox', id: `hours-${i}-open`, checked: day !== null });
      const fromInput = h('input', { type: 'time', id: `hours-${i}-from`, value: day?.open ?? '09:00' });
      const toInput = h('input', { type: 'time', id: `hours-${i}-to`, value: day?.close ?? '18:00' });
      const sync = () => {
        fromInput.disabled = !open.checked;
        toInput.disabled = !open.checked;
      };
      open.addEventListener('change', sync);
      sync();
      return {
        i,
        el: h(
          'div',
          { class: 'hours-row', dataset: { weekday: String(i) } },
          h('label', { class: 'check' }, open, h('span', null, weekdayName(i))),
          fromInput,
          h('span', { 'aria-hidden': 'true' }, '–'),
          toInput,
        ),
        set(v: { open: string; close: string } | null) {
          open.checked = v !== null;
          if (v) {
            fromInput.value = v.open;
            toInput.value = v.close;
          }
          sync();
        },
        read: (): { open: string; close: string } | null =>
          open.checked ? { open: fromInput.value, close: toInput.value } : null,
      };
    });
    const preset = (hours: OpeningHours) => {
      for (const r of rows) r.set(hours[r.i] ?? null);
    };

    const submit = h('button', { type: 'submit', class: 'primary' }, t('save'));
    const form = h(
      'form',
      {
        class: 'card site-form',
        id: 'site-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hidden = true;
          const id = site?.id ?? idInput.value.trim();
          const hours: OpeningHours = [null, null, null, null, null, null, null];
          for (const r of rows) hours[r.i] = r.read();
          const input = {
            name: name.value.trim(),
            address: address.value.trim(),
            timeZone: zone.value.trim(),
            openingHours: hours,
            networks: networks.value
              .split(/[\s,]+/)
              .map((n) => n.trim())
              .filter(Boolean),
            kind: kind.value as SiteKind,
          };
          submit.disabled = true;
          try {
            const { created } = await ctx.client.telework.putSite(id, input);
            await loadSites(ctx.client.telework, { force: true });
            ctx.toast(t(created ? 'siteCreated' : 'siteSaved'));
            if (!site) ctx.navigate(`#/sites/${encodeURIComponent(id)}`);
          } catch (err) {
            error.textContent = errorText(err, { detail: true });
            error.hidden = false;
          } finally {
            submit.disabled = false;
          }
        },
      },
      h('h2', null, t('siteDetails')),
      h('label', { for: 'site-id' }, t('siteId')),
      idInput,
      site ? null : h('small', { class: 'muted' }, t('siteIdHint')),
      h('label', { for: 'site-name' }, t('siteName')),
      name,
      h('label', { for: 'site-kind' }, t('siteKind')),
      kind,
      h('label', { for: 'site-address' }, t('siteAddress')),
      address,
      h('label', { for: 'site-tz' }, t('siteTimeZone')),
      zone,
      zoneList,
      h(
        'fieldset',
        { class: 'hours' },
        h('legend', null, t('siteHours')),
        rows.map((r) => r.el),
        h(
          'div',
          { class: 'row wrap' },
          h(
            'button',
            { type: 'button', class: 'small', id: 'hours-weekdays', onclick: () => preset(WEEKDAYS_9_TO_6) },
            t('hoursWeekdays'),
          ),
          h(
            'button',
            { type: 'button', class: 'small', id: 'hours-always', onclick: () => preset(ALWAYS) },
            t('hoursAlways'),
          ),
        ),
      ),
      h('label', { for: 'site-networks' }, t('siteNetworks')),
      networks,
      h('small', { class: 'muted' }, t('siteNetworksHint')),
      error,
      admin ? submit : null,
    );
    if (!admin)
      for (const el of form.querySelectorAll<HTMLInputElement>('input, select, textarea, button')) el.disabled = true;
    mount(siteBox, form);
  }

  function renderPlaces(site: Site, places: Place[]): void {
    const error = h('p', { class: 'error', role: 'alert', id: 'place-error', hidden: true });
    const idInput = h('input', { id: 'place-id', required: true, pattern: ID_PATTERN, maxlength: '40' });
    const kind = h(
      'select',
      { id: 'place-kind' },
      PLACE_KINDS.map((k) => h('option', { value: k }, t(`placeKind_${k}`))),
    );
    const name = h('input', { id: 'place-name', required: true, maxlength: String(TELEWORK_LIMITS.nameChars) });
    const tier = h(
      'select',
      { id: 'place-tier' },
      MEETING_ROOM_TIERS.map((x) => h('option', { value: x, selected: x === 'standard' }, t(`tier_${x}`))),
    );
    const capacity = h('input', {
      id: 'place-capacity',
      type: 'number',
      min: '1',
      max: String(TELEWORK_LIMITS.capacity),
      value: '1',
      required: true,
    });
    const syncKind = () => {
      tier.disabled = kind.value !== 'meeting-room';
    };
    kind.addEventListener('change', syncKind);
    syncKind();
    const edit = (p: Place) => {
      idInput.value = p.id;
      kind.value = p.kind;
      name.value = p.name;
      if (p.tier) tier.value = p.tier;
      capacity.value = String(p.capacity);
      syncKind();
      name.focus();
    };
    const reload = async () => {
      const fresh = await ctx.client.telework.site(site.id);
      if (alive) renderPlaces(fresh.site, fresh.places);
    };
    const submit = h('button', { type: 'submit', class: 'primary' }, t('placeSave'));
    const form = h(
      'form',
      {
        class: 'card place-form',
        id: 'place-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hidden = true;
          const k = kind.value as PlaceKind;
          submit.disabled = true;
          try {
            await ctx.client.telework.putPlace(site.id, idInput.value.trim(), {
              kind: k,
              name: name.value.trim(),
              tier: k === 'meeting-room' ? (tier.value as MeetingRoomTier) : null,
              capacity: Number(capacity.value),
            });
            ctx.toast(t('placeSaved'));
            await reload();
          } catch (err) {
            submit.disabled = false;
            error.textContent = errorText(err, { detail: true });
            error.hidden = false;
          }
        },
      },
      h('h3', null, t('placeNew')),
      h(
        'div',
        { class: 'place-fields' },
        h('label', { for: 'place-id' }, t('placeId')),
        idInput,
        h('label', { for: 'place-kind' }, t('placeKind')),
        kind,
        h('label', { for: 'place-name' }, t('placeName')),
        name,
        h('label', { for: 'place-tier' }, t('tier')),
        tier,
        h('label', { for: 'place-capacity' }, t('placeCapacity')),
        capacity,
      ),
      error,
      submit,
    );
    mount(
      placesBox,
      h('h2', null, t('placesTitle')),
      places.length === 0
        ? h('p', { class: 'muted' }, t('bookingNoPlaces'))
        : h(
            'ul',
            { class: 'place-admin-list' },
            places.map((p) =>
              h(
                'li',
                { class: 'card place-row', dataset: { place: p.id, kind: p.kind } },
                h('strong', null, p.name),
                h('span', { class: 'tag' }, t(`placeKind_${p.kind}`)),
                p.tier ? h('span', { class: 'tag' }, t(`tier_${p.tier}`)) : null,
                h('span', { class: 'muted' }, t('capacityN', { n: p.capacity })),
                admin ? h('button', { type: 'button', class: 'small', onclick: () => edit(p) }, t('edit')) : null,
                admin
                  ? deleteButton(t('delete'), async () => {
                      try {
                        await ctx.client.telework.deletePlace(site.id, p.id);
                        ctx.toast(t('placeDeleted'));
                        await reload();
                      } catch (err) {
                        error.textContent = errorText(err);
                        error.hidden = false;
                      }
                    })
                  : null,
              ),
            ),
          ),
      admin ? form : null,
    );
  }

  return () => {
    alive = false;
  };
}
