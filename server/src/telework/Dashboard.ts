/**
 * The central manager's view of a working day (protocol/src/dashboard.ts): for every person the
 * caller may see, where they are expected (approved telework, else their home site on an open,
 * non-holiday day) and what happened (attendance, presence), summed per site and per team, with
 * centre occupancy and the approvals waiting. Computed from the stores on each request — the
 * people, the day's approved plans and attendance in one query each — so it is as live as they
 * are; only the sites' seat counts and the org directory are kept a few seconds (they change by
 * an admin's hand). The live view (`liveJson`) is shared per scope and recomputed at most once a
 * second; the export computes afresh.
 */
import {
  type DashboardPerson,
  type DashboardSite,
  type DashboardTeam,
  type DashboardView,
  type PersonPresence,
  type Site,
  weekdayOf,
} from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AttendanceStore, StoredAttendance } from '../storage/AttendanceStore.ts';
import type { DirectoryRecord, DirectoryStore } from '../storage/DirectoryStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { TeleworkType, WorkCalendar } from './contracts.ts';
import type { Clock } from './Scheduler.ts';
import type { Sites } from './Sites.ts';
import { localTime, nextDay, startOfDay } from './siteClock.ts';

/** An approved telework day as the dashboard needs it. */
export interface DayPlan {
  sub: string;
  siteId: string;
  type: TeleworkType;
}

export interface DashboardOptions {
  /**
   * The live view of one scope (the org for admins, a manager's team, a member) is recomputed at
   * most this often and shared by every request meanwhile, served as the JSON it was computed to
   * (`at` says when). 0: computed for each request. @default 1000
   */
  freshMs?: number | undefined;
  sites: Sites;
  telework: TeleworkStore;
  directory: DirectoryStore;
  attendance: AttendanceStore;
  calendar: WorkCalendar;
  /** Every approved telework day of the org on `day`. */
  plansOn(org: string, day: string): Promise<DayPlan[]>;
  /** Everyone of the org connected now. */
  online(org: string): Promise<PersonPresence[]>;
  /** Approval documents waiting: every pending one of the org, or those waiting for `approver`. */
  pendingApprovals(org: string, approver: string | undefined): Promise<number>;
  clock: Clock;
  lateAfterMinutes: number;
  log: Logger;
}

interface LiveView {
  /** performance.now() when computed. */
  madeAt: number;
  json: string;
  /** The recomputation under way, if any. */
  refreshing: Promise<string> | undefined;
}

interface SiteFacts {
  site: Site;
  seats: Set<string>;
}

const SITE_FACTS_TTL_MS = 5_000;
const DEFAULT_OPEN_MINUTES = 9 * 60;

export class Dashboard {
  readonly #o: DashboardOptions;
  readonly #siteFacts = new Map<string, { at: number; facts: Map<string, SiteFacts> }>();
  readonly #directory = new Map<string, { at: number; people: Promise<DirectoryRecord[]> }>();
  readonly #live = new Map<string, LiveView>();

  constructor(opts: DashboardOptions) {
    this.#o = opts;
  }

