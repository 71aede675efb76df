/**
 * Requests: the telework service of applying for telework days. It owns the rules of a request —
 * the site exists and fits the type, days are today or later in the site's time zone and not
 * holidays (INVALID_PAYLOAD), a person whose duty excludes telework cannot apply (NOT_ELIGIBLE),
 * the quota per week and month (QUOTA_EXCEEDED, checked with the insert in the store) — and the
 * seats of smart-work centres: once a request's approval document is approved, each centre day
 * gets a seat in queue order (priority categories first, then request time) or waits on the list;
 * a cancelled or rejected day frees its seat for the next, who is told. The approval itself is
 * the Approvals engine's (kind `telework-request`); this service reacts to its `decided` and
 * `cancelled` events. It answers the approved plan of a person's day (`TeleworkPlans`) for
 * bookings and attendance. Who reads a request is the engine's rule; approvers, their delegates
 * and admins also see the applicant's priority categories, and that read is audited.
 */
import {
  type Approval,
  MoimError,
  type PriorityCategory,
  type Site,
  type TeleworkCancelInput,
  type TeleworkRequest,
  type TeleworkRequestDay,
  type TeleworkRequestInput,
  type TeleworkRequestPayload,
  type TeleworkRequestResponse,
} from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { ApprovalStore, QuotaWindow, StoredApproval, StoredRequestDay } from '../storage/ApprovalStore.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import { type Approvals, toSummary } from './Approvals.ts';
import type { ApprovedPlan, Notices, TeleworkPlans, WorkCalendar } from './contracts.ts';
import type { Clock } from './Scheduler.ts';
import type { Sites } from './Sites.ts';
import { localTime } from './siteClock.ts';

/** What this service reads of a person's directory record (OrgDirectory.get). */
export interface PersonRecords {
  get(
    org: string,
    sub: string,
  ): Promise<
    { dutyExcludesTelework: boolean; priorityCategories: readonly PriorityCategory[]; active: boolean } | undefined
  >;
}

export interface RequestsOptions {
  store: ApprovalStore;
  telework: TeleworkStore;
  sites: Sites;
  approvals: Approvals;
  audit: AuditStore;
  notices: Notices;
  /** The org directory's records; undefined: nobody is excluded and nobody has priority. */
  people: PersonRecords | undefined;
  /** The org's public holidays; undefined: none. */
  calendar: WorkCalendar | undefined;
  clock: Clock;
  log: Logger;
  quotaPerWeek: number;
  quotaPerMonth: number;
  maxDays: number;
  maxTasks: number;
}

const KIND = 'telework-request';
/** The days of a request still holding (or waiting for) a place. */
const OPEN_DAYS = ['pending', 'approved', 'waitlisted'] as const;

const dayOf = (y: number, m: number, d: number): string => new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);

/** The quota windows a day falls in: its week (Monday to Sunday) and its calendar month. */
function windowsOf(day: string, perWeek: number, perMonth: number): QuotaWindow[] {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // Monday = 0
  const monday = dayOf(y, m - 1, d - weekday);
  return [
    { from: monday, to: dayOf(y, m - 1, d - weekday + 7), max: perWeek, label: `week of ${monday}` },
    { from: dayOf(y, m - 1, 1), to: dayOf(y, m, 1), max: perMonth, label: `month ${day.slice(0, 7)}` },
  ];
}

export class Requests implements TeleworkPlans {
  readonly #o: RequestsOptions;
  /** Reactions to decisions under way, by request id: reads of that request wait for them. */
  readonly #settling = new Map<string, Promise<void>>();

