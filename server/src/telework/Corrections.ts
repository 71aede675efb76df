/**
 * Attendance corrections: a person asks for one of their days to say something else (they forgot
 * to connect, or their connection said the wrong place). The request is an approval document of
 * kind `attendance-correction` for their approver line (Approvals.openFor); once approved, the day
 * is replaced by it (Attendance.applyCorrection), flagged `corrected`, with the approval named in
 * the audit. A rejected or cancelled one changes nothing.
 */
import { type Approval, type AttendanceCorrectionInput, MoimError } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { Approvals } from './Approvals.ts';
import type { Attendance } from './Attendance.ts';
import type { Clock } from './Scheduler.ts';
import type { Sites } from './Sites.ts';
import { localTime } from './siteClock.ts';

interface CorrectionPayload {
  day: string;
  siteId: string;
  firstIn: string;
  lastOut: string;
  teams: string[];
}

export interface CorrectionsOptions {
  approvals: Approvals;
  attendance: Attendance;
  telework: TeleworkStore;
  sites: Sites;
  clock: Clock;
  log: Logger;
}

export class Corrections {
  readonly #o: CorrectionsOptions;

  constructor(opts: CorrectionsOptions) {
    this.#o = opts;
    opts.approvals.on('decided', (org, approval) => {
      if (approval.kind !== 'attendance-correction' || approval.status !== 'approved') return;
      this.#apply(org, approval).catch((err: unknown) =>
        opts.log.error({ err, org, approval: approval.id }, 'applying an approved attendance correction failed'),
      );
    });
  }

  /** Ask for a correction of one of the caller's past or present days. */
  async request(caller: Principal, input: AttendanceCorrectionInput): Promise<Approval> {
    const org = await this.#o.sites.orgOf(caller);
    const site = await this.#o.telework.getSite(org, input.siteId);
    if (!site) throw new MoimError('NOT_FOUND', `no site ${input.siteId}`);
    const firstIn = Date.parse(input.firstIn);
    const lastOut = Date.parse(input.lastOut);
    if (
      localTime(firstIn, site.timeZone).date !== input.day ||
      localTime(lastOut - 1, site.timeZone).date !== input.day
    )
      throw new MoimError('INVALID_PAYLOAD', `firstIn and lastOut must be on ${input.day} in ${site.timeZone}`);
    if (lastOut > this.#o.clock.now()) throw new MoimError('INVALID_PAYLOAD', 'lastOut: a correction is of time past');
    const payload: CorrectionPayload = {
      day: input.day,
      siteId: site.id,
      firstIn: new Date(firstIn).toISOString(),
      lastOut: new Date(lastOut).toISOString(),
      teams: [...caller.token.teams],
    };
    return this.#o.approvals.openFor(
      org,
      caller.sub,
      {
        kind: 'attendance-correction',
        title: `근태 정정 · Attendance correction ${input.day}`,
        body: input.reason,
        payload,
      },
      async () => {},
    );
  }

  async #apply(org: string, approval: Approval): Promise<void> {
    const p = approval.payload as CorrectionPayload;
    const last = approval.steps.at(-1);
    await this.#o.attendance.applyCorrection(
      org,
      approval.applicant,
      { day: p.day, siteId: p.siteId, firstIn: Date.parse(p.firstIn), lastOut: Date.parse(p.lastOut), teams: p.teams },
      { id: approval.id, decidedBy: last?.decidedBy ?? null },
    );
    this.#o.log.info({ org, sub: approval.applicant, day: p.day, approval: approval.id }, 'attendance corrected');
  }
}
