/**
 * The row shape of `telework_attendance` and its conversion to records, shared by the SQLite and
 * PostgreSQL AttendanceStores (flags and teams as JSON text, times as integer milliseconds since
 * the epoch, on the wire as ISO-8601 UTC).
 */
import type { AttendanceFlag } from '@moim/protocol';
import type { AttendanceCorrection, AttendanceMove, NewAttendance, StoredAttendance } from './AttendanceStore.ts';

export const ATTENDANCE_COLUMNS =
  'org, sub, day, site_id, source, first_in, last_out, closes_at, minutes, flags, closed_by, teams';

export interface AttendanceRow {
  org: string;
  sub: string;
  day: string;
  site_id: string;
  source: StoredAttendance['source'];
  /** PostgreSQL BIGINT arrives as a string. */
  first_in: number | string;
  last_out: number | string | null;
  closes_at: number | string;
  minutes: number | string;
  flags: string;
  closed_by: StoredAttendance['closedBy'];
  teams: string;
}

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

export function toAttendance(row: AttendanceRow): StoredAttendance {
  return {
    org: row.org,
    sub: row.sub,
    day: row.day,
    siteId: row.site_id,
    source: row.source,
    firstIn: iso(row.first_in),
    lastOut: row.last_out === null ? null : iso(row.last_out),
    minutes: Number(row.minutes),
    flags: JSON.parse(row.flags) as AttendanceFlag[],
    closesAt: Number(row.closes_at),
    closedBy: row.closed_by,
    teams: JSON.parse(row.teams) as string[],
  };
}

/** org, sub, day, site_id, source, first_in, closes_at, flags, teams, updated_at — in this order. */
export const attendanceValues = (
  org: string,
  d: NewAttendance,
  at: number,
): [string, string, string, string, string, number, number, string, string, number] => [
  org,
  d.sub,
  d.day,
  d.siteId,
  d.source,
  d.firstIn,
  d.closesAt,
  JSON.stringify(d.flags),
  JSON.stringify(d.teams),
  at,
];

/**
 * An approved correction: the day as stated (source `declared` for a day that had no record;
 * an existing day keeps its source), closed (`auto`), flagged as the service decided. `$n`
 * placeholders (SQLite turns them into `?`; each is used once, in order).
 */
export const CORRECT_SQL = `INSERT INTO telework_attendance
  (org, sub, day, site_id, source, first_in, last_out, closes_at, minutes, flags, closed_by, teams, updated_at)
  VALUES ($1, $2, $3, $4, 'declared', $5, $6, $7, $8, $9, 'auto', $10, $11)
  ON CONFLICT (org, sub, day) DO UPDATE SET site_id = excluded.site_id, first_in = excluded.first_in,
    last_out = excluded.last_out, minutes = excluded.minutes, flags = excluded.flags, closed_by = 'auto',
    updated_at = excluded.updated_at`;

export const correctionValues = (org: string, c: AttendanceCorrection, at: number): Array<string | number> => [
  org,
  c.sub,
  c.day,
  c.siteId,
  c.firstIn,
  c.lastOut,
  c.closesAt,
  c.minutes,
  JSON.stringify(c.flags),
  JSON.stringify(c.teams),
  at,
];

/** A move to the approved place: `$n` placeholders, each used once, in order (SQLite turns them into `?`). */
export const RELOCATE_SQL = `UPDATE telework_attendance SET site_id = $1, source = $2, first_in = $3, flags = $4,
  last_out = NULL, minutes = 0, closed_by = NULL, updated_at = $5
  WHERE org = $6 AND sub = $7 AND day = $8 AND (closed_by IS NULL OR closed_by = 'disconnect')`;

export const relocateValues = (org: string, sub: string, day: string, to: AttendanceMove, at: number) => [
  to.siteId,
  to.source,
  to.firstIn,
  JSON.stringify(to.flags),
  at,
  org,
  sub,
  day,
];
