/**
 * A site's wall clock on the server, in the words the telework services use: the protocol's one
 * implementation (protocol/src/siteClock.ts, which the client SDK exports too), and whether a range
 * lies inside the site's opening hours.
 */
import { addDays, type OpeningHours, type SiteClock, siteClock, siteInstant } from '@moim/protocol';

/** An instant as the site's clock shows it. */
export type LocalTime = SiteClock;

/** `ms` as the site's clock shows it. */
export const localTime = siteClock;

/** The instant the calendar day `YYYY-MM-DD` begins in the zone (its local midnight). */
export function startOfDay(day: string, timeZone: string): number {
  return siteInstant(day, '00:00', timeZone);
}

/** The calendar day after `YYYY-MM-DD`. */
export function nextDay(day: string): string {
  return addDays(day);
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
