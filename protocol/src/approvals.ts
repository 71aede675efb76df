import { z } from 'zod';

/**
 * Approvals (e-approval, 전자결재): a document goes `draft → pending → approved | rejected` through
 * an ordered line of approval steps, or is `cancelled` by its applicant while draft or pending.
 * One engine serves every kind: `document` (free text, the applicant picks the approver line),
 * `telework-request` and `attendance-correction` (the line comes from the org directory, the
 * payload is validated by the kind's owner). This file owns the wire shapes and the zod schemas
 * every HTTP body and query goes through.
 *
 * ## HTTP (Bearer token; everything is scoped to the caller's `org`)
 * - `POST /approvals` `ApprovalDraftInput` → 201 `{ approval }` (a draft of kind `document`)
 * - `PATCH /approvals/:id` `ApprovalPatchInput` → `{ approval }` (the applicant, while draft;
 *   `version` must be the stored one: CONFLICT otherwise, ALREADY_DECIDED once decided)
 * - `POST /approvals/:id/submit` → `{ approval }` (the applicant: draft → pending)
 * - `POST /approvals/:id/approve` `ApprovalDecisionInput` → `{ approval }` (the pending step's
 *   approver or their delegate; of two deciding at once exactly one wins, the other gets ALREADY_DECIDED)
 * - `POST /approvals/:id/reject` `ApprovalDecisionInput` → `{ approval }` (likewise)
 * - `POST /approvals/:id/cancel` → `{ approval }` (the applicant, while draft or pending)
 * - `POST /approvals/:id/comments` `ApprovalCommentInput` → 201 `{ approval }` (the applicant, an
 *   approver of it, their delegates; not once decided)
 * - `GET /approvals/:id` → `{ approval }` (the applicant, any approver of it, their delegates, org
 *   admins; FORBIDDEN otherwise)
 * - `GET /approvals?role=applicant|approver&status=&cursor=&limit=` → `{ approvals, nextCursor }`
 *   (`approver`: documents with a step of the caller or of someone delegating to the caller now)
 * - `PUT /approvals/delegations` `DelegationInput` → `{ delegation }` (the caller delegates their
 *   approvals to `to` for the days `from`–`until`, in the org's time zone; replaces one to the same person)
 * - `GET /approvals/delegations` → `{ given, received }`
 * - `DELETE /approvals/delegations/:to` → `{ deleted: true }`
 */