  constructor(opts: RequestsOptions) {
    this.#o = opts;
    const react = (org: string, approval: Approval) => {
      if (approval.kind !== KIND) return;
      const previous = this.#settling.get(approval.id) ?? Promise.resolve();
      const run = previous
        .then(() => this.#settle(org, approval))
        .catch((err: unknown) =>
          this.#o.log.error({ err, org, request: approval.id }, 'telework request: reacting to its decision failed'),
        )
        .finally(() => {
          if (this.#settling.get(approval.id) === run) this.#settling.delete(approval.id);
        });
      this.#settling.set(approval.id, run);
    };
    opts.approvals.on('decided', react);
    opts.approvals.on('cancelled', react);
  }

  /** Apply for telework days: an approval document submitted at once to the directory's approvers. */
  async apply(caller: Principal, input: TeleworkRequestInput): Promise<TeleworkRequest> {
    const o = this.#o;
    const org = await o.sites.orgOf(caller);
    if (input.days.length > o.maxDays) throw new MoimError('INVALID_PAYLOAD', `days: at most ${o.maxDays}`);
    if (input.tasks.length > o.maxTasks) throw new MoimError('INVALID_PAYLOAD', `tasks: at most ${o.maxTasks}`);
    const site = await o.telework.getSite(org, input.siteId);
    if (!site) throw new MoimError('NOT_FOUND', `no site ${input.siteId}`);
    if (input.type === 'smart-work-centre' && site.kind !== 'smart-work-centre')
      throw new MoimError('INVALID_PAYLOAD', `siteId: ${site.id} is not a smart-work centre`);
    if (input.type === 'home' && site.kind !== 'home')
      throw new MoimError('INVALID_PAYLOAD', `siteId: home telework names the home site, not ${site.id}`);
    if (input.placeId !== undefined && !(await o.telework.getPlace(org, site.id, input.placeId)))
      throw new MoimError('NOT_FOUND', `no place ${input.placeId} in site ${site.id}`);
    const person = await o.people?.get(org, caller.sub);
    if (person?.dutyExcludesTelework)
      throw new MoimError('NOT_ELIGIBLE', 'your duty excludes telework (the org directory says so)');
    if (person && !person.active) throw new MoimError('NOT_ELIGIBLE', 'you are not active in the org directory');
    const now = o.clock.now();
    const today = localTime(now, site.timeZone).date;
    const days = [...input.days].sort();
    for (const day of days) {
      if (day < today) throw new MoimError('INVALID_PAYLOAD', `days: ${day} is past (today is ${today} at ${site.id})`);
      if (await o.calendar?.isHoliday(org, day)) throw new MoimError('INVALID_PAYLOAD', `days: ${day} is a holiday`);
    }
    const quota = new Map<string, QuotaWindow>();
    for (const day of days) for (const w of windowsOf(day, o.quotaPerWeek, o.quotaPerMonth)) quota.set(w.label, w);
    const payload: TeleworkRequestPayload = {
      days,
      type: input.type,
      siteId: site.id,
      placeId: input.placeId ?? null,
      tasks: input.tasks,
    };
    const priority = person && person.priorityCategories.length > 0 ? 1 : 0;
    const more = days.length > 1 ? ` (+${days.length - 1} more)` : '';
    const approval = await o.approvals.openFor(
      org,
      caller.sub,
      {
        kind: KIND,
        title: `Telework (${input.type}) at ${site.name} on ${days[0]}${more}`,
        body: input.tasks.map((t) => `- ${t}`).join('\n'),
        payload,
      },
      (id, at) =>
        o.store.addRequestDays(
          org,
          days.map(
            (day): StoredRequestDay => ({
              requestId: id,
              sub: caller.sub,
              day,
              type: input.type,
              siteId: site.id,
              placeId: input.placeId ?? null,
              status: 'pending',
              priority,
              requestedAt: at,
            }),
          ),
          [...quota.values()],
        ),
    );
    await o.audit.append({
      actor: caller.sub,
      action: 'telework.request.create',
      target: approval.id,
      detail: { org, type: input.type, siteId: site.id, days },
    });
    o.log.info({ org, request: approval.id, sub: caller.sub, days: days.length }, 'telework requested');
    return this.#view(org, await this.#mustGet(org, approval.id));
  }

  /** A request (the applicant, its approvers and their delegates, admins — the engine's rule). */
  async get(caller: Principal, id: string): Promise<TeleworkRequestResponse> {
    await this.#settled(id);
    const { approval, role } = await this.#o.approvals.readAs(caller, id);
    if (approval.kind !== KIND) throw new MoimError('NOT_FOUND', `no telework request ${id}`);
    const request = await this.#view(approval.org, approval);
    if (role === 'applicant') return { request };
    const record = await this.#o.people?.get(approval.org, approval.applicant);
    const priorityCategories = [...(record?.priorityCategories ?? [])];
    await this.#o.audit.append({
      actor: caller.sub,
      action: 'telework.priority.read',
      target: approval.applicant,
      detail: { org: approval.org, request: id, role, categories: priorityCategories.length },
    });
    return { request, priorityCategories };
  }

