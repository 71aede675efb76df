import { getLang } from './i18n.ts';

/** Times in the viewer's own time zone (Intl picks it up from the browser). */
export function formatTime(ms: number): string {
  return new Intl.DateTimeFormat(getLang(), { hour: 'numeric', minute: '2-digit' }).format(ms);
}

export function formatDateTime(ms: number): string {
  return new Intl.DateTimeFormat(getLang(), { dateStyle: 'medium', timeStyle: 'short' }).format(ms);
}

/** "5 minutes ago" for recent moments, a date and time for older ones. */
export function formatAgo(ms: number, now = Date.now()): string {
  const diff = Math.round((ms - now) / 1000);
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(getLang(), { numeric: 'auto' });
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(diff / 3600), 'hour');
  return formatDateTime(ms);
}

/** The viewer's time zone name (shown once in the header). */
export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