export const APPROVAL_KINDS = ['telework-request', 'attendance-correction', 'document'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];
export const APPROVAL_STATUSES = ['draft', 'pending', 'approved', 'rejected', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export const STEP_STATUSES = ['waiting', 'pending', 'approved', 'rejected'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const APPROVAL_LIMITS = {
  titleChars: 200,
  bodyChars: 20_000,
  commentChars: 2000,
  /** The protocol's ceiling on an approver line; MOIM_TELEWORK_APPROVAL_MAX_STEPS bounds it lower. */
  maxSteps: 20,
  /** Bytes of a kind's payload as JSON. */
  payloadBytes: 16_384,
  pageSize: 100,
} as const;

const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** A person's `sub` as tokens carry it; prototype names are refused so no lookup meets them. */
export const personSubSchema = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => !PROTOTYPE_NAMES.has(s), 'this id is reserved');

export const approvalIdSchema = z.uuid();
const iso = z.iso.datetime({ offset: false, local: false });

export const approvalStepSchema = z
  .object({
    approver: z.string(),
    status: z.enum(STEP_STATUSES),
    /** Who decided: the approver, or their delegate. */
    decidedBy: z.string().nullable(),
    /** Set when a delegate decided: the approver they decided for. */
    onBehalfOf: z.string().nullable(),
    decidedAt: iso.nullable(),
    comment: z.string().nullable(),
    /** The escalation deadline of a pending step. */
    dueAt: iso.nullable(),
    /** The approver this step was escalated from (their deadline passed). */
    escalatedFrom: z.string().nullable(),
  })
  .strict();
export type ApprovalStep = z.infer<typeof approvalStepSchema>;

export const approvalCommentSchema = z.object({ author: z.string(), text: z.string(), at: iso }).strict();
export type ApprovalComment = z.infer<typeof approvalCommentSchema>;

export const approvalSchema = z
  .object({
    id: approvalIdSchema,
    kind: z.enum(APPROVAL_KINDS),
    applicant: z.string(),
    title: z.string(),
    body: z.string(),
    /** Kind-specific JSON (a telework request's days, type, site, tasks); null for `document`. */
    payload: z.unknown(),
    status: z.enum(APPROVAL_STATUSES),
    steps: z.array(approvalStepSchema),
    comments: z.array(approvalCommentSchema),
    /** Grows with every change of the document or its steps (not with comments). */
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
    submittedAt: iso.nullable(),
    decidedAt: iso.nullable(),
  })
  .strict();
export type Approval = z.infer<typeof approvalSchema>;
/** A list entry: the document without its body and comments. */
export type ApprovalSummary = Omit<Approval, 'body' | 'comments'>;

const title = z.string().trim().min(1).max(APPROVAL_LIMITS.titleChars);
const body = z.string().max(APPROVAL_LIMITS.bodyChars);
const approvers = z.array(personSubSchema).min(1).max(APPROVAL_LIMITS.maxSteps);

/** Body of `POST /approvals`: a `document` draft with the approver line the applicant picks. */
export const approvalDraftInputSchema = z.object({ title, body: body.default(''), approvers }).strict();
export type ApprovalDraftInput = z.infer<typeof approvalDraftInputSchema>;

/** Body of `PATCH /approvals/:id`: what changes, and the version it was read at. */
export const approvalPatchInputSchema = z
  .object({
    version: z.number().int().min(0),
    title: title.optional(),
    body: body.optional(),
    approvers: approvers.optional(),
  })
  .strict();
export type ApprovalPatchInput = z.infer<typeof approvalPatchInputSchema>;

/** Body of approve / reject: an optional comment; `version`, when given, must be the stored one. */
export const approvalDecisionInputSchema = z
  .object({
    comment: z.string().trim().max(APPROVAL_LIMITS.commentChars).optional(),
    version: z.number().int().min(0).optional(),
  })
  .strict();
export type ApprovalDecisionInput = z.infer<typeof approvalDecisionInputSchema>;

export const approvalCommentInputSchema = z
  .object({ text: z.string().trim().min(1).max(APPROVAL_LIMITS.commentChars) })
  .strict();
export type ApprovalCommentInput = z.infer<typeof approvalCommentInputSchema>;

export const APPROVAL_ROLES = ['applicant', 'approver'] as const;

/** Query of `GET /approvals`. */
export const approvalListQuerySchema = z
  .object({
    role: z.enum(APPROVAL_ROLES),
    status: z.enum(APPROVAL_STATUSES).optional(),
    /** `nextCursor` of the previous page. */
    cursor: z
      .string()
      .regex(/^\d{1,16}\.[0-9a-f-]{36}$/, 'a nextCursor')
      .optional(),
    limit: z.coerce.number().int().min(1).max(APPROVAL_LIMITS.pageSize).default(50),
  })
  .strict();
export type ApprovalListQuery = z.infer<typeof approvalListQuerySchema>;

const day = z.iso.date();

/** Body of `PUT /approvals/delegations`: whole days `from`–`until` (inclusive, the org's time zone). */
export const delegationInputSchema = z
  .object({ to: personSubSchema, from: day, until: day })
  .strict()
  .refine((d) => d.from <= d.until, { message: 'until must not be before from', path: ['until'] });
export type DelegationInput = z.infer<typeof delegationInputSchema>;

export interface Delegation {
  /** The approver whose approvals are delegated. */
  from: string;
  /** The delegate. */
  to: string;
  /** First day (inclusive). */
  fromDay: string;
  /** Last day (inclusive). */
  untilDay: string;
  /** The instants the range covers in the org's time zone: [startsAt, endsAt). */
  startsAt: string;
  endsAt: string;
}

export interface ApprovalResponse {
  approval: Approval;
}
export interface ApprovalListResponse {
  approvals: ApprovalSummary[];
  nextCursor: string | null;
}
export interface DelegationResponse {
  delegation: Delegation;
}
export interface DelegationListResponse {
  given: Delegation[];
  received: Delegation[];
}
