/**
 * Attendance: the telework service of attendance days. It owns what a working day is (the site's
 * opening hours that weekday — a home site, which has none, works the org's HQ hours — and not a
 * public holiday of the org's calendar), the day's record (the person's first connection opens it,
 * their last disconnect closes it; the scheduler closes a day still open at the site's closing
 * time with `auto-closed`, and a day is never carried into the next), its flags (`late`,
 * `not-at-approved-place`), absences against approved plans, who may read whose days (members
 * themself, managers their reports or their teams, admins everyone), and the audit entry of every
 * change. Where a person is comes from Whereabouts.ts; times come from the injected clock only.
 */
import {
  type AttendanceDay,
  type AttendanceFlag,
  type AttendanceQuery,
  type DayHours,
  MoimError,
  type Site,
  weekdayOf,
} from '@moim/protocol';
import { type Principal, personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AttendanceStore, StoredAttendance } from '../storage/AttendanceStore.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { TeleworkPlans, WorkCalendar } from './contracts.ts';
import type { Sites } from './Sites.ts';
import { localTime, nextDay, startOfDay } from './siteClock.ts';

/** Days closed per run of the closing job (the next run takes the rest). */
export const CLOSE_BATCH = 500;

const DAY_MS = 24 * 60 * 60_000;

/** Where one connected person is: a site from their address (`network`) or the one they declared. */
export interface Located {
  org: string;
  sub: string;
  siteId: string;
  source: 'network' | 'declared';
  /** The token's teams (a manager without a directory sees the days of their teams). */
  teams: readonly string[];
}

/** Implemented by the org directory (OrgDirectory.reportsOf): everyone reporting to a manager. */
export interface Reports {
  reportsOf(org: string, managerSub: string): Promise<string[]>;
}

export interface AttendanceOptions {
  store: AttendanceStore;
  telework: TeleworkStore;
  /** The caller's org (seeded on first use, as every telework request). */
  sites: Sites;
  audit: AuditStore;
  log: Logger;
  now: () => number;
  /** `MOIM_TELEWORK_LATE_AFTER_MINUTES`. */
  lateAfterMinutes: number;
  /** `MOIM_TELEWORK_ATTENDANCE_MAX_DAYS`: the longest range one query covers. */
  maxDays: number;
  /** Public holidays (the org directory); without it every opening day is a working day. */
  calendar?: WorkCalendar | undefined;
  /** Approved telework (the requests service); without it no day is flagged or absent against a plan. */
  plans?: TeleworkPlans | undefined;
  /** Who reports to whom (the org directory); without it a manager sees the days of their teams. */
  reports?: Reports | undefined;
  /**
   * Every approved telework day of the org on `day` (the requests' store): absences are then found
   * with one look per day — for an admin, of everyone — instead of one `planOn` per person and day.
   */
  approvedOn?: ((org: string, day: string) => Promise<ApprovedDay[]>) | undefined;
}

/** One approved telework day of one person. */
export interface ApprovedDay {
  sub: string;
  siteId: string;
  requestId: string;
}

/** A working day of a site: its calendar day and the instants it opens and closes. */
interface WorkingDay {
  day: string;
  openAt: number;
  closeAt: number;
}

/** The instant the site's clock shows `HH:MM` on `day` (a DST change that day is corrected for). */
export function atLocal(day: string, hhmm: string, timeZone: string): number {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  const want = h * 60 + m;
  const guess = startOfDay(day, timeZone) + want * 60_000;
  const seen = localTime(guess, timeZone);
  const [sh = 0, sm = 0] = seen.time.split(':').map(Number);
  const got = (seen.date === day ? 0 : seen.date > day ? 1440 : -1440) + sh * 60 + sm;
  return guess + (want - got) * 60_000;
}

/** Query order: by day, then by sub (code-point order, as the stores sort). */
const byDayThenSub = (a: { day: string; sub: string }, b: { day: string; sub: string }): number => {
  const x = `${a.day}\n${a.sub}`;
  const y = `${b.day}\n${b.sub}`;
  return x < y ? -1 : x > y ? 1 : 0;
};
/** A key of one person's day in Sets. */
const dayKey = (sub: string, day: string): string => JSON.stringify([sub, day]);
const minutesBetween = (from: number, to: number): number => Math.max(0, Math.floor((to - from) / 60_000));

