/** Rows of `telework_reports`, shared by the SQLite and PostgreSQL work report stores. */
import type { WorkReportStatus } from '@moim/protocol';
import type { NewWorkReport, StoredWorkReport } from './WorkReportStore.ts';

export const REPORT_COLUMNS =
  'org, id, sub, day, request_id, site_id, tasks, doc_name, status, due_at, submitted_at, reviewed_by, reviewed_at, reminded_at, comments, created_at, updated_at';

export interface ReportRow {
  org: string;
  id: string;
  sub: string;
  day: string;
  request_id: string;
  site_id: string;
  tasks: string;
  doc_name: string;
  status: string;
  due_at: number | string;
  submitted_at: number | string | null;
  reviewed_by: string | null;
  reviewed_at: number | string | null;
  reminded_at: number | string | null;
  comments: string;
  created_at: number | string;
  updated_at: number | string;
}

const ms = (v: number | string): number => Number(v);
const msOrNull = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toReport(r: ReportRow): StoredWorkReport {
  return {
    org: r.org,
    id: r.id,
    sub: r.sub,
    day: r.day,
    requestId: r.request_id,
    siteId: r.site_id,
    tasks: JSON.parse(r.tasks) as string[],
    docName: r.doc_name,
    status: r.status as WorkReportStatus,
    dueAt: ms(r.due_at),
    submittedAt: msOrNull(r.submitted_at),
    reviewedBy: r.reviewed_by,
    reviewedAt: msOrNull(r.reviewed_at),
    remindedAt: msOrNull(r.reminded_at),
    comments: JSON.parse(r.comments) as StoredWorkReport['comments'],
    createdAt: ms(r.created_at),
    updatedAt: ms(r.updated_at),
  };
}

/** The values of an insert, in the order of `INSERT_COLUMNS`. */
export const INSERT_COLUMNS =
  'org, id, sub, day, request_id, site_id, tasks, doc_name, status, due_at, comments, created_at, updated_at';
export function insertValues(org: string, r: NewWorkReport, at: number): Array<string | number> {
  return [
    org,
    r.id,
    r.sub,
    r.day,
    r.requestId,
    r.siteId,
    JSON.stringify(r.tasks),
    r.docName,
    'due',
    r.dueAt,
    '[]',
    at,
    at,
  ];
}
