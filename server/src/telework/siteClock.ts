/**
 * A site's wall clock: instants (ms since the epoch) seen in a site's IANA time zone, whether a
 * range lies inside the site's opening hours, and where a calendar day of the site begins and
 * ends. Built on `Intl` only; formatters are cached per time zone in a Map.
 */
import type { OpeningHours } from '@moim/protocol';

/** An instant as the site's clock shows it. */
export interface LocalTime {
  /** `YYYY-MM-DD` */
  date: string;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  /** `HH:MM` (00:00–23:59) */
  time: string;
}

const WEEKDAY_INDEX = new Map([
  ['Sun', 0],
  ['Mon', 1],
  ['Tue', 2],
  ['Wed', 3],
  ['Thu', 4],
  ['Fri', 5],
  ['Sat', 6],
]);

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function partsOf(ms: number, timeZone: string): Map<string, string> {
  return new Map(
    formatterOf(timeZone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
}

function part(parts: Map<string, string>, type: string): string {
  const value = parts.get(type);
  if (value === undefined) throw new Error(`Intl gave no ${type}`);
  return value;
}

export function localTime(ms: number, timeZone: string): LocalTime {
  const p = partsOf(ms, timeZone);
  const weekday = WEEKDAY_INDEX.get(part(p, 'weekday'));
  if (weekday === undefined) throw new Error(`Intl gave an unknown weekday ${part(p, 'weekday')}`);
  return {
    date: `${part(p, 'year')}-${part(p, 'month')}-${part(p, 'day')}`,
    weekday,
    time: `${part(p, 'hour')}:${part(p, 'minute')}`,
  };
}

/** The zone's offset from UTC at `ms`, in ms (Asia/Seoul: +9 h). */
function offsetAt(ms: number, timeZone: string): number {
  const p = partsOf(ms, timeZone);
  const n = (type: string) => Number(part(p, type));
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant the calendar day `YYYY-MM-DD` begins in the zone (its local midnight). */
export function startOfDay(day: string, timeZone: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  const guess = wall - offsetAt(wall, timeZone);
  // a second look settles a DST change between the wall time and the guess
  return wall - offsetAt(guess, timeZone);
}

/** The calendar day after `YYYY-MM-DD`. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * True when [start, end) lies within one day's opening hours of the site: start and end on the
 * same local date, that weekday open, start at or after `open` and end at or before `close`.
 */
export function withinOpeningHours(start: number, end: number, hours: OpeningHours, timeZone: string): boolean {
  const from = localTime(start, timeZone);
  const to = localTime(end, timeZone);
  const day = hours[from.weekday];
  if (!day || from.date !== to.date) return false;
  return from.time >= day.open && to.time <= day.close;
}
