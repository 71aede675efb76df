/**
 * What the telework services ask of each other, so that each is built and tested on its own and
 * wired together in app.ts: the org directory answers approval chains and working days, the
 * requests service answers approved plans, and notices reach people as chat messages from moim.
 * Days are calendar days `YYYY-MM-DD` in the site's (or the org's default) time zone.
 */

/** The kinds of telework a person applies for. */
export type TeleworkType = 'home' | 'smart-work-centre' | 'mobile';

/** Implemented by the org directory (OrgDirectory.ts). */
export interface ApprovalChains {
  /**
   * The approvers of a person's requests, in order: their manager, then (multi-step where
   * configured) the manager's manager, … Empty when the person has no manager on record.
   * Cycles in the directory end the chain; nobody approves their own request.
   */
  chainOf(org: string, sub: string): Promise<string[]>;
  /** Whom an undecided step of `approverSub` goes to: their manager; undefined at the top. */
  escalationTargetOf(org: string, approverSub: string): Promise<string | undefined>;
}

/** Implemented by the org directory (OrgDirectory.ts). */
export interface WorkCalendar {
  /** Not a public holiday of the org's calendar. (Weekends are the site's opening hours' business.) */
  isHoliday(org: string, day: string): Promise<boolean>;
}

/** An approved telework day of one person. */
export interface ApprovedPlan {
  /** The approved request. */
  requestId: string;
  type: TeleworkType;
  /** The site approved for that day (`home` for home telework). */
  siteId: string;
  /** The place approved, where the request named one. */
  placeId?: string | undefined;
  /** The tasks the person planned (the work report's template lists them). */
  tasks?: readonly string[] | undefined;
}

/** Implemented by the telework requests service (Requests.ts). */
export interface TeleworkPlans {
  /** The person's approved telework on that day, if any. */
  planOn(org: string, sub: string, day: string): Promise<ApprovedPlan | undefined>;
}

/** Implemented by Notices.ts: a direct message from moim's system account in chat. */
export interface Notices {
  /** Tell `sub` something, with an app link such as `#/approvals/<id>`; failures are logged, never thrown. */
  tell(org: string, sub: string, text: string, link: string): Promise<void>;
}
