/**
 * Input checks the telework clients make before a request leaves (requests, approvals, work
 * reports, the dashboard): a value that could not be an id, a person or a calendar day is refused
 * here with INVALID_PAYLOAD, so nothing a person typed or a link carried becomes part of a path or
 * a query unchecked. The server checks everything again; these only keep a `..` or a `?` out.
 */
import { MoimError } from '@moim/protocol/client';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
/** A person's `sub` as the directory accepts it (letters, digits and `. _ @ -`, at most 128). */
const SUB_RE = /^[A-Za-z0-9._@-]{1,128}$/;
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** An approval, request or report id (a UUID), returned as it goes into a path. */
export function checkUuid(what: string, id: string): string {
  if (typeof id !== 'string' || !UUID_RE.test(id)) throw new MoimError('INVALID_PAYLOAD', `${what}: an id (UUID)`);
  return id;
}

/** A calendar day `YYYY-MM-DD`. */
export function checkDay(what: string, day: string): string {
  if (typeof day !== 'string' || !DAY_RE.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)))
    throw new MoimError('INVALID_PAYLOAD', `${what}: a day YYYY-MM-DD`);
  return day;
}

/** A person's `sub`, percent-encoded for a path or query. */
export function checkSub(what: string, sub: string): string {
  if (typeof sub !== 'string' || !SUB_RE.test(sub) || PROTOTYPE_NAMES.has(sub))
    throw new MoimError('INVALID_PAYLOAD', `${what}: a person's id`);
  return encodeURIComponent(sub);
}

/** A query string from the defined values (`?a=1&b=2`, or '' when none). */
export function queryOf(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
