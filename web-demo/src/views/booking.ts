/**
 * Booking (`#/booking`): pick a site and a day — the day and every time on this page are the
 * site's, in its time zone, whatever the viewer's zone — see the day view (each place, who holds
 * it when, what is free now), book a seat or meeting room for a time range, and see and cancel my
 * bookings. Refusals are shown by their code in the viewer's language (BOOKING_CONFLICT,
 * OUTSIDE_HOURS, NOT_APPROVED, BOOKING_SUSPENDED, FORBIDDEN, …), never as the server's English.
 */
import {
  addDays,
  type Booking,
  getLogger,
  type Place,
  type Site,
  siteClock,
  siteInstant,
  weekdayOf,
} from '@moim/client-sdk';
import type { View } from '../context.ts';
import { h, mount } from '../dom.ts';
import { errorCode, errorText, getLang, t } from '../i18n.ts';
import { knownSites, loadSites, onSitesChange, siteLabel, siteOf } from '../sites.ts';

const log = getLogger('moim.web.booking');
const SLOT_MIN = 5;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const fromMinutes = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** `HH:MM` of an instant on the site's clock. */
const clockAt = (iso: string, timeZone: string) => siteClock(Date.parse(iso), timeZone).time;

/** Sites a person books at: every site with places (home has none). */
const bookable = () => knownSites().filter((s) => s.kind !== 'home');

