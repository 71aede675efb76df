import { z } from 'zod';
import { calendarDaySchema } from './telework.ts';

/**
 * The central manager's view of one working day: who works where (HQ, each centre, home), who is
 * checked in, late or absent against their approved plan, centre occupancy, pending approvals —
 * per site, per team and per person. Org admins see everyone, a manager their reports (direct and
 * indirect) and themself, a member only themself; the server decides.
 *
 * ## HTTP (Bearer token; the caller's `org`)
 * - `GET /telework/dashboard?day=YYYY-MM-DD` → `DashboardView` (day: today in the org's main
 *   site's time zone when left out)
 * - `GET /telework/dashboard.csv?day=` → the people rows as CSV (UTF-8 with BOM, formula cells
 *   escaped; never priority categories)
 *
 * A person's expected place on a day: their approved telework (site and type), else their home
 * site (HQ when the directory names none) on a day that site is open and not a holiday, else
 * nothing (`off`). Status: `checked-in` (an attendance record; `late` when it is flagged so),
 * `absent` (expected, none, and the site opened more than the late allowance ago), `not-yet`
 * (expected, none, earlier), `off`.
 */

export const DASHBOARD_STATUSES = ['checked-in', 'late', 'absent', 'not-yet', 'off'] as const;
export type DashboardStatus = (typeof DASHBOARD_STATUSES)[number];

export interface DashboardPerson {
  sub: string;
  name: string;
  team: string;
  /** Where the person is expected: a site id, or null on a day off. */
  expectedSiteId: string | null;
  /** `office` (their home site, no telework), or the approved telework's type. */
  expectedType: 'office' | 'home' | 'smart-work-centre' | 'mobile' | null;
  /** Where they checked in, and how the site was known. */
  checkedInSiteId: string | null;
  source: 'network' | 'declared' | 'manual' | null;
  checkedInAt: string | null;
  status: DashboardStatus;
  /** Connected right now (presence). */
  online: boolean;
}

export interface DashboardSite {
  id: string;
  name: string;
  kind: 'hq' | 'smart-work-centre' | 'home';
  expected: number;
  checkedIn: number;
  late: number;
  absent: number;
  online: number;
  /** Seats, and the seats booked that day (centre occupancy = booked / seats). */
  seats: number;
  booked: number;
}

export interface DashboardTeam {
  team: string;
  people: number;
  expected: number;
  checkedIn: number;
  late: number;
  absent: number;
}

export interface DashboardView {
  day: string;
  /** When the view was computed. */
  at: string;
  scope: 'org' | 'team' | 'self';
  totals: {
    people: number;
    expected: number;
    checkedIn: number;
    late: number;
    absent: number;
    notYet: number;
    online: number;
    atHome: number;
    atCentres: number;
    atHq: number;
    /** Approval documents waiting: every pending one (admins), or those waiting for the caller. */
    pendingApprovals: number;
  };
  sites: DashboardSite[];
  teams: DashboardTeam[];
  people: DashboardPerson[];
}

export const dashboardQuerySchema = z.object({ day: calendarDaySchema.optional() }).strict();