  /**
   * The live view as JSON, shared: a view younger than `freshMs` (real time, not the business
   * clock) is answered as it is; an older one is answered too while one recomputation for its
   * scope runs, unless it is older than ten times that (then the request waits for the new one).
   * So many managers polling cost one computation per scope and second, and an answer costs the
   * writing of bytes already made.
   */
  async liveJson(caller: Principal, day: string | undefined): Promise<string> {
    const fresh = this.#o.freshMs ?? 1000;
    if (fresh <= 0) return JSON.stringify(await this.view(caller, day));
    const org = await this.#o.sites.orgOf(caller);
    const key = JSON.stringify([org, day ?? '', caller.isAdmin ? '*' : caller.sub]);
    const now = performance.now();
    const entry = this.#live.get(key);
    if (entry && now - entry.madeAt < fresh) return entry.json;
    const refresh = (entry?.refreshing ?? this.#refresh(key, caller, day)) as Promise<string>;
    if (entry && now - entry.madeAt < 10 * fresh) {
      refresh.catch((err: unknown) => this.#o.log.error({ err, org }, 'refreshing a dashboard view failed'));
      return entry.json;
    }
    return refresh;
  }

  #refresh(key: string, caller: Principal, day: string | undefined): Promise<string> {
    const refreshing = this.view(caller, day)
      .then(toJsonInTurns)
      .then(
        (json) => {
          if (this.#live.size > 10_000) this.#live.clear();
          this.#live.set(key, { madeAt: performance.now(), json, refreshing: undefined });
          return json;
        },
        (err: unknown) => {
          const entry = this.#live.get(key);
          if (entry) entry.refreshing = undefined;
          throw err;
        },
      );
    const entry = this.#live.get(key);
    if (entry) entry.refreshing = refreshing;
    return refreshing;
  }

  async view(caller: Principal, requestedDay: string | undefined): Promise<DashboardView> {
    const o = this.#o;
    const org = await o.sites.orgOf(caller);
    const now = o.clock.now();
    const facts = await this.#facts(org, now);
    const day = requestedDay ?? localTime(now, mainZone(facts)).date;
    // one source at a time, with a turn of the event loop between: on SQLite the reads run on this
    // thread, and other requests (and presence) must not wait for all of them together
    const people = await this.#people(org, now);
    const scopeSubs = await this.#scope(caller, org);
    await nextTurn();
    const plans = await o.plansOn(org, day);
    await nextTurn();
    const attendance = await o.attendance.list(org, day, day);
    await nextTurn();
    const online = await o.online(org);
    const holiday = await o.calendar.isHoliday(org, day);
    const pendingApprovals = await o.pendingApprovals(org, caller.isAdmin ? undefined : caller.sub);
    await nextTurn();
    const planOf = new Map(plans.map((p) => [p.sub, p]));
    const attendanceOf = new Map<string, StoredAttendance>(attendance.map((a) => [a.sub, a]));
    const onlineSubs = new Set(online.map((p) => p.sub));
    const hqId = [...facts.values()].find((f) => f.site.kind === 'hq')?.site.id ?? 'hq';

    const visible = scopeSubs ? people.filter((p) => scopeSubs.has(p.sub)) : people;
    // someone the directory does not know yet (a member before an admin listed them) still sees their own row
    if (scopeSubs?.has(caller.sub) && !visible.some((p) => p.sub === caller.sub))
      visible.push({
        sub: caller.sub,
        name: caller.token.name,
        team: '',
        manager: null,
        homeSiteId: null,
        dutyExcludesTelework: false,
        routineDuties: false,
        active: true,
        priorityCategories: [],
      });

    const rows: DashboardPerson[] = [];
    // by site: when someone expected there and not in counts as absent (one time-zone look per site)
    const lateAtOf = new Map<string, number>();
    const weekday = weekdayOf(day);
    let n = 0;
    for (const person of visible) {
      if (++n % 1000 === 0) await nextTurn();
      if (!person.active) continue;
      const plan = planOf.get(person.sub);
      const record = attendanceOf.get(person.sub);
      let expectedSiteId: string | null = null;
      let expectedType: DashboardPerson['expectedType'] = null;
      if (plan) {
        expectedSiteId = plan.siteId;
        expectedType = plan.type;
      } else {
        const home = facts.get(person.homeSiteId ?? hqId);
        if (home && !holiday && home.site.openingHours[weekday] !== null) {
          expectedSiteId = home.site.id;
          expectedType = 'office';
        }
      }
      let status: DashboardPerson['status'];
      if (record) status = record.flags.includes('late') ? 'late' : 'checked-in';
      else if (expectedSiteId === null) status = 'off';
      else {
        let lateAt = lateAtOf.get(expectedSiteId);
        if (lateAt === undefined) {
          lateAt = this.#lateAt(facts.get(expectedSiteId)?.site, day);
          lateAtOf.set(expectedSiteId, lateAt);
        }
        status = now >= lateAt ? 'absent' : 'not-yet';
      }
      rows.push({
        sub: person.sub,
        name: person.name,
        team: person.team,
        expectedSiteId,
        expectedType,
        checkedInSiteId: record?.siteId ?? null,
        source: record?.source ?? null,
        checkedInAt: record ? new Date(record.firstIn).toISOString() : null,
        status,
        online: onlineSubs.has(person.sub),
      });
    }
    return this.#sum(org, day, now, caller, scopeSubs, rows, facts, pendingApprovals);
  }

  async #sum(
    org: string,
    day: string,
    now: number,
    caller: Principal,
    scopeSubs: Set<string> | undefined,
    rows: DashboardPerson[],
    facts: Map<string, SiteFacts>,
    pendingApprovals: number,
  ): Promise<DashboardView> {
    const sites = new Map<string, DashboardSite>();
    for (const { site, seats } of facts.values())
      sites.set(site.id, {
        id: site.id,
        name: site.name,
        kind: site.kind,
        expected: 0,
        checkedIn: 0,
        late: 0,
        absent: 0,
        online: 0,
        seats: seats.size,
        booked: 0,
      });
    const teams = new Map<string, DashboardTeam>();
    const totals: DashboardView['totals'] = {
      people: rows.length,
      expected: 0,
      checkedIn: 0,
      late: 0,
      absent: 0,
      notYet: 0,
      online: 0,
      atHome: 0,
      atCentres: 0,
      atHq: 0,
      pendingApprovals,
    };
    for (const r of rows) {
      let team = teams.get(r.team);
      if (!team) {
        team = { team: r.team, people: 0, expected: 0, checkedIn: 0, late: 0, absent: 0 };
        teams.set(r.team, team);
      }
      team.people++;
      const present = r.status === 'checked-in' || r.status === 'late';
      const where = sites.get(r.checkedInSiteId ?? r.expectedSiteId ?? '');
      if (r.expectedSiteId !== null) {
        totals.expected++;
        team.expected++;
        const expectedAt = sites.get(r.expectedSiteId);
        if (expectedAt) expectedAt.expected++;
      }
      if (present) {
        totals.checkedIn++;
        team.checkedIn++;
        if (where) {
          where.checkedIn++;
          if (where.kind === 'home') totals.atHome++;
          else if (where.kind === 'smart-work-centre') totals.atCentres++;
          else totals.atHq++;
        }
      }
      if (r.status === 'late') {
        totals.late++;
        team.late++;
        if (where) where.late++;
      } else if (r.status === 'absent') {
        totals.absent++;
        team.absent++;
        if (where) where.absent++;
      } else if (r.status === 'not-yet') totals.notYet++;
      if (r.online) {
        totals.online++;
        if (where) where.online++;
      }
    }
    // centre occupancy: seats booked that day (admins and managers; a member's view has no sites' bookings)
    if (scopeSubs === undefined || caller.token.role !== 'member')
      await Promise.all(
        [...facts.values()].map(async ({ site, seats }) => {
          const row = sites.get(site.id);
          if (!row || seats.size === 0) return;
          const from = startOfDay(day, site.timeZone);
          const bookings = await this.#o.telework.listSiteBookings(
            org,
            site.id,
            from,
            startOfDay(nextDay(day), site.timeZone),
          );
          row.booked = new Set(bookings.filter((b) => seats.has(b.placeId)).map((b) => b.placeId)).size;
        }),
      );
    return {
      day,
      at: new Date(now).toISOString(),
      scope: scopeSubs === undefined ? 'org' : scopeSubs.size > 1 ? 'team' : 'self',
      totals,
      sites: [...sites.values()],
      teams: [...teams.values()].sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : 0)),
      people: rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
  }

  /** The people the caller may see: undefined for everyone (an org admin), else themself and their reports. */
  async #scope(caller: Principal, org: string): Promise<Set<string> | undefined> {
    if (caller.isAdmin) return undefined;
    return new Set([caller.sub, ...(await this.#o.directory.reportsOf(org, caller.sub))]);
  }

  /** When someone expected at `site` and not checked in counts as absent: its opening plus the late allowance. */
  #lateAt(site: Site | undefined, day: string): number {
    const zone = site?.timeZone ?? 'Asia/Seoul';
    const hours = site?.openingHours[weekdayOf(day)] ?? null;
    const open = hours ? minutesOf(hours.open) : DEFAULT_OPEN_MINUTES;
    return startOfDay(day, zone) + (open + this.#o.lateAfterMinutes) * 60_000;
  }

  /** The org's directory, read at most every few seconds (it changes by an admin's hand, not by the minute). */
  #people(org: string, now: number): Promise<DirectoryRecord[]> {
    const cached = this.#directory.get(org);
    if (cached && now - cached.at < SITE_FACTS_TTL_MS && now >= cached.at) return cached.people;
    const people = this.#o.directory.listPeople(org);
    if (this.#directory.size > 10_000) this.#directory.clear();
    this.#directory.set(org, { at: now, people });
    // a failed read is not kept: the next view reads again
    people.catch(() => this.#directory.delete(org));
    return people;
  }

  async #facts(org: string, now: number): Promise<Map<string, SiteFacts>> {
    const cached = this.#siteFacts.get(org);
    if (cached && now - cached.at < SITE_FACTS_TTL_MS && now >= cached.at) return cached.facts;
    const sites = await this.#o.telework.listSites(org);
    const facts = new Map<string, SiteFacts>();
    await Promise.all(
      sites.map(async (site) => {
        const places = await this.#o.telework.listPlaces(org, site.id);
        facts.set(site.id, { site, seats: new Set(places.filter((p) => p.kind === 'seat').map((p) => p.id)) });
      }),
    );
    if (this.#siteFacts.size > 10_000) this.#siteFacts.clear();
    this.#siteFacts.set(org, { at: now, facts });
    return facts;
  }
}

/** The org's main time zone: its HQ's, else its first site's, else Seoul. */
function mainZone(facts: Map<string, SiteFacts>): string {
  const all = [...facts.values()].map((f) => f.site);
  return (all.find((s) => s.kind === 'hq') ?? all[0])?.timeZone ?? 'Asia/Seoul';
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** The people rows as CSV cells (the export). */
export function dashboardCsvRows(view: DashboardView): Array<Array<string | boolean | null>> {
  const header = [
    'day',
    'sub',
    'name',
    'team',
    'expectedSite',
    'expectedType',
    'checkedInSite',
    'source',
    'checkedInAt',
    'status',
    'online',
  ];
  return [
    header,
    ...view.people.map((p) => [
      view.day,
      p.sub,
      p.name,
      p.team,
      p.expectedSiteId,
      p.expectedType,
      p.checkedInSiteId,
      p.source,
      p.checkedInAt,
      p.status,
      p.online,
    ]),
  ];
}

/** Let the event loop run what waits (other requests, socket traffic) before going on. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `JSON.stringify(view)`, the people rows a thousand at a time with a turn of the event loop between. */
export async function toJsonInTurns(view: DashboardView): Promise<string> {
  const head = JSON.stringify({ ...view, people: [] });
  if (!head.endsWith('"people":[]}')) return JSON.stringify(view);
  const parts: string[] = [];
  for (let i = 0; i < view.people.length; i += 1000) {
    parts.push(JSON.stringify(view.people.slice(i, i + 1000)).slice(1, -1));
    await nextTurn();
  }
  // head ends with `"people":[]}`: put the rows between the brackets
  return `${head.slice(0, -2)}${parts.filter((p) => p.length > 0).join(',')}]}`;
}
