import type { ApprovalKind, ApprovalStatus, RequestDayStatus, StepStatus } from '@moim/protocol';

/**
 * Approval documents (e-approval) with their ordered steps and comments, delegations of approval,
 * and the days of telework requests, per organisation. This interface owns what is stored and the
 * conditions under which it changes; who may change it is the services' (telework/Approvals.ts,
 * telework/Requests.ts). Every transition is a conditional update on the document's `version`
 * and status, so of two deciders racing for one step exactly one changes it and the other's call
 * answers false; nothing is found across organisations. Times are ms since the epoch (UTC).
 */

export interface StoredStep {
  approver: string;
  status: StepStatus;
  decidedBy: string | null;
  onBehalfOf: string | null;
  decidedAt: number | null;
  comment: string | null;
  dueAt: number | null;
  escalatedFrom: string | null;
}

/** A step not yet reached or not yet decided: `approver` is waiting to decide it. */
export const waitingStep = (approver: string): StoredStep => ({
  approver,
  status: 'waiting',
  decidedBy: null,
  onBehalfOf: null,
  decidedAt: null,
  comment: null,
  dueAt: null,
  escalatedFrom: null,
});

export interface StoredComment {
  author: string;
  text: string;
  at: number;
}

export interface StoredApproval {
  org: string;
  id: string;
  kind: ApprovalKind;
  applicant: string;
  title: string;
  body: string;
  /** Kind-specific JSON (stored as text). */
  payload: unknown;
  status: ApprovalStatus;
  /** In order; index 0 decides first. */
  steps: StoredStep[];
  /** Oldest first (empty in list answers). */
  comments: StoredComment[];
  version: number;
  createdAt: number;
  updatedAt: number;
  submittedAt: number | null;
  decidedAt: number | null;
}

export interface DecisionChange {
  /** The version the decider read; another change since makes the decision answer false. */
  version: number;
  /** The index of the pending step decided. */
  step: number;
  decision: 'approved' | 'rejected';
  decidedBy: string;
  onBehalfOf: string | null;
  comment: string | null;
  at: number;
  /** The next step's escalation deadline (approved, not the last step). */
  nextDueAt: number;
}

export interface EscalationChange {
  version: number;
  step: number;
  /** The approver the step is taken from (it must still be theirs). */
  from: string;
  to: string;
  dueAt: number;
  at: number;
}

export interface ApprovalListQuery {
  /** Documents of this applicant … */
  applicant?: string | undefined;
  /** … or documents with a step of one of these approvers (drafts never). */
  approvers?: readonly string[] | undefined;
  status?: ApprovalStatus | undefined;
  /** Keyset cursor: documents created before this one (newest first). */
  before?: { createdAt: number; id: string } | undefined;
  limit: number;
}

export interface DueStep {
  org: string;
  id: string;
  version: number;
  step: number;
  approver: string;
}

export interface StoredDelegation {
  /** The approver delegating. */
  from: string;
  to: string;
  fromDay: string;
  untilDay: string;
  /** [startsAt, endsAt) in ms: the days in the org's time zone. */
  startsAt: number;
  endsAt: number;
}

export interface StoredRequestDay {
  requestId: string;
  sub: string;
  day: string;
  type: string;
  siteId: string;
  placeId: string | null;
  status: RequestDayStatus;
  /** 1 when the applicant had a priority category when applying, else 0: higher goes first. */
  priority: number;
  requestedAt: number;
}

/** A quota window: days of one person in [from, to) that are pending, approved or waitlisted. */
export interface QuotaWindow {
  from: string;
  to: string;
  max: number;
  /** For the refusal's message: `week of 2030-01-07`, `month 2030-01`. */
  label: string;
}

export interface ApprovalStore {
  /** Store a new document with its steps (comments ignored); CONFLICT when the id exists. */
  create(doc: StoredApproval): Promise<void>;
  get(org: string, id: string): Promise<StoredApproval | undefined>;
  /** Replace a draft's title, body and approver line; false unless it is a draft at `version`. */
  updateDraft(
    org: string,
    id: string,
    version: number,
    change: { title: string; body: string; approvers: readonly string[] },
    at: number,
  ): Promise<boolean>;
  /** draft → pending, its first step pending until `dueAt`; false unless a draft at `version`. */
  submit(org: string, id: string, version: number, at: number, dueAt: number): Promise<boolean>;
  /**
   * Decide the pending step `change.step`: rejected ends the document rejected; approved makes
   * the next step pending, or the document approved after the last. False unless the document
   * is pending at `change.version` with that step pending.
   */
  decide(org: string, id: string, change: DecisionChange): Promise<boolean>;
  /** Delete a draft never submitted (a kind's owner refused it); false unless it is a draft. */
  discardDraft(org: string, id: string): Promise<boolean>;
  /** draft or pending → cancelled; false otherwise. */
  cancel(org: string, id: string, at: number): Promise<boolean>;
  /** Give the pending step to `change.to`; false unless pending at `version` with the step still `change.from`'s. */
  escalate(org: string, id: string, change: EscalationChange): Promise<boolean>;
  /** Add a comment; false unless the document is a draft or pending. */
  addComment(org: string, id: string, comment: StoredComment): Promise<boolean>;
  /** Newest first, without bodies and comments. */
  list(org: string, query: ApprovalListQuery): Promise<StoredApproval[]>;
  /** Pending steps of pending documents whose deadline is at or before `now`, every org, oldest first. */
  dueSteps(now: number, limit: number): Promise<DueStep[]>;

  /** Create or replace the delegation of `d.from` to `d.to`. */
  putDelegation(org: string, d: StoredDelegation, at: number): Promise<void>;
  deleteDelegation(org: string, from: string, to: string): Promise<boolean>;
  /** Delegations `sub` gave and received, by first day. */
  listDelegations(org: string, sub: string): Promise<{ given: StoredDelegation[]; received: StoredDelegation[] }>;
  /** The approvers delegating to `delegate` at the instant `at`. */
  delegatorsOf(org: string, delegate: string, at: number): Promise<string[]>;

  /**
   * Store the days of a new request in one transaction with the person's quota: QUOTA_EXCEEDED
   * when a window would hold more than its `max`, CONFLICT when the person already has a day of
   * it pending, approved or waitlisted.
   */
  addRequestDays(org: string, days: readonly StoredRequestDay[], quota: readonly QuotaWindow[]): Promise<void>;
  /** The request's days, in order. */
  requestDays(org: string, requestId: string): Promise<StoredRequestDay[]>;
  /**
   * Move the request's days (all, or those named) that are in one of `from` to `to`, at `at`;
   * answers the days changed.
   */
  setRequestDays(
    org: string,
    requestId: string,
    from: readonly RequestDayStatus[],
    to: RequestDayStatus,
    days?: readonly string[],
  ): Promise<StoredRequestDay[]>;
  /**
   * Give the free seats of a site's day in queue order (priority, then request time; pending
   * days keep their place in it): waitlisted days within the seats become approved. One
   * allocation per site and day at a time (across nodes). Answers the days approved.
   */
  allocate(org: string, siteId: string, day: string, seats: number): Promise<StoredRequestDay[]>;
  /** A site's day in queue order: pending, waitlisted and approved days. */
  queue(org: string, siteId: string, day: string): Promise<StoredRequestDay[]>;
  /** The person's approved day, if any. */
  approvedDay(org: string, sub: string, day: string): Promise<StoredRequestDay | undefined>;
}
