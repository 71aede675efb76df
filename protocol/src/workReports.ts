import { z } from 'zod';
import { directorySubSchema } from './directory.ts';
import { calendarDaySchema } from './telework.ts';

/**
 * Work reports: for each approved telework day, a report on the tasks the person planned. The
 * report's text is a shared Yjs document (`report.<id>`, made from a template listing the planned
 * tasks, so it is co-edited and versioned like any document) that only its author, the author's
 * approvers and managers, and org admins may open; the record here carries its state and the
 * review. People whose directory record marks `routineDuties` write none.
 *
 * ## HTTP (Bearer token; the caller's `org`)
 * - `POST /telework/reports` `{ day }` → 201/200 `{ report }`: the caller's report for an
 *   approved telework day of theirs (NOT_APPROVED without one), made on first use, then the same
 * - `GET /telework/reports?from=&to=&sub=` → `{ reports }`: the caller's own; managers also their
 *   reports' (direct and indirect); org admins everyone's (`sub` narrows; FORBIDDEN outside that)
 * - `GET /telework/reports/:id` → `{ report }` (the same rule)
 * - `POST /telework/reports/:id/submit` → `{ report }` (its author; `due` → `submitted`)
 * - `POST /telework/reports/:id/review` `{ comment? }` → `{ report }` (the author's managers and
 *   approvers, org admins; `submitted` → `reviewed`)
 * - `POST /telework/reports/:id/comments` `{ text }` → `{ report }` (whoever may read it)
 * - `GET /telework/reports/summary?period=day|week|month&date=YYYY-MM-DD` → `WorkReportSummary`:
 *   per person the caller may see, reports due, submitted, reviewed and overdue in that period
 *
 * A report not submitted by the end of its day (in its site's time zone) is overdue: its author
 * is reminded once in chat, and the manager sees it in the summary.
 */

export const WORK_REPORT_STATUSES = ['due', 'submitted', 'reviewed', 'cancelled'] as const;
export type WorkReportStatus = (typeof WORK_REPORT_STATUSES)[number];

export const WORK_REPORT_LIMITS = { commentChars: 2000, comments: 100 } as const;

export interface WorkReportComment {
  author: string;
  text: string;
  at: string;
}

export interface WorkReport {
  id: string;
  sub: string;
  /** The telework day (in the site's time zone). */
  day: string;
  /** The approved telework request the day belongs to. */
  requestId: string;
  siteId: string;
  /** The planned tasks, from the request. */
  tasks: string[];
  /** The report's document (open it over `/yjs/<docName>`). */
  docName: string;
  status: WorkReportStatus;
  /** When the day ends: a report still `due` after it is overdue. */
  dueAt: string;
  overdue: boolean;
  submittedAt: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  comments: WorkReportComment[];
  createdAt: string;
}

export const workReportOpenSchema = z.object({ day: calendarDaySchema }).strict();
export const workReportReviewSchema = z
  .object({ comment: z.string().trim().min(1).max(WORK_REPORT_LIMITS.commentChars).optional() })
  .strict();
export const workReportCommentSchema = z
  .object({ text: z.string().trim().min(1).max(WORK_REPORT_LIMITS.commentChars) })
  .strict();
export const workReportListQuerySchema = z
  .object({ from: calendarDaySchema, to: calendarDaySchema, sub: directorySubSchema.optional() })
  .strict()
  .refine((q) => q.from <= q.to, 'from is after to');
export const workReportSummaryQuerySchema = z
  .object({ period: z.enum(['day', 'week', 'month']), date: calendarDaySchema })
  .strict();
export const workReportIdSchema = z.uuid();

export interface WorkReportResponse {
  report: WorkReport;
}
export interface WorkReportListResponse {
  reports: WorkReport[];
}
export interface WorkReportSummary {
  period: 'day' | 'week' | 'month';
  /** The first and last day of the period. */
  from: string;
  to: string;
  people: Array<{ sub: string; due: number; submitted: number; reviewed: number; overdue: number }>;
}
