import type { WorkReportStatus } from '@moim/protocol';

/**
 * Work reports of telework days, per organisation: one per person and day (unique), with the
 * report's state and review; its text lives in its document (`docName`). Every change is one
 * conditional statement, so racing requests (or nodes) change a report once.
 */

export interface StoredReportComment {
  author: string;
  text: string;
  at: number;
}

export interface NewWorkReport {
  id: string;
  sub: string;
  day: string;
  requestId: string;
  siteId: string;
  tasks: string[];
  docName: string;
  /** End of the day in the site's time zone (ms): still `due` after it, the report is overdue. */
  dueAt: number;
}

export interface StoredWorkReport extends NewWorkReport {
  org: string;
  status: WorkReportStatus;
  submittedAt: number | null;
  reviewedBy: string | null;
  reviewedAt: number | null;
  remindedAt: number | null;
  comments: StoredReportComment[];
  createdAt: number;
  updatedAt: number;
}

/** What a transition sets besides the status. */
export interface ReportTransition {
  submittedAt?: number;
  reviewedBy?: string;
  reviewedAt?: number;
}

export interface WorkReportStore {
  /**
   * The person's report of that day: stored when there is none (created), else the stored one —
   * a cancelled one comes back `due` for the new request.
   */
  open(org: string, report: NewWorkReport, at: number): Promise<{ record: StoredWorkReport; created: boolean }>;
  get(org: string, id: string): Promise<StoredWorkReport | undefined>;
  getByDoc(org: string, docName: string): Promise<StoredWorkReport | undefined>;
  /** Reports of days in [from, to] (of `subs` when given), by day then person; at most `limit`. */
  list(
    org: string,
    q: { from: string; to: string; subs?: readonly string[]; limit: number },
  ): Promise<StoredWorkReport[]>;
  /** Move a report from `from` to `to` (and set `fields`); undefined when it is not in `from` (or absent). */
  transition(
    org: string,
    id: string,
    from: WorkReportStatus,
    to: WorkReportStatus,
    fields: ReportTransition,
    at: number,
  ): Promise<StoredWorkReport | undefined>;
  /** The person's report of that day, cancelled if still `due`; false otherwise. */
  cancelDay(org: string, sub: string, day: string, at: number): Promise<boolean>;
  /** Append a comment; undefined when there is no such report or it has `max` comments already. */
  addComment(org: string, id: string, comment: StoredReportComment, max: number): Promise<StoredWorkReport | undefined>;
  /** Reports of every org still `due` after their `dueAt` and never reminded, oldest first. */
  overdueUnreminded(now: number, limit: number): Promise<StoredWorkReport[]>;
  /** Mark reminded once; false when it was already (another node did it). */
  markReminded(org: string, id: string, at: number): Promise<boolean>;
}
