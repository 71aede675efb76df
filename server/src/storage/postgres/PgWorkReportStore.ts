/** Work reports on PostgreSQL (the WorkReportStore of a cluster): the same conditional statements as SQLite's. */
import type { WorkReportStatus } from '@moim/protocol';
import type {
  NewWorkReport,
  ReportTransition,
  StoredReportComment,
  StoredWorkReport,
  WorkReportStore,
} from '../WorkReportStore.ts';
import { INSERT_COLUMNS, insertValues, REPORT_COLUMNS, type ReportRow, toReport } from '../workReportRows.ts';
import type { PgDb } from './PgDb.ts';

export class PgWorkReportStore implements WorkReportStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async open(org: string, r: NewWorkReport, at: number): Promise<{ record: StoredWorkReport; created: boolean }> {
    // xmax = 0: the row was inserted by this statement, not updated
    const row = await this.#db.one<ReportRow & { inserted: boolean }>(
      `INSERT INTO telework_reports (${INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (org, sub, day) DO UPDATE SET status = 'due', request_id = EXCLUDED.request_id,
         site_id = EXCLUDED.site_id, tasks = EXCLUDED.tasks, due_at = EXCLUDED.due_at, updated_at = EXCLUDED.updated_at
       WHERE telework_reports.status = 'cancelled'
       RETURNING ${REPORT_COLUMNS}, (xmax = 0) AS inserted`,
      insertValues(org, r, at),
    );
    if (row) return { record: toReport(row), created: row.inserted };
    const existing = await this.#db.one<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = $1 AND sub = $2 AND day = $3`,
      [org, r.sub, r.day],
    );
    if (!existing) throw new Error('work report row missing after a conflicting insert');
    return { record: toReport(existing), created: false };
  }

  async get(org: string, id: string): Promise<StoredWorkReport | undefined> {
    const row = await this.#db.one<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = $1 AND id = $2`,
      [org, id],
    );
    return row ? toReport(row) : undefined;
  }

  async getByDoc(org: string, docName: string): Promise<StoredWorkReport | undefined> {
    const row = await this.#db.one<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = $1 AND doc_name = $2`,
      [org, docName],
    );
    return row ? toReport(row) : undefined;
  }

  async list(
    org: string,
    q: { from: string; to: string; subs?: readonly string[]; limit: number },
  ): Promise<StoredWorkReport[]> {
    const rows = await this.#db.query<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = $1 AND day >= $2 AND day <= $3
         AND ($4::text[] IS NULL OR sub = ANY($4::text[]))
       ORDER BY day, sub LIMIT $5`,
      [org, q.from, q.to, q.subs ? [...q.subs] : null, q.limit],
    );
    return rows.map(toReport);
  }

  async transition(
    org: string,
    id: string,
    from: WorkReportStatus,
    to: WorkReportStatus,
    f: ReportTransition,
    at: number,
  ): Promise<StoredWorkReport | undefined> {
    const row = await this.#db.one<ReportRow>(
      `UPDATE telework_reports SET status = $1, submitted_at = COALESCE($2, submitted_at),
         reviewed_by = COALESCE($3, reviewed_by), reviewed_at = COALESCE($4, reviewed_at), updated_at = $5
       WHERE org = $6 AND id = $7 AND status = $8 RETURNING ${REPORT_COLUMNS}`,
      [to, f.submittedAt ?? null, f.reviewedBy ?? null, f.reviewedAt ?? null, at, org, id, from],
    );
    return row ? toReport(row) : undefined;
  }

  async cancelDay(org: string, sub: string, day: string, at: number): Promise<boolean> {
    const row = await this.#db.one(
      `UPDATE telework_reports SET status = 'cancelled', updated_at = $1
       WHERE org = $2 AND sub = $3 AND day = $4 AND status = 'due' RETURNING 1 AS x`,
      [at, org, sub, day],
    );
    return row !== undefined;
  }

  async addComment(
    org: string,
    id: string,
    c: StoredReportComment,
    max: number,
  ): Promise<StoredWorkReport | undefined> {
    const row = await this.#db.one<ReportRow>(
      `UPDATE telework_reports SET comments = (comments::jsonb || jsonb_build_array($1::jsonb))::text, updated_at = $2
       WHERE org = $3 AND id = $4 AND jsonb_array_length(comments::jsonb) < $5 RETURNING ${REPORT_COLUMNS}`,
      [JSON.stringify(c), c.at, org, id, max],
    );
    return row ? toReport(row) : undefined;
  }

  async overdueUnreminded(now: number, limit: number): Promise<StoredWorkReport[]> {
    const rows = await this.#db.query<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM telework_reports
       WHERE status = 'due' AND reminded_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2`,
      [now, limit],
    );
    return rows.map(toReport);
  }

  async markReminded(org: string, id: string, at: number): Promise<boolean> {
    const row = await this.#db.one(
      'UPDATE telework_reports SET reminded_at = $1 WHERE org = $2 AND id = $3 AND reminded_at IS NULL RETURNING 1 AS x',
      [at, org, id],
    );
    return row !== undefined;
  }
}
