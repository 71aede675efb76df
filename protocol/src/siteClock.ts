/**
 * A site's wall clock, for the server and the client alike: telework times are stored in UTC and
 * shown in the site's time zone (not the viewer's), so both ask "what day and time is it at the
 * site" and "which instant is 10:00 on 2026-12-07 at the site". Built on `Intl` only (no zod: the
 * client entry exports it too); formatters are cached per zone in a Map.
 */

/** An instant as a site's clock shows it. */
export interface SiteClock {
  /** `YYYY-MM-DD` */
  date: string;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  /** `HH:MM` (00:00–23:59) */
  time: string;
}

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
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function fieldsOf(
  ms: number,
  timeZone: string,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts = new Map<string, string>(
    formatterOf(timeZone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const n = (type: string) => {
    const v = parts.get(type);
    if (v === undefined) throw new Error(`Intl gave no ${type}`);
    return Number(v);
  };
  return { y: n('year'), mo: n('month'), d: n('day'), h: n('hour'), mi: n('minute'), s: n('second') };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The weekday of a calendar day `YYYY-MM-DD` (0 = Sunday). */
export function weekdayOf(day: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

/** `ms` as the site's clock shows it. */
export function siteClock(ms: number, timeZone: string): SiteClock {
  const f = fieldsOf(ms, timeZone);
  const date = `${f.y}-${pad(f.mo)}-${pad(f.d)}`;
  return { date, weekday: weekdayOf(date), time: `${pad(f.h)}:${pad(f.mi)}` };
}

/** The zone's offset from UTC at `ms`, in ms (Asia/Seoul: +9 h). */
function offsetAt(ms: number, timeZone: string): number {
  const f = fieldsOf(ms, timeZone);
  return Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant the site's clock shows `time` (`HH:MM`) on `day` (`YYYY-MM-DD`). In a daylight-saving
 * gap the wall time does not exist and the instant after the gap's start is given.
 */
export function siteInstant(day: string, time: string, timeZone: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const guess = wall - offsetAt(wall, timeZone);
  // a second look settles a DST change between the wall time and the guess
  return wall - offsetAt(guess, timeZone);
}

/** The calendar day after (or `days` after) `YYYY-MM-DD`. */
export function addDays(day: string, days = 1): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
