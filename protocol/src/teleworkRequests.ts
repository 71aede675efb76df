import { z } from 'zod';
import type { ApprovalSummary } from './approvals.ts';
import type { PriorityCategory } from './directory.ts';
import { teleworkIdSchema } from './telework.ts';

/**
 * Telework requests: a person applies for one or more days of telework (at home, at a
 * smart-work centre, mobile) with the tasks they plan. A request is an approval document of kind
 * `telework-request` (approvals.ts), submitted at once to the approver line of the org directory.
 * This file owns the request's wire shape and the schemas of its HTTP bodies.
 *
 * Rules: days are today or later in the site's time zone and not holidays (INVALID_PAYLOAD);
 * a person whose duty excludes telework cannot apply (NOT_ELIGIBLE); days pending, approved or
 * waitlisted count against a quota per week (Mon–Sun) and per calendar month (QUOTA_EXCEEDED).
 * A smart-work centre takes as many people a day as it has seats: once a request is approved,
 * each of its centre days is `approved` if a seat is left for it in priority order (people with a
 * priority category first, then by request time; undecided requests ahead of it keep their
 * place), else `waitlisted` with its position; a day cancelled or rejected frees its seat for
 * the next on the list.
 *
 * ## HTTP (Bearer token; the caller's `org`)
 * - `POST /telework/requests` `TeleworkRequestInput` → 201 `{ request }` (for the caller)
 * - `GET /telework/requests/mine` → `{ requests }` (the caller's, newest first)
 * - `GET /telework/requests/:id` → `{ request, priorityCategories? }` (the applicant, its
 *   approvers and their delegates, org admins; approvers, delegates and admins also see the
 *   applicant's priority categories, and that read is audited)
 * - `POST /telework/requests/:id/cancel` `TeleworkCancelInput` → `{ request }` (the applicant:
 *   the days named, or every day still open; a pending request is cancelled as a whole)
 */

export const TELEWORK_TYPES = ['home', 'smart-work-centre', 'mobile'] as const;
export const REQUEST_DAY_STATUSES = ['pending', 'approved', 'waitlisted', 'rejected', 'cancelled'] as const;
export type RequestDayStatus = (typeof REQUEST_DAY_STATUSES)[number];

export const TELEWORK_REQUEST_LIMITS = {
  /** Protocol ceilings; MOIM_TELEWORK_REQUEST_MAX_DAYS / _MAX_TASKS bound them lower. */
  maxDays: 31,
  maxTasks: 20,
  taskChars: 200,
} as const;

const day = z.iso.date();

export const teleworkRequestInputSchema = z
  .object({
    days: z
      .array(day)
      .min(1)
      .max(TELEWORK_REQUEST_LIMITS.maxDays)
      .refine((d) => new Set(d).size === d.length, 'each day once'),
    type: z.enum(TELEWORK_TYPES),
    siteId: teleworkIdSchema,
    placeId: teleworkIdSchema.optional(),
    tasks: z
      .array(z.string().trim().min(1).max(TELEWORK_REQUEST_LIMITS.taskChars))
      .min(1)
      .max(TELEWORK_REQUEST_LIMITS.maxTasks),
  })
  .strict();
export type TeleworkRequestInput = z.infer<typeof teleworkRequestInputSchema>;

export const teleworkCancelInputSchema = z
  .object({ days: z.array(day).min(1).max(TELEWORK_REQUEST_LIMITS.maxDays).optional() })
  .strict();
export type TeleworkCancelInput = z.infer<typeof teleworkCancelInputSchema>;

/** The payload of a `telework-request` approval document. */
export interface TeleworkRequestPayload {
  days: string[];
  type: (typeof TELEWORK_TYPES)[number];
  siteId: string;
  placeId: string | null;
  tasks: string[];
}

export interface TeleworkRequestDay {
  day: string;
  status: RequestDayStatus;
  /** 1 = next to get a seat; null unless waitlisted. */
  waitlistPosition: number | null;
}

export interface TeleworkRequest extends TeleworkRequestPayload {
  /** The approval document's id. */
  id: string;
  applicant: string;
  /** Days in order with their own status (a centre day may be waitlisted). */
  dayStatus: TeleworkRequestDay[];
  approval: ApprovalSummary;
}

export interface TeleworkRequestResponse {
  request: TeleworkRequest;
  /** The applicant's priority categories, for approvers, their delegates and admins. */
  priorityCategories?: PriorityCategory[];
}
export interface TeleworkRequestListResponse {
  requests: TeleworkRequest[];
}
