/**
 * The work reports client: open my report for an approved telework day (its text is the shared
 * document `report.<id>`, opened with `client.docs.open(report.docName)`), list and read reports
 * (mine; managers their reports'; admins everyone's), submit, review with a comment, comment, and
 * the per-person summary of a day, week or month. Routes and rules: `@moim/protocol`'s
 * workReports.ts. It needs only a URL and a token; `MoimClient.workReports` is this client on the
 * session's token. Refusals reject with a `MoimError` (NOT_APPROVED, FORBIDDEN, ALREADY_DECIDED, …).
 */
import type { WorkReport, WorkReportListResponse, WorkReportResponse, WorkReportSummary } from '@moim/protocol';
import { authorizedJson } from '../http.ts';
import { checkDay, checkSub, checkUuid, queryOf } from './checks.ts';
import type { TeleworkOptions } from './Telework.ts';

export class WorkReports {
  readonly #url: string;
  readonly #getToken: () => Promise<string> | string;

  constructor(options: TeleworkOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#getToken = options.getToken;
  }

  async #call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    return authorizedJson<T>(this.#url, await this.#getToken(), `/telework/reports${path}`, init);
  }

  /** My report for `day` (an approved telework day of mine), made on first use. */
  async open(day: string): Promise<WorkReport> {
    return (await this.#call<WorkReportResponse>('', { method: 'POST', body: { day: checkDay('day', day) } })).report;
  }

  /** Reports of the days `from`–`to` I may see (`sub` narrows to one person). */
  async list(from: string, to: string, sub?: string): Promise<WorkReport[]> {
    if (sub !== undefined) checkSub('sub', sub);
    const q = queryOf({ from: checkDay('from', from), to: checkDay('to', to), sub });
    return (await this.#call<WorkReportListResponse>(q)).reports;
  }

  async get(id: string): Promise<WorkReport> {
    return (await this.#call<WorkReportResponse>(`/${checkUuid('id', id)}`)).report;
  }

  /** Submit my report (`due` → `submitted`); my manager is told. */
  async submit(id: string): Promise<WorkReport> {
    return (await this.#call<WorkReportResponse>(`/${checkUuid('id', id)}/submit`, { method: 'POST' })).report;
  }

  /** Review a submitted report (its author's managers and approvers, admins), with an optional comment. */
  async review(id: string, comment?: string): Promise<WorkReport> {
    const body = comment?.trim() ? { comment: comment.trim() } : {};
    return (await this.#call<WorkReportResponse>(`/${checkUuid('id', id)}/review`, { method: 'POST', body })).report;
  }

  async comment(id: string, text: string): Promise<WorkReport> {
    return (
      await this.#call<WorkReportResponse>(`/${checkUuid('id', id)}/comments`, { method: 'POST', body: { text } })
    ).report;
  }

  /** Per person I may see: reports due, submitted, reviewed and overdue in the period holding `date`. */
  async summary(period: 'day' | 'week' | 'month', date: string): Promise<WorkReportSummary> {
    return this.#call<WorkReportSummary>(`/summary${queryOf({ period, date: checkDay('date', date) })}`);
  }
}
