/** Work reports on SQLite (the WorkReportStore of a single node). */
import type { WorkReportStatus } from '@moim/protocol';
import type {
  NewWorkReport,
  ReportTransition,
  StoredReportComment,
  StoredWorkReport,
  WorkReportStore,
} from '../WorkReportStore.ts';
import { INSERT_COLUMNS, insertValues, REPORT_COLUMNS, type ReportRow, toReport } from '../workReportRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

export class SqliteWorkReportStore implements WorkReportStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async open(org: string, r: NewWorkReport, at: number): Promise<{ record: StoredWorkReport; created: boolean }> {
    return this.#db.tx(() => {
      const before = this.#db.get<{ id: string }>(
        'SELECT id FROM telework_reports WHERE org = ? AND sub = ? AND day = ?',
        org,
        r.sub,
        r.day,
      );
      this.#db.run(
        `INSERT INTO telework_reports (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (org, sub, day) DO UPDATE SET status = 'due', request_id = excluded.request_id,
           site_id = excluded.site_id, tasks = excluded.tasks, due_at = excluded.due_at, updated_at = excluded.updated_at
         WHERE telework_reports.status = 'cancelled'`,
        ...insertValues(org, r, at),
      );
      const row = this.#db.get<ReportRow>(
        `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = ? AND sub = ? AND day = ?`,
        org,
        r.sub,
        r.day,
      );
      if (!row) throw new Error('work report row vanished inside its transaction');
      return { record: toReport(row), created: before === undefined };
    });
  }

  async get(org: string, id: string): Promise<StoredWorkReport | undefined> {
    const row = this.#db.get<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = ? AND id = ?`,
      org,
      id,
    );
    return row ? toReport(row) : undefined;
  }

  async getByDoc(org: string, docName: string): Promise<StoredWorkReport | undefined> {
    const row = this.#db.get<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = ? AND doc_name = ?`,
      org,
      docName,
    );
    return row ? toReport(row) : undefined;
  }

  async list(
    org: string,
    q: { from: string; to: string; subs?: readonly string[]; limit: number },
  ): Promise<StoredWorkReport[]> {
    const subs = q.subs ? ` AND sub IN (SELECT value FROM json_each(?))` : '';
    const params: Array<string | number> = [org, q.from, q.to];
    if (q.subs) params.push(JSON.stringify(q.subs));
    params.push(q.limit);
    return this.#db
      .all<ReportRow>(
        `SELECT ${REPORT_COLUMNS} FROM telework_reports WHERE org = ? AND day >= ? AND day <= ?${subs}
         ORDER BY day, sub LIMIT ?`,
        ...params,
      )
      .map(toReport);
  }

  async transition(
    org: string,
    id: string,
    from: WorkReportStatus,
    to: WorkReportStatus,
    f: ReportTransition,
    at: number,
  ): Promise<StoredWorkReport | undefined> {
    const rows = this.#db.all<ReportRow>(
      `UPDATE telework_reports SET status = ?, submitted_at = COALESCE(?, submitted_at),
         reviewed_by = COALESCE(?, reviewed_by), reviewed_at = COALESCE(?, reviewed_at), updated_at = ?
       WHERE org = ? AND id = ? AND status = ? RETURNING ${REPORT_COLUMNS}`,
      to,
      f.submittedAt ?? null,
      f.reviewedBy ?? null,
      f.reviewedAt ?? null,
      at,
      org,
      id,
      from,
    );
    return rows[0] ? toReport(rows[0]) : undefined;
  }

  async cancelDay(org: string, sub: string, day: string, at: number): Promise<boolean> {
    return (
      this.#db.run(
        `UPDATE telework_reports SET status = 'cancelled', updated_at = ? WHERE org = ? AND sub = ? AND day = ? AND status = 'due'`,
        at,
        org,
        sub,
        day,
      ).changes > 0
    );
  }

  async addComment(
    org: string,
    id: string,
    c: StoredReportComment,
    max: number,
  ): Promise<StoredWorkReport | undefined> {
    const rows = this.#db.all<ReportRow>(
      `UPDATE telework_reports SET comments = json_insert(comments, '$[#]', json(?)), updated_at = ?
       WHERE org = ? AND id = ? AND json_array_length(comments) < ? RETURNING ${REPORT_COLUMNS}`,
      JSON.stringify(c),
      c.at,
      org,
      id,
      max,
    );
    return rows[0] ? toReport(rows[0]) : undefined;
  }

  async overdueUnreminded(now: number, limit: number): Promise<StoredWorkReport[]> {
    return this.#db
      .all<ReportRow>(
        `SELECT ${REPORT_COLUMNS} FROM telework_reports
         WHERE status = 'due' AND reminded_at IS NULL AND due_at <= ? ORDER BY due_at LIMIT ?`,
        now,
        limit,
      )
      .map(toReport);
  }

  async markReminded(org: string, id: string, at: number): Promise<boolean> {
    return (
      this.#db.run(
        'UPDATE telework_reports SET reminded_at = ? WHERE org = ? AND id = ? AND reminded_at IS NULL',
        at,
        org,
        id,
      ).changes > 0
    );
  }
}