export class Attendance {
  readonly #o: AttendanceOptions;
  /** By person: until when their current day needs no look at the store (activity's fast path). */
  readonly #settled = new Map<string, number>();
  /** By person: the tail of their arrive/leave calls, run one after another. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(opts: AttendanceOptions) {
    this.#o = opts;
  }

  /**
   * The person is connected at `at` from where `loc` says: open (or, after a disconnect the same
   * day, reopen) their record of the site's working day. With `since` (the scheduler's look at
   * people connected since before), only from the day's opening on, and they are in from the
   * opening (or `since` when later). True when a record was opened or reopened.
   */
  arrive(loc: Located, at: number, since?: number): Promise<boolean> {
    return this.#serial(personKey(loc.org, loc.sub), () => this.#arrive(loc, at, since));
  }

  /** False when the person's current day is known settled at `at` (activity need not ask the store). */
  needsLook(org: string, sub: string, at: number): boolean {
    const until = this.#settled.get(personKey(org, sub));
    return until === undefined || at >= until;
  }

  /** The person's last connection closed at `at`: close their open days. Resolves with the days closed. */
  leave(org: string, sub: string, at: number): Promise<number> {
    const key = personKey(org, sub);
    return this.#serial(key, async () => {
      this.#settled.delete(key);
      let closed = 0;
      for (const rec of await this.#o.store.listOpenOf(org, sub)) if (await this.#close(rec, at)) closed++;
      return closed;
    });
  }

  /** The closing job: every day still open at its site's closing time is closed then, flagged `auto-closed`. */
  async closeDue(now: number): Promise<number> {
    let closed = 0;
    for (const rec of await this.#o.store.listDue(now, CLOSE_BATCH))
      if (await this.#serial(personKey(rec.org, rec.sub), () => this.#close(rec, now))) closed++;
    return closed;
  }

  /** `GET /telework/attendance`: the days the caller may see, with absences against approved plans. */
  async query(caller: Principal, q: AttendanceQuery): Promise<AttendanceDay[]> {
    const org = await this.#o.sites.orgOf(caller);
    const span = (Date.parse(q.to) - Date.parse(q.from)) / DAY_MS + 1;
    if (span > this.#o.maxDays) throw new MoimError('INVALID_PAYLOAD', `to: at most ${this.#o.maxDays} days at once`);
    const self = caller.sub;
    let records: StoredAttendance[];
    /** People whose absences are looked up (their plans), besides those with a record. */
    const people = new Set<string>();
    let everyoneOf: ((sub: string) => boolean) | undefined;
    if (caller.isAdmin) {
      records = await this.#o.store.list(org, q.from, q.to, q.sub);
      if (q.sub !== undefined) people.add(q.sub);
      else everyoneOf = () => true;
    } else {
      const reports = new Set(this.#o.reports ? await this.#o.reports.reportsOf(org, self) : []);
      const teams = new Set(caller.token.role === 'manager' ? caller.token.teams : []);
      const visible = (r: StoredAttendance) =>
        r.sub === self || reports.has(r.sub) || r.teams.some((t) => teams.has(t));
      if (q.sub === undefined || q.sub === self) {
        const everyone = q.sub === undefined && (reports.size > 0 || teams.size > 0);
        records = (await this.#o.store.list(org, q.from, q.to, everyone ? undefined : self)).filter(visible);
        people.add(self);
        if (everyone) for (const s of reports) people.add(s);
      } else {
        if (!reports.has(q.sub) && teams.size === 0)
          throw new MoimError('FORBIDDEN', 'members see only their own attendance; managers their team’s');
        records = (await this.#o.store.list(org, q.from, q.to, q.sub)).filter(visible);
        // a manager by team alone knows a person's teams only from their records
        if (!reports.has(q.sub) && records.length === 0)
          throw new MoimError('FORBIDDEN', `${q.sub} is not in your team`);
        people.add(q.sub);
      }
    }
    const days: AttendanceDay[] = records.map(({ org: _org, closesAt: _c, closedBy: _b, teams: _t, ...r }) => ({
      ...r,
      status: 'present' as const,
    }));
    for (const r of records) people.add(r.sub);
    const inScope = everyoneOf ?? ((sub: string) => people.has(sub));
    days.push(...(await this.#absences(org, people, inScope, records, q.from, q.to)));
    return days.sort(byDayThenSub);
  }

  async #arrive(loc: Located, at: number, since: number | undefined): Promise<boolean> {
    const key = personKey(loc.org, loc.sub);
    const site = await this.#o.telework.getSite(loc.org, loc.siteId);
    if (!site) return false;
    const today = localTime(at, site.timeZone).date;
    const wd = await this.#workingDay(loc.org, site, today);
    // nothing to record before the next day begins (not a working day, or it is over)
    const settle = (until: number) => {
      this.#settled.set(key, until);
      return false;
    };
    if (!wd) return settle(startOfDay(nextDay(today), site.timeZone));
    if (at >= wd.closeAt) return settle(startOfDay(nextDay(today), site.timeZone));
    if (since !== undefined && at < wd.openAt) return false;
    // a day left open before this one (its closing job has not run yet) is closed first, at its closing time
    for (const rec of await this.#o.store.listOpenOf(loc.org, loc.sub))
      if (rec.day !== wd.day && rec.closesAt <= at) await this.#close(rec, at);
    const existing = await this.#o.store.get(loc.org, loc.sub, wd.day);
    if (
      existing?.flags.includes('not-at-approved-place') &&
      existing.siteId !== site.id &&
      (await this.#moveToApproved(loc, site.id, wd, existing, at, since))
    ) {
      settle(wd.closeAt);
      return true;
    }
    if (existing) {
      settle(wd.closeAt);
      if (existing.lastOut === null || existing.closedBy !== 'disconnect') return false;
      if (!(await this.#o.store.reopen(loc.org, loc.sub, wd.day, at))) return false;
      await this.#o.audit.append({
        actor: loc.sub,
        action: 'telework.attendance.resume',
        target: `${loc.sub}/${wd.day}`,
        detail: { org: loc.org, siteId: existing.siteId, at: new Date(at).toISOString() },
      });
      return true;
    }
    const firstIn = since === undefined ? at : Math.max(wd.openAt, since);
    const flags: AttendanceFlag[] = [];
    if (firstIn > wd.openAt + this.#o.lateAfterMinutes * 60_000) flags.push('late');
    const plan = await this.#o.plans?.planOn(loc.org, loc.sub, wd.day);
    if (plan && plan.siteId !== site.id) flags.push('not-at-approved-place');
    const { record, created } = await this.#o.store.open(
      loc.org,
      {
        sub: loc.sub,
        day: wd.day,
        siteId: site.id,
        source: loc.source,
        firstIn,
        closesAt: wd.closeAt,
        flags,
        teams: loc.teams,
      },
      at,
    );
    settle(wd.closeAt);
    if (!created) return false;
    await this.#o.audit.append({
      actor: loc.sub,
      action: 'telework.attendance.check-in',
      target: `${loc.sub}/${wd.day}`,
      detail: { org: loc.org, siteId: site.id, source: loc.source, firstIn: record.firstIn, flags },
    });
    this.#o.log.info({ org: loc.org, sub: loc.sub, site: site.id, source: loc.source, flags }, 'telework checked in');
    return true;
  }

  /** Close one open day at `at`, or at its closing time with `auto-closed` when that has passed. */
  async #close(rec: StoredAttendance, at: number): Promise<boolean> {
    const auto = rec.closesAt <= at;
    const lastOut = auto ? rec.closesAt : at;
    const flags: AttendanceFlag[] =
      auto && !rec.flags.includes('auto-closed') ? [...rec.flags, 'auto-closed'] : rec.flags;
    const closed = await this.#o.store.close(
      rec.org,
      rec.sub,
      rec.day,
      { lastOut, minutes: minutesBetween(Date.parse(rec.firstIn), lastOut), flags, by: auto ? 'auto' : 'disconnect' },
      this.#o.now(),
    );
    if (!closed) return false; // closed meanwhile (another node, the other path)
    await this.#o.audit.append({
      actor: auto ? 'system' : rec.sub,
      action: auto ? 'telework.attendance.auto-close' : 'telework.attendance.check-out',
      target: `${rec.sub}/${rec.day}`,
      detail: { org: rec.org, siteId: rec.siteId, lastOut: closed.lastOut, minutes: closed.minutes },
    });
    this.#o.log.info({ org: rec.org, sub: rec.sub, day: rec.day, auto }, 'telework checked out');
    return true;
  }

  /**
   * Replace `sub`'s day with an approved correction (Corrections.ts): the stated times, `late`
   * judged again from them against the site's working day, flagged `corrected`, closed. Audited
   * with the approval that allowed it and who decided it.
   */
  async applyCorrection(
    org: string,
    sub: string,
    c: { day: string; siteId: string; firstIn: number; lastOut: number; teams: readonly string[] },
    approval: { id: string; decidedBy: string | null },
  ): Promise<StoredAttendance> {
    const site = await this.#o.telework.getSite(org, c.siteId);
    if (!site) throw new MoimError('NOT_FOUND', `no site ${c.siteId}`);
    const wd = await this.#workingDay(org, site, c.day);
    const flags: AttendanceFlag[] = ['corrected'];
    if (wd && c.firstIn > wd.openAt + this.#o.lateAfterMinutes * 60_000) flags.unshift('late');
    const at = this.#o.now();
    const record = await this.#o.store.correct(
      org,
      {
        sub,
        day: c.day,
        siteId: c.siteId,
        firstIn: c.firstIn,
        lastOut: c.lastOut,
        minutes: Math.floor((c.lastOut - c.firstIn) / 60_000),
        flags,
        closesAt: wd?.closeAt ?? c.lastOut,
        teams: c.teams,
      },
      at,
    );
    this.#settled.delete(personKey(org, sub));
    await this.#o.audit.append({
      actor: approval.decidedBy ?? 'moim',
      action: 'telework.attendance.correct',
      target: `${sub}/${c.day}`,
      detail: {
        org,
        approval: approval.id,
        siteId: c.siteId,
        firstIn: new Date(c.firstIn).toISOString(),
        lastOut: new Date(c.lastOut).toISOString(),
      },
    });
    return record;
  }

  /**
   * The person's day was opened somewhere else than their approved place and they have now arrived
   * there: that is their check-in (the first presence at an approved place), so the day moves —
   * site, source, in from now, `late` judged again — unless the scheduler or a correction closed it.
   */
  async #moveToApproved(
    loc: Located,
    siteId: string,
    wd: WorkingDay,
    existing: StoredAttendance,
    at: number,
    since: number | undefined,
  ): Promise<boolean> {
    const plan = await this.#o.plans?.planOn(loc.org, loc.sub, wd.day);
    if (plan?.siteId !== siteId) return false;
    const firstIn = since === undefined ? at : Math.max(wd.openAt, since);
    const flags: AttendanceFlag[] = firstIn > wd.openAt + this.#o.lateAfterMinutes * 60_000 ? ['late'] : [];
    const moved = await this.#o.store.relocate(
      loc.org,
      loc.sub,
      wd.day,
      { siteId, source: loc.source, firstIn, flags },
      at,
    );
    if (!moved) return false;
    await this.#o.audit.append({
      actor: loc.sub,
      action: 'telework.attendance.check-in',
      target: `${loc.sub}/${wd.day}`,
      detail: { org: loc.org, siteId, source: loc.source, from: existing.siteId, at: new Date(at).toISOString() },
    });
    this.#o.log.info(
      { org: loc.org, sub: loc.sub, day: wd.day, from: existing.siteId, to: siteId },
      'telework: arrived at the approved place',
    );
    return true;
  }

  /** The site's working day `day`, or undefined when the site does not work that day. */
  async #workingDay(org: string, site: Site, day: string): Promise<WorkingDay | undefined> {
    const weekday = weekdayOf(day);
    let hours: DayHours | null | undefined = site.openingHours[weekday];
    if (!hours && site.kind === 'home') {
      // home has no opening hours of its own: a home worker works the organisation's HQ day
      const hq = (await this.#o.telework.listSites(org)).find((s) => s.kind === 'hq');
      hours = hq?.openingHours[weekday];
    }
    if (!hours) return undefined;
    if (this.#o.calendar && (await this.#o.calendar.isHoliday(org, day))) return undefined;
    return { day, openAt: atLocal(day, hours.open, site.timeZone), closeAt: atLocal(day, hours.close, site.timeZone) };
  }

  /**
   * Working days with an approved plan, begun by now, without a record: absent. With `approvedOn`
   * one look per day over the org (kept to `inScope`); else one `planOn` per person of `subs` and day.
   */
  async #absences(
    org: string,
    subs: ReadonlySet<string>,
    inScope: (sub: string) => boolean,
    records: readonly StoredAttendance[],
    from: string,
    to: string,
  ): Promise<AttendanceDay[]> {
    const { plans, approvedOn } = this.#o;
    if (!plans && !approvedOn) return [];
    const present = new Set(records.map((r) => dayKey(r.sub, r.day)));
    const now = this.#o.now();
    const sites = new Map((await this.#o.telework.listSites(org)).map((s) => [s.id, s]));
    const out: AttendanceDay[] = [];
    for (let day = from; day <= to; day = nextDay(day)) {
      let approved: ApprovedDay[];
      if (approvedOn) approved = (await approvedOn(org, day)).filter((a) => inScope(a.sub));
      else {
        approved = [];
        for (const sub of subs) {
          const plan = await plans?.planOn(org, sub, day);
          if (plan) approved.push({ sub, siteId: plan.siteId, requestId: plan.requestId });
        }
      }
      for (const a of approved) {
        const site = sites.get(a.siteId);
        if (!site || present.has(dayKey(a.sub, day))) continue;
        const wd = await this.#workingDay(org, site, day);
        if (wd && now >= wd.openAt)
          out.push({ status: 'absent', sub: a.sub, day, siteId: site.id, requestId: a.requestId });
      }
    }
    return out;
  }

  /** Run `fn` after the person's earlier calls (a failure of one is its own caller's, never the next's). */
  #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key);
    const run = previous ? Promise.allSettled([previous]).then(fn) : fn();
    const tail = Promise.allSettled([run]);
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }
}
