/**
 * Work reports: for each approved telework day a report on the planned tasks. The text is a shared
 * Yjs document made from a template (`report.<id>`: co-edited and versioned like any document),
 * guarded so that only its author, the author's managers and approvers, and org admins open it —
 * a wildcard document grant does not. The record holds the state (`due` → `submitted` →
 * `reviewed`, or `cancelled` with its day) and the review's comments. People whose directory
 * record marks routine duties write none. A report still due when its day ends (in the site's time
 * zone) is overdue: the reminder job tells its author once in chat.
 */
import { randomUUID } from 'node:crypto';
import { MoimError, WORK_REPORT_LIMITS, type WorkReport, type WorkReportSummary } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { DocService } from '../docs/DocService.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { StoredWorkReport, WorkReportStore } from '../storage/WorkReportStore.ts';
import type { Notices, TeleworkPlans } from './contracts.ts';
import type { Clock, Job } from './Scheduler.ts';
import type { Sites } from './Sites.ts';
import { nextDay, startOfDay } from './siteClock.ts';

/** What reports need of the org directory (OrgDirectory.ts). */
export interface ReportPeople {
  get(org: string, sub: string): Promise<{ routineDuties: boolean; name: string } | undefined>;
  chainOf(org: string, sub: string): Promise<string[]>;
  reportsOf(org: string, managerSub: string): Promise<string[]>;
}

export interface WorkReportsOptions {
  store: WorkReportStore;
  telework: TeleworkStore;
  sites: Sites;
  docs: DocService;
  plans: TeleworkPlans;
  people: ReportPeople;
  notices: Notices;
  audit: AuditStore;
  log: Logger;
  clock: Clock;
}

/** The document prefix reports own (DocGuards). */
export const REPORT_DOC_PREFIX = 'report.';
export const REMIND_JOB = 'telework.reports.remind';
/** Reports one listing returns at most. */
const LIST_LIMIT = 5000;

export class WorkReports {
  readonly #o: WorkReportsOptions;

  constructor(opts: WorkReportsOptions) {
    this.#o = opts;
    opts.docs.guards.register(REPORT_DOC_PREFIX, async (principal, name) => {
      const report = await opts.store.getByDoc(principal.token.org, name);
      // a report document whose record is gone (or never was) is nobody's to open but an admin's
      return report ? this.#mayRead(principal, report) : principal.isAdmin;
    });
  }

  /** The reminder job (add it to the telework scheduler). */
  get remindJob(): Job {
    return { name: REMIND_JOB, everyMs: 10 * 60_000, run: (now) => this.remindOverdue(now) };
  }

