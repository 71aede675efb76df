/**
 * The manager's view client: a working day's dashboard (who works where, checked in, late or
 * absent against approvals, centre occupancy, per site, per team, per person; the server decides
 * whom the caller sees), its CSV export, and attendance days. Routes: `@moim/protocol`'s
 * dashboard.ts and attendance.ts. It needs only a URL and a token; `MoimClient.dashboard` is this
 * client on the session's token.
 */
import type { AttendanceDay, AttendanceResponse, DashboardView } from '@moim/protocol';
import { authorizedJson, authorizedText } from '../http.ts';
import { checkDay, checkSub, queryOf } from './checks.ts';
import type { TeleworkOptions } from './Telework.ts';

export class TeleworkDashboard {
  readonly #url: string;
  readonly #getToken: () => Promise<string> | string;

  constructor(options: TeleworkOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#getToken = options.getToken;
  }

  /** The view of `day` (default: today in the org's main site's time zone). */
  async view(day?: string): Promise<DashboardView> {
    const q = queryOf({ day: day === undefined ? undefined : checkDay('day', day) });
    return authorizedJson<DashboardView>(this.#url, await this.#getToken(), `/telework/dashboard${q}`);
  }

  /**
   * The view's people rows as CSV text (never priority categories). The server sends UTF-8 with a
   * BOM; decoding drops it, so an app saving the file for a spreadsheet puts `\uFEFF` back in front.
   */
  async csv(day?: string): Promise<string> {
    const q = queryOf({ day: day === undefined ? undefined : checkDay('day', day) });
    return authorizedText(this.#url, await this.#getToken(), `/telework/dashboard.csv${q}`);
  }

  /** Attendance days `from`–`to` (inclusive) I may see: mine, my team's as a manager, everyone's as an admin. */
  async attendance(from: string, to: string, sub?: string): Promise<AttendanceDay[]> {
    if (sub !== undefined) checkSub('sub', sub);
    const q = queryOf({ from: checkDay('from', from), to: checkDay('to', to), sub });
    return (await authorizedJson<AttendanceResponse>(this.#url, await this.#getToken(), `/telework/attendance${q}`))
      .days;
  }
}
