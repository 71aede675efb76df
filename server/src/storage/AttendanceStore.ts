import type { AttendanceFlag, AttendanceRecord, AttendanceSource } from '@moim/protocol';

/**
 * Telework attendance days: one record per person per working day (the day in the site's time
 * zone), scoped by org. This interface owns what is stored; when a day opens and closes, and who
 * may read it, is the telework service's (telework/Attendance.ts). Every change is a conditional
 * write (open inserts only the first record of the day, close only closes an open one), so two
 * nodes or a repeated scheduler run never change a day twice.
 */

/** A stored day: the wire record plus what the store and the scheduler need. */
export interface StoredAttendance extends AttendanceRecord {
  org: string;
  /** The site's closing time that day (ms): a day still open then is closed automatically. */
  closesAt: number;
  /** How the day was last closed: the last disconnect, or the scheduler at closing time. */
  closedBy: 'disconnect' | 'auto' | null;
  /** The person's teams (token `teams`) when the day opened: a manager without a directory sees their teams'. */
  teams: string[];
}

/** A day to open: the person's first connection of it. */
export interface NewAttendance {
  sub: string;
  day: string;
  siteId: string;
  source: AttendanceSource;
  firstIn: number;
  closesAt: number;
  flags: AttendanceFlag[];
  teams: readonly string[];
}

export interface AttendanceClose {
  lastOut: number;
  minutes: number;
  flags: AttendanceFlag[];
  by: 'disconnect' | 'auto';
}

export interface AttendanceStore {
  /** Store the person's record of the day unless there is one: the stored record, and whether this call created it. */
  open(org: string, day: NewAttendance, at: number): Promise<{ record: StoredAttendance; created: boolean }>;
  get(org: string, sub: string, day: string): Promise<StoredAttendance | undefined>;
  /** A day closed by a disconnect is open again (a reconnect the same day); false otherwise (open, auto-closed, none). */
  reopen(org: string, sub: string, day: string, at: number): Promise<boolean>;
  /** Close an open day; the record afterwards, or undefined when it was not open (closed meanwhile, none). */
  close(
    org: string,
    sub: string,
    day: string,
    close: AttendanceClose,
    at: number,
  ): Promise<StoredAttendance | undefined>;
  /** The person's open days (normally at most one). */
  listOpenOf(org: string, sub: string): Promise<StoredAttendance[]>;
  /** Open days over every org whose site closed at or before `at`, oldest first, at most `limit`. */
  listDue(at: number, limit: number): Promise<StoredAttendance[]>;
  /** The org's days from `from` to `to` (inclusive, `YYYY-MM-DD`), of one person or everyone, by day then sub. */
  list(org: string, from: string, to: string, sub?: string): Promise<StoredAttendance[]>;
  /**
   * Replace the person's day with an approved correction (creating it when there was none): a
   * closed day (`closed_by` auto: a reconnect does not reopen it) with the given times and flags.
   */
  correct(org: string, day: AttendanceCorrection, at: number): Promise<StoredAttendance>;
  /**
   * Move a day not closed by the scheduler or a correction to where the person has just arrived
   * (their approved place): its site, source, first-in and flags, open again. Undefined when the
   * day is not there or was closed by the scheduler or a correction.
   */
  relocate(
    org: string,
    sub: string,
    day: string,
    to: AttendanceMove,
    at: number,
  ): Promise<StoredAttendance | undefined>;
}

/** Where a day moves to (Attendance: the first presence at the approved place is the check-in). */
export interface AttendanceMove {
  siteId: string;
  source: AttendanceSource;
  firstIn: number;
  flags: AttendanceFlag[];
}

/** An approved correction of one day. */
export interface AttendanceCorrection {
  sub: string;
  day: string;
  siteId: string;
  firstIn: number;
  lastOut: number;
  minutes: number;
  flags: AttendanceFlag[];
  closesAt: number;
  teams: readonly string[];
}