  /**
   * The report of `sub`'s approved telework day `day`, made on first use (record and document);
   * undefined when the day has no approved plan or the person's duties are routine. `tasks`: the
   * request's planned tasks where the caller has them (else the plan's).
   */
  async openFor(
    org: string,
    sub: string,
    day: string,
    tasks?: readonly string[],
  ): Promise<StoredWorkReport | undefined> {
    const plan = await this.#o.plans.planOn(org, sub, day);
    if (!plan) return undefined;
    const person = await this.#o.people.get(org, sub);
    if (person?.routineDuties) return undefined;
    const site = await this.#o.telework.getSite(org, plan.siteId);
    const timeZone = site?.timeZone ?? 'Asia/Seoul';
    const id = randomUUID();
    const now = this.#o.clock.now();
    const { record, created } = await this.#o.store.open(
      org,
      {
        id,
        sub,
        day,
        requestId: plan.requestId,
        siteId: plan.siteId,
        tasks: [...(tasks ?? plan.tasks ?? [])],
        docName: `${REPORT_DOC_PREFIX}${id}`,
        dueAt: startOfDay(nextDay(day), timeZone),
      },
      now,
    );
    // made now, or left half-made by a crash between the record and the document: make the document
    await this.#o.docs.createWithText({ org, name: record.docName }, sub, template(person?.name ?? sub, record));
    if (created) {
      await this.#o.audit.append({
        actor: sub,
        action: 'telework.report.open',
        target: record.id,
        detail: { org, day, requestId: plan.requestId },
      });
      this.#o.log.info({ org, sub, day, report: record.id }, 'work report opened');
    }
    return record;
  }

  /** The caller's report of their approved telework day. */
  async open(caller: Principal, day: string): Promise<{ report: WorkReport; created: boolean }> {
    const org = await this.#o.sites.orgOf(caller);
    const before = (await this.#o.store.list(org, { from: day, to: day, subs: [caller.sub], limit: 1 }))[0];
    const record = await this.openFor(org, caller.sub, day);
    if (!record) {
      const person = await this.#o.people.get(org, caller.sub);
      if (person?.routineDuties) throw new MoimError('NOT_ELIGIBLE', 'routine duties need no work report');
      throw new MoimError('NOT_APPROVED', `no approved telework on ${day}`);
    }
    return { report: this.#view(record), created: before === undefined || before.status === 'cancelled' };
  }

  /** A day no longer approved (cancelled, rejected): its report goes too, unless already submitted. */
  async cancelDay(org: string, sub: string, day: string): Promise<void> {
    if (await this.#o.store.cancelDay(org, sub, day, this.#o.clock.now()))
      await this.#o.audit.append({
        actor: 'moim',
        action: 'telework.report.cancel',
        target: sub,
        detail: { org, day },
      });
  }

  async list(caller: Principal, q: { from: string; to: string; sub?: string | undefined }): Promise<WorkReport[]> {
    const org = await this.#o.sites.orgOf(caller);
    const subs = await this.#visible(caller, org, q.sub);
    const records = await this.#o.store.list(org, {
      from: q.from,
      to: q.to,
      ...(subs ? { subs } : {}),
      limit: LIST_LIMIT,
    });
    return records.map((r) => this.#view(r));
  }

  async get(caller: Principal, id: string): Promise<WorkReport> {
    return this.#view(await this.#readable(caller, id));
  }

  async submit(caller: Principal, id: string): Promise<WorkReport> {
    const org = await this.#o.sites.orgOf(caller);
    const found = await this.#readable(caller, id);
    if (found.sub !== caller.sub) throw new MoimError('FORBIDDEN', 'only its author submits a report');
    const now = this.#o.clock.now();
    const done = await this.#o.store.transition(org, id, 'due', 'submitted', { submittedAt: now }, now);
    if (!done) throw new MoimError('ALREADY_DECIDED', `the report is ${found.status}, not due`);
    await this.#o.audit.append({ actor: caller.sub, action: 'telework.report.submit', target: id, detail: { org } });
    const [manager] = await this.#o.people.chainOf(org, done.sub);
    if (manager)
      await this.#o.notices.tell(
        org,
        manager,
        `업무 보고 제출: ${caller.token.name} (${done.day}) · Work report submitted: ${caller.token.name} (${done.day})`,
        `#/telework/reports/${id}`,
      );
    return this.#view(done);
  }

  async review(caller: Principal, id: string, comment: string | undefined): Promise<WorkReport> {
    const org = await this.#o.sites.orgOf(caller);
    const found = await this.#readable(caller, id);
    if (found.sub === caller.sub) throw new MoimError('FORBIDDEN', 'a report is reviewed by its author’s manager');
    const now = this.#o.clock.now();
    const done = await this.#o.store.transition(
      org,
      id,
      'submitted',
      'reviewed',
      { reviewedBy: caller.sub, reviewedAt: now },
      now,
    );
    if (!done) throw new MoimError('ALREADY_DECIDED', `the report is ${found.status}, not submitted`);
    let result = done;
    if (comment) result = (await this.#comment(org, id, caller.sub, comment, now)) ?? done;
    await this.#o.audit.append({
      actor: caller.sub,
      action: 'telework.report.review',
      target: id,
      detail: { org, author: done.sub },
    });
    await this.#o.notices.tell(
      org,
      done.sub,
      `업무 보고 검토 완료 (${done.day}) · Your work report for ${done.day} was reviewed`,
      `#/telework/reports/${id}`,
    );
    return this.#view(result);
  }

  async comment(caller: Principal, id: string, text: string): Promise<WorkReport> {
    const org = await this.#o.sites.orgOf(caller);
    await this.#readable(caller, id);
    const now = this.#o.clock.now();
    const done = await this.#comment(org, id, caller.sub, text, now);
    if (!done) throw new MoimError('CONFLICT', `a report takes at most ${WORK_REPORT_LIMITS.comments} comments`);
    await this.#o.audit.append({ actor: caller.sub, action: 'telework.report.comment', target: id, detail: { org } });
    return this.#view(done);
  }

  /** Per person the caller may see: reports due, submitted, reviewed and overdue in the period. */
  async summary(caller: Principal, period: 'day' | 'week' | 'month', date: string): Promise<WorkReportSummary> {
    const org = await this.#o.sites.orgOf(caller);
    const [from, to] = periodOf(period, date);
    const subs = await this.#visible(caller, org, undefined);
    const records = await this.#o.store.list(org, { from, to, ...(subs ? { subs } : {}), limit: LIST_LIMIT });
    const now = this.#o.clock.now();
    const bySub = new Map<string, WorkReportSummary['people'][number]>();
    for (const r of records) {
      if (r.status === 'cancelled') continue;
      let row = bySub.get(r.sub);
      if (!row) {
        row = { sub: r.sub, due: 0, submitted: 0, reviewed: 0, overdue: 0 };
        bySub.set(r.sub, row);
      }
      if (r.status === 'due') {
        row.due++;
        if (r.dueAt <= now) row.overdue++;
      } else if (r.status === 'submitted') row.submitted++;
      else row.reviewed++;
    }
    return { period, from, to, people: [...bySub.values()].sort((a, b) => (a.sub < b.sub ? -1 : 1)) };
  }

  /** Remind the authors of overdue reports once (the scheduler's job); resolves with how many. */
  async remindOverdue(now: number): Promise<number> {
    let reminded = 0;
    for (const r of await this.#o.store.overdueUnreminded(now, 500)) {
      if (!(await this.#o.store.markReminded(r.org, r.id, now))) continue; // another node did
      await this.#o.notices.tell(
        r.org,
        r.sub,
        `업무 보고 미제출 (${r.day}): 작성 후 제출해 주세요 · Your work report for ${r.day} is overdue: please write and submit it`,
        `#/telework/reports/${r.id}`,
      );
      await this.#o.audit.append({
        actor: 'moim',
        action: 'telework.report.remind',
        target: r.id,
        detail: { org: r.org },
      });
      reminded++;
    }
    return reminded;
  }

  // ---------------------------------------------------------------- helpers

  async #comment(org: string, id: string, author: string, text: string, at: number) {
    return this.#o.store.addComment(org, id, { author, text, at }, WORK_REPORT_LIMITS.comments);
  }

  /** The subs the caller may see (undefined: everyone — an admin), narrowed to `sub` when given. */
  async #visible(caller: Principal, org: string, sub: string | undefined): Promise<string[] | undefined> {
    if (caller.isAdmin) return sub === undefined ? undefined : [sub];
    const mine = [caller.sub, ...(await this.#o.people.reportsOf(org, caller.sub))];
    if (sub === undefined) return mine;
    if (!mine.includes(sub)) throw new MoimError('FORBIDDEN', 'members see their own reports, managers their team’s');
    return [sub];
  }

  async #readable(caller: Principal, id: string): Promise<StoredWorkReport> {
    const org = await this.#o.sites.orgOf(caller);
    const found = await this.#o.store.get(org, id);
    if (!found) throw new MoimError('NOT_FOUND', `no report ${id}`);
    if (!(await this.#mayRead(caller, found)))
      throw new MoimError('FORBIDDEN', 'members see their own reports, managers their team’s');
    return found;
  }

  async #mayRead(caller: Principal, r: StoredWorkReport): Promise<boolean> {
    if (caller.sub === r.sub || caller.isAdmin) return true;
    const org = caller.token.org;
    if ((await this.#o.people.chainOf(org, r.sub)).includes(caller.sub)) return true;
    return (await this.#o.people.reportsOf(org, caller.sub)).includes(r.sub);
  }

  #view(r: StoredWorkReport): WorkReport {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      id: r.id,
      sub: r.sub,
      day: r.day,
      requestId: r.requestId,
      siteId: r.siteId,
      tasks: r.tasks,
      docName: r.docName,
      status: r.status,
      dueAt: new Date(r.dueAt).toISOString(),
      overdue: r.status === 'due' && r.dueAt <= this.#o.clock.now(),
      submittedAt: iso(r.submittedAt),
      reviewedBy: r.reviewedBy,
      reviewedAt: iso(r.reviewedAt),
      comments: r.comments.map((c) => ({ author: c.author, text: c.text, at: new Date(c.at).toISOString() })),
      createdAt: new Date(r.createdAt).toISOString(),
    };
  }
}

/** The report's first text: the day, the author, the planned tasks and the sections to fill in (Korean and English). */
function template(name: string, r: StoredWorkReport): string {
  const tasks = r.tasks.length > 0 ? r.tasks.map((t) => `- ${t}`).join('\n') : '- ';
  return [
    `업무 보고 · Work report — ${r.day} — ${name}`,
    '',
    '계획한 업무 · Planned tasks',
    tasks,
    '',
    '수행 결과 · Done',
    '- ',
    '',
    '문제와 도움 요청 · Issues',
    '- ',
    '',
    '다음 계획 · Next',
    '- ',
    '',
  ].join('\n');
}

/** The first and last calendar day of the day, week (Monday–Sunday) or month containing `date`. */
export function periodOf(period: 'day' | 'week' | 'month', date: string): [string, string] {
  if (period === 'day') return [date, date];
  const d = new Date(`${date}T00:00:00Z`);
  if (period === 'week') {
    const monday = new Date(d);
    monday.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    const sunday = new Date(monday);
    sunday.setUTCDate(monday.getUTCDate() + 6);
    return [monday.toISOString().slice(0, 10), sunday.toISOString().slice(0, 10)];
  }
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
  return [first.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}
