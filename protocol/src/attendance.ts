import { z } from 'zod';
import { calendarDaySchema, teleworkIdSchema, utcInstantSchema } from './telework.ts';

/**
 * Telework attendance: one record per person per working day, in the site's time zone. The first
 * connection of a working day is the check-in, the last disconnect (after the heartbeat window)
 * the check-out; the site comes from the connection's address (source `network`) or, where no
 * site's range matches, from the device's declared site (source `declared`). A day still open at
 * the site's closing time is closed then and flagged `auto-closed`, never carried into the next.
 *
 * ## HTTP (Bearer token; scoped to the caller's `org`)
 * - `GET /telework/attendance?from=YYYY-MM-DD&to=YYYY-MM-DD&sub=` → `{ days: AttendanceDay[] }`
 *   (members: only themself; managers: their team; admins: everyone; FORBIDDEN otherwise). `to` is
 *   inclusive, at most `MOIM_TELEWORK_ATTENDANCE_MAX_DAYS` days. Days with an approved telework
 *   plan and no attendance are listed with status `absent`.
 *
 * Corrections are requests through the approval engine (not part of this protocol yet).
 */

export const ATTENDANCE_SOURCES = ['network', 'declared'] as const;
export type AttendanceSource = (typeof ATTENDANCE_SOURCES)[number];

/**
 * - `late`: first in after the site's opening time + `MOIM_TELEWORK_LATE_AFTER_MINUTES`
 * - `auto-closed`: still open at the site's closing time; `lastOut` is that closing time
 * - `not-at-approved-place`: the approved plan of the day names another site
 */
export const ATTENDANCE_FLAGS = ['late', 'auto-closed', 'not-at-approved-place', 'corrected'] as const;
export type AttendanceFlag = (typeof ATTENDANCE_FLAGS)[number];

/** A stored attendance day. `lastOut` null: the person is (or was last seen) still in. */
export const attendanceRecordSchema = z
  .object({
    sub: z.string().min(1),
    day: calendarDaySchema,
    siteId: teleworkIdSchema,
    source: z.enum(ATTENDANCE_SOURCES),
    firstIn: utcInstantSchema,
    lastOut: utcInstantSchema.nullable(),
    /** Whole minutes from `firstIn` to `lastOut` (0 while open). */
    minutes: z.number().int().min(0),
    flags: z.array(z.enum(ATTENDANCE_FLAGS)),
  })
  .strict();
export type AttendanceRecord = z.infer<typeof attendanceRecordSchema>;

/** A row of the attendance query: a stored day (`present`), or an approved day with none (`absent`). */
export type AttendanceDay =
  | (AttendanceRecord & { status: 'present' })
  | { status: 'absent'; sub: string; day: string; siteId: string; requestId: string };

/** Query of `GET /telework/attendance`. */
export const attendanceQuerySchema = z
  .object({
    from: calendarDaySchema,
    to: calendarDaySchema,
    /** A person's `sub`; the prototype's names are refused (they never index anything anyway). */
    sub: z
      .string()
      .min(1)
      .max(128)
      .refine((s) => !['__proto__', 'constructor', 'prototype'].includes(s), 'this sub is reserved')
      .optional(),
  })
  .strict()
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['to'] });
export type AttendanceQuery = z.infer<typeof attendanceQuerySchema>;

export interface AttendanceResponse {
  days: AttendanceDay[];
}

/**
 * Body of `POST /telework/attendance/corrections`: what the day should say (in and out as UTC
 * instants on that day in the site's time zone) and why. It becomes an approval document of kind
 * `attendance-correction` for the person's approver line; once approved, the day is replaced by it
 * and flagged `corrected` (lateness judged again from the corrected time).
 */
export const attendanceCorrectionInputSchema = z
  .object({
    day: calendarDaySchema,
    siteId: teleworkIdSchema,
    firstIn: utcInstantSchema,
    lastOut: utcInstantSchema,
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .refine((c) => Date.parse(c.firstIn) < Date.parse(c.lastOut), {
    message: 'firstIn must be before lastOut',
    path: ['lastOut'],
  });
export type AttendanceCorrectionInput = z.infer<typeof attendanceCorrectionInputSchema>;