  /** The caller's requests, newest first (the latest 100). */
  async mine(caller: Principal): Promise<TeleworkRequest[]> {
    const org = await this.#o.sites.orgOf(caller);
    const docs = await this.#o.store.list(org, { applicant: caller.sub, limit: 100 });
    const out: TeleworkRequest[] = [];
    for (const doc of docs) {
      if (doc.kind !== KIND) continue;
      await this.#settled(doc.id);
      out.push(await this.#view(org, doc));
    }
    return out;
  }

  /**
   * The applicant cancels days of a request: a pending request as a whole (its document is
   * cancelled), an approved one day by day (the days named, or every open day from today on);
   * each freed centre seat goes to the next on its list.
   */
  async cancel(caller: Principal, id: string, input: TeleworkCancelInput): Promise<TeleworkRequest> {
    const o = this.#o;
    await this.#settled(id);
    const { approval } = await o.approvals.readAs(caller, id);
    if (approval.kind !== KIND) throw new MoimError('NOT_FOUND', `no telework request ${id}`);
    if (approval.applicant !== caller.sub) throw new MoimError('FORBIDDEN', 'only the applicant cancels a request');
    const org = approval.org;
    if (approval.status === 'draft' || approval.status === 'pending') {
      await o.approvals.cancelFor(org, caller.sub, id);
      await this.#settled(id);
      return this.#view(org, await this.#mustGet(org, id));
    }
    if (approval.status !== 'approved') throw new MoimError('ALREADY_DECIDED', `the request is ${approval.status}`);
    const payload = approval.payload as TeleworkRequestPayload;
    const site = await o.telework.getSite(org, payload.siteId);
    const today = localTime(o.clock.now(), site?.timeZone ?? 'UTC').date;
    const days = (input.days ?? payload.days).filter((d) => d >= today);
    const cancelled = await o.store.setRequestDays(org, id, ['approved', 'waitlisted'], 'cancelled', days);
    if (cancelled.length === 0) throw new MoimError('CONFLICT', 'no day of it is open from today on');
    await o.audit.append({
      actor: caller.sub,
      action: 'telework.request.cancel',
      target: id,
      detail: { org, days: cancelled.map((d) => d.day) },
    });
    if (site) await this.#reallocate(org, site, cancelled);
    return this.#view(org, await this.#mustGet(org, id));
  }

  /** The person's approved telework on that day (for bookings and attendance). */
  async planOn(org: string, sub: string, day: string): Promise<ApprovedPlan | undefined> {
    const row = await this.#o.store.approvedDay(org, sub, day);
    if (!row) return undefined;
    // the planned tasks live in the request's document (the work report lists them)
    const tasks = (((await this.#o.store.get(org, row.requestId))?.payload ?? null) as { tasks?: unknown } | null)
      ?.tasks;
    return {
      requestId: row.requestId,
      type: row.type as ApprovedPlan['type'],
      siteId: row.siteId,
      placeId: row.placeId ?? undefined,
      tasks: Array.isArray(tasks) ? tasks.filter((t): t is string => typeof t === 'string') : [],
    };
  }

  /** Resolves once every reaction to a decision under way has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#settling.size > 0) await Promise.allSettled([...this.#settling.values()]);
  }

  // ── reactions ─────────────────────────────────────────────────────────────

  /** The request's document was approved, rejected or cancelled: its days follow. */
  async #settle(org: string, approval: Approval): Promise<void> {
    const o = this.#o;
    const payload = approval.payload as TeleworkRequestPayload;
    const site = await o.telework.getSite(org, payload.siteId);
    const centre = site?.kind === 'smart-work-centre';
    if (approval.status === 'approved') {
      await o.store.setRequestDays(org, approval.id, ['pending'], centre ? 'waitlisted' : 'approved');
      if (centre && site) {
        const seats = await this.#seats(org, site.id);
        for (const day of payload.days) await this.#promote(org, site, day, seats, approval.id);
      }
      const days = await o.store.requestDays(org, approval.id);
      const approved = days.filter((d) => d.status === 'approved').map((d) => d.day);
      const waiting: string[] = [];
      for (const d of days.filter((d) => d.status === 'waitlisted'))
        waiting.push(`${d.day} (#${await this.#position(org, d)})`);
      await o.audit.append({
        actor: 'system',
        action: 'telework.request.allocate',
        target: approval.id,
        detail: { org, siteId: payload.siteId, approved, waitlisted: waiting },
      });
      await o.notices.tell(
        org,
        approval.applicant,
        `원격근무 · Telework at ${site?.name ?? payload.siteId}: approved ${approved.join(', ') || 'no day yet'}${
          waiting.length ? `; on the waiting list ${waiting.join(', ')}` : ''
        }`,
        `#/telework/requests/${approval.id}`,
      );
      return;
    }
    const to = approval.status === 'rejected' ? 'rejected' : 'cancelled';
    const changed = await o.store.setRequestDays(org, approval.id, [...OPEN_DAYS], to);
    if (centre && site) await this.#reallocate(org, site, changed);
  }

  /** Days left a centre: the seats they held (or the queue places) go to the next people. */
  async #reallocate(org: string, site: Site, freed: readonly StoredRequestDay[]): Promise<void> {
    if (site.kind !== 'smart-work-centre' || freed.length === 0) return;
    const seats = await this.#seats(org, site.id);
    for (const day of new Set(freed.map((d) => d.day))) await this.#promote(org, site, day, seats, undefined);
  }

  /** Give free seats of a centre's day; everyone promoted from the list (not `quiet`'s own days) is told. */
  async #promote(org: string, site: Site, day: string, seats: number, quiet: string | undefined): Promise<void> {
    for (const d of await this.#o.store.allocate(org, site.id, day, seats)) {
      if (d.requestId === quiet) continue;
      await this.#o.audit.append({
        actor: 'system',
        action: 'telework.request.promote',
        target: d.requestId,
        detail: { org, sub: d.sub, siteId: site.id, day },
      });
      this.#o.log.info(
        { org, request: d.requestId, day, site: site.id },
        'telework day promoted from the waiting list',
      );
      await this.#o.notices.tell(
        org,
        d.sub,
        `대기 승인 · A seat at ${site.name} came free: your telework on ${day} is approved`,
        `#/telework/requests/${d.requestId}`,
      );
    }
  }

  /** A centre holds as many teleworkers a day as it has seat places. */
  async #seats(org: string, siteId: string): Promise<number> {
    return (await this.#o.telework.listPlaces(org, siteId)).filter((p) => p.kind === 'seat').length;
  }

  /** 1-based place of a waitlisted day among the waitlisted days of its site and day. */
  async #position(org: string, d: StoredRequestDay): Promise<number> {
    const waiting = (await this.#o.store.queue(org, d.siteId, d.day)).filter((q) => q.status === 'waitlisted');
    return waiting.findIndex((q) => q.requestId === d.requestId) + 1;
  }

  async #view(org: string, approval: StoredApproval): Promise<TeleworkRequest> {
    const payload = approval.payload as TeleworkRequestPayload;
    const dayStatus: TeleworkRequestDay[] = [];
    for (const d of await this.#o.store.requestDays(org, approval.id))
      dayStatus.push({
        day: d.day,
        status: d.status,
        waitlistPosition: d.status === 'waitlisted' ? await this.#position(org, d) : null,
      });
    return { ...payload, id: approval.id, applicant: approval.applicant, dayStatus, approval: toSummary(approval) };
  }

  async #mustGet(org: string, id: string): Promise<StoredApproval> {
    const doc = await this.#o.store.get(org, id);
    if (!doc) throw new MoimError('NOT_FOUND', `no telework request ${id}`);
    return doc;
  }

  async #settled(id: string): Promise<void> {
    const running = this.#settling.get(id);
    if (running) await running;
  }
}