export const bookingView: View = (root, ctx, params) => {
  let alive = true;
  let site: Site | undefined;
  let day = '';
  let places: Place[] = [];
  let dayBookings: Booking[] = [];
  const names = new Map<string, string>([[ctx.identity.sub, ctx.identity.name]]);
  /** Places of other sites, for naming my bookings there (loaded on demand). */
  const placeNames = new Map<string, Map<string, string>>();

  const siteSelect = h('select', {
    id: 'booking-site',
    onchange: () => void chooseSite(siteSelect.value, undefined),
  });
  const dayInput = h('input', {
    id: 'booking-day',
    type: 'date',
    required: true,
    onchange: () => {
      if (dayInput.value) void chooseSite(site?.id, dayInput.value);
    },
  });
  const hours = h('p', { class: 'booking-hours muted', id: 'booking-hours' });
  const dayView = h('div', { class: 'day-view', id: 'day-view' });
  const placeSelect = h('select', { id: 'booking-place', required: true });
  const from = h('input', { id: 'booking-from', type: 'time', step: String(SLOT_MIN * 60), required: true });
  const to = h('input', { id: 'booking-to', type: 'time', step: String(SLOT_MIN * 60), required: true });
  const error = h('p', { class: 'error', id: 'booking-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('bookingBook'));
  const mine = h('ul', { class: 'my-bookings', id: 'my-bookings' });

  const form = h(
    'form',
    {
      class: 'card booking-form',
      id: 'booking-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void book();
      },
    },
    h('h2', null, t('bookingNew')),
    h('label', { for: 'booking-place' }, t('bookingPlace')),
    placeSelect,
    h(
      'div',
      { class: 'booking-times' },
      h('label', { for: 'booking-from' }, t('bookingFrom')),
      h('label', { for: 'booking-to' }, t('bookingTo')),
      from,
      to,
    ),
    error,
    submit,
  );

  mount(
    root,
    h(
      'div',
      { class: 'page booking-page' },
      h('h1', null, t('bookingTitle')),
      h(
        'div',
        { class: 'card row wrap booking-pick' },
        h('label', { for: 'booking-site' }, t('site')),
        siteSelect,
        h('label', { for: 'booking-day' }, t('bookingDay')),
        h(
          'button',
          { type: 'button', class: 'ghost small', 'aria-label': t('bookingPrevDay'), onclick: () => shiftDay(-1) },
          '‹',
        ),
        dayInput,
        h(
          'button',
          { type: 'button', class: 'ghost small', 'aria-label': t('bookingNextDay'), onclick: () => shiftDay(1) },
          '›',
        ),
        hours,
      ),
      h(
        'div',
        { class: 'booking-layout' },
        h('section', { class: 'booking-day' }, h('h2', null, t('bookingDayView')), dayView),
        h(
          'aside',
          { class: 'booking-side' },
          form,
          h('section', { class: 'card' }, h('h2', null, t('bookingMine')), mine),
        ),
      ),
    ),
  );

  const renderSiteOptions = () => {
    const list = bookable();
    mount(
      siteSelect,
      list.map((s) => h('option', { value: s.id, selected: s.id === site?.id }, siteLabel(s.id, getLang()))),
    );
  };

  const showError = (err: unknown) => {
    error.textContent = errorText(err);
    error.dataset.code = errorCode(err) ?? '';
    error.hidden = false;
  };
  const clearError = () => {
    error.hidden = true;
    error.textContent = '';
    delete error.dataset.code;
  };

  /** Show a site and day (the site's today when `d` is not given). */
  async function chooseSite(id: string | undefined, d: string | undefined): Promise<void> {
    const next = siteOf(id) ?? bookable()[0];
    clearError();
    if (!next) {
      site = undefined;
      mount(dayView, h('p', { class: 'muted' }, t('bookingNoSites')));
      return;
    }
    const changedSite = next.id !== site?.id;
    site = next;
    day = d && DAY_RE.test(d) ? d : siteClock(Date.now(), next.timeZone).date;
    dayInput.value = day;
    renderSiteOptions();
    renderHours();
    try {
      if (changedSite || places.length === 0) {
        const loaded = (await ctx.client.telework.site(next.id)).places;
        placeNames.set(next.id, new Map(loaded.map((p) => [p.id, p.name])));
        // another site was chosen meanwhile: its own call shows it
        if (!alive || site !== next) return;
        places = loaded;
      }
      if (!alive || site !== next) return;
      renderPlaceOptions();
      presetTimes();
      await refreshDay();
    } catch (err) {
      if (alive) showError(err);
    }
  }

  function shiftDay(by: number): void {
    if (site && day) void chooseSite(site.id, addDays(day, by));
  }

  function renderHours(): void {
    if (!site) return;
    const open = site.openingHours[weekdayOf(day)];
    hours.textContent = `${open ? t('bookingOpen', { from: open.open, to: open.close }) : t('bookingClosed')} · ${t(
      'bookingZone',
      { tz: site.timeZone },
    )}`;
  }

  function renderPlaceOptions(): void {
    const chosen = placeSelect.value;
    mount(
      placeSelect,
      places.map((p) => h('option', { value: p.id, selected: p.id === chosen }, placeLabel(p))),
    );
  }

  /** From the next whole 5 minutes (today) or the opening, for an hour, inside the day's hours. */
  function presetTimes(): void {
    if (!site) return;
    const open = site.openingHours[weekdayOf(day)];
    const openAt = open ? toMinutes(open.open) : 9 * 60;
    const closeAt = open ? toMinutes(open.close) : 18 * 60;
    const now = siteClock(Date.now(), site.timeZone);
    let start = openAt;
    if (now.date === day) start = Math.max(openAt, Math.floor(toMinutes(now.time) / SLOT_MIN) * SLOT_MIN);
    const end = Math.min(start + 60, Math.floor(closeAt / SLOT_MIN) * SLOT_MIN);
    from.value = fromMinutes(Math.min(start, 23 * 60 + 55));
    to.value = fromMinutes(Math.max(end, Math.min(start + SLOT_MIN, 23 * 60 + 55)));
  }

  async function refreshDay(): Promise<void> {
    if (!site) return;
    const shown = site;
    const shownDay = day;
    const list = await ctx.client.telework.bookingsOn(shown.id, shownDay);
    await learnNames(list.map((b) => b.sub));
    if (!alive || site !== shown || day !== shownDay) return;
    dayBookings = list;
    renderDay();
  }

  async function learnNames(subs: string[]): Promise<void> {
    const missing = [...new Set(subs)].filter((s) => !names.has(s));
    if (!missing.length) return;
    try {
      for (const p of await ctx.client.presence.get(missing)) if (p.name) names.set(p.sub, p.name);
    } catch (error) {
      // the day view still shows every booking, by the person's id
      log.warn('names of people with bookings not read', { people: missing.length, error });
    }
  }

  function renderDay(): void {
    if (!site) return;
    const tz = site.timeZone;
    const now = Date.now();
    const today = siteClock(now, tz).date === day;
    if (places.length === 0) {
      mount(dayView, h('p', { class: 'muted' }, t('bookingNoPlaces')));
      return;
    }
    mount(
      dayView,
      h(
        'ul',
        { class: 'place-list' },
        places.map((p) => {
          const held = dayBookings
            .filter((b) => b.placeId === p.id && b.status === 'booked')
            .sort((a, b) => a.start.localeCompare(b.start));
          const busyNow = today && held.some((b) => Date.parse(b.start) <= now && now < Date.parse(b.end));
          const state = busyNow ? 'busy' : held.length === 0 ? 'free' : today ? 'free-now' : 'partly';
          return h(
            'li',
            { class: `card place place-${state}`, dataset: { place: p.id, state } },
            h(
              'div',
              { class: 'place-head' },
              h('strong', { class: 'place-name' }, p.name),
              h('span', { class: 'tag' }, placeKindLabel(p)),
              h('span', { class: `place-state state-${state}` }, t(`placeState_${state}`)),
              h(
                'button',
                {
                  type: 'button',
                  class: 'ghost small',
                  onclick: () => {
                    placeSelect.value = p.id;
                    from.focus();
                  },
                },
                t('bookingPick'),
              ),
            ),
            held.length === 0
              ? null
              : h(
                  'ul',
                  { class: 'holds' },
                  held.map((b) =>
                    h(
                      'li',
                      {
                        class: b.sub === ctx.identity.sub ? 'hold mine' : 'hold',
                        dataset: { booking: b.id, sub: b.sub },
                      },
                      h('span', { class: 'hold-time' }, `${clockAt(b.start, tz)}–${clockAt(b.end, tz)}`),
                      ' ',
                      h('span', { class: 'hold-who' }, names.get(b.sub) ?? b.sub),
                      b.sub === ctx.identity.sub ? h('span', { class: 'tag' }, t('you')) : null,
                    ),
                  ),
                ),
          );
        }),
      ),
    );
  }

  async function book(): Promise<void> {
    if (!site) return;
    clearError();
    submit.disabled = true;
    try {
      const booking = await ctx.client.telework.book({
        siteId: site.id,
        placeId: placeSelect.value,
        start: siteInstant(day, from.value, site.timeZone),
        end: siteInstant(day, to.value, site.timeZone),
      });
      ctx.toast(t('bookingDone', { place: placeLabelOf(booking.siteId, booking.placeId) }));
      await Promise.all([refreshDay(), refreshMine()]);
    } catch (err) {
      if (alive) showError(err);
    } finally {
      submit.disabled = false;
    }
  }

  async function refreshMine(): Promise<void> {
    const list = await ctx.client.telework.myBookings();
    for (const siteId of new Set(list.map((b) => b.siteId))) {
      if (placeNames.has(siteId)) continue;
      try {
        const other = await ctx.client.telework.site(siteId);
        placeNames.set(siteId, new Map(other.places.map((p) => [p.id, p.name])));
      } catch (error) {
        // named by its id instead (the site may have been deleted meanwhile)
        log.warn('places of a booked site not read', { site: siteId, error });
      }
    }
    if (!alive) return;
    if (list.length === 0) {
      mount(mine, h('li', { class: 'muted empty' }, t('bookingNone')));
      return;
    }
    mount(
      mine,
      list.map((b) => {
        const tz = siteOf(b.siteId)?.timeZone ?? 'UTC';
        const start = siteClock(Date.parse(b.start), tz);
        const cancel = h(
          'button',
          {
            type: 'button',
            class: 'small cancel-booking',
            onclick: async () => {
              cancel.disabled = true;
              try {
                await ctx.client.telework.cancelBooking(b.id);
                ctx.toast(t('bookingCancelled'));
                await Promise.all([refreshDay(), refreshMine()]);
              } catch (err) {
                cancel.disabled = false;
                if (alive) showError(err);
              }
            },
          },
          t('cancelBooking'),
        );
        const running = Date.parse(b.start) <= Date.now() && Date.now() < Date.parse(b.end);
        const checkIn =
          running && !b.checkedInAt
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'small primary check-in',
                  onclick: async (e: Event) => {
                    const button = e.currentTarget as HTMLButtonElement;
                    button.disabled = true;
                    try {
                      await ctx.client.telework.checkIn(b.id);
                      ctx.toast(t('checkedIn'));
                      await refreshMine();
                    } catch (err) {
                      button.disabled = false;
                      if (alive) showError(err);
                    }
                  },
                },
                t('checkIn'),
              )
            : null;
        return h(
          'li',
          {
            class: 'my-booking',
            dataset: {
              booking: b.id,
              site: b.siteId,
              place: b.placeId,
              checkedIn: b.checkedInAt ? 'yes' : 'no',
              // how the check-in was known: the site's network, or by hand
              checkInSource: b.checkInSource ?? '',
            },
          },
          h('div', null, h('strong', null, placeLabelOf(b.siteId, b.placeId)), ' · ', siteLabel(b.siteId, getLang())),
          h('div', { class: 'muted' }, `${start.date} ${start.time}–${clockAt(b.end, tz)} (${tz})`),
          b.checkedInAt
            ? h(
                'span',
                { class: 'tag checked-in' },
                b.checkInSource ? `${t('checkedIn')} · ${t(`dashSource_${b.checkInSource}`)}` : t('checkedIn'),
              )
            : null,
          h('div', { class: 'row' }, checkIn, cancel),
        );
      }),
    );
  }

  function placeLabelOf(siteId: string, placeId: string): string {
    return placeNames.get(siteId)?.get(placeId) ?? placeId;
  }

  function report(err: unknown): void {
    if (alive) showError(err);
  }

  // first the sites (once per session), then the chosen site's day and my bookings
  const offSites = onSitesChange(() => {
    if (!alive) return;
    renderSiteOptions();
    if (!site) void chooseSite(params[0], params[1]);
  });
  const start = knownSites().length ? Promise.resolve() : loadSites(ctx.client.telework).then(() => undefined);
  start.then(() => Promise.all([chooseSite(params[0], params[1]), refreshMine()]), report).catch(report);
  // "free now" changes with the clock
  const timer = setInterval(() => {
    if (site) renderDay();
  }, 60_000);

  return () => {
    alive = false;
    offSites();
    clearInterval(timer);
  };
};

function placeKindLabel(p: Place): string {
  return p.kind === 'seat'
    ? t('placeKind_seat')
    : `${t('placeKind_meeting-room')} · ${t(`tier_${p.tier ?? 'standard'}`)} · ${t('capacityN', { n: p.capacity })}`;
}

function placeLabel(p: Place): string {
  return `${p.name} (${p.kind === 'seat' ? t('placeKind_seat') : t('placeKind_meeting-room')})`;
}
