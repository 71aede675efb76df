/**
 * The constants an app builds its telework request, approval, report and dashboard pages from
 * (types of telework, day and document statuses, priority categories, field limits). They live in
 * `@moim/protocol` next to the zod schemas, which a browser bundle must not pull in; these are the
 * same values for the zod-free side, and test/sdk-telework-workflow.test.ts fails the moment the
 * two differ.
 */
import type {
  ApprovalStatus,
  DashboardStatus,
  PriorityCategory,
  RequestDayStatus,
  WorkReportStatus,
} from '@moim/protocol';

export const TELEWORK_TYPES = ['home', 'smart-work-centre', 'mobile'] as const;
export type TeleworkType = (typeof TELEWORK_TYPES)[number];
export const REQUEST_DAY_STATUSES = [
  'pending',
  'approved',
  'waitlisted',
  'rejected',
  'cancelled',
] as const satisfies readonly RequestDayStatus[];
export const APPROVAL_STATUSES = [
  'draft',
  'pending',
  'approved',
  'rejected',
  'cancelled',
] as const satisfies readonly ApprovalStatus[];
export const PRIORITY_CATEGORIES = [
  'pregnancy',
  'young-children',
  'disability',
  'long-commute',
] as const satisfies readonly PriorityCategory[];
export const WORK_REPORT_STATUSES = [
  'due',
  'submitted',
  'reviewed',
  'cancelled',
] as const satisfies readonly WorkReportStatus[];
export const DASHBOARD_STATUSES = [
  'checked-in',
  'late',
  'absent',
  'not-yet',
  'off',
] as const satisfies readonly DashboardStatus[];

/** Sizes the server refuses beyond (the protocol's ceilings; the server's configuration may set them lower). */
export const TELEWORK_WORKFLOW_LIMITS = {
  /** Days in one request. */
  maxDays: 31,
  /** Planned tasks in one request, and characters of each. */
  maxTasks: 20,
  taskChars: 200,
  /** An approval comment, a report's review or comment. */
  commentChars: 2000,
} as const;
