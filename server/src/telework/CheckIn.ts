/**
 * CheckIn: the telework service of checking bookings in and of no-shows. It owns the check-in
 * window (from `beforeMs` before a booking's start to its end), where a check-in may come from (the
 * site's network ranges: source `network`; elsewhere by hand only when `manualAllowed`: source
 * `manual`), the release of bookings not checked in `graceMs` after their start (status
 * `released`, the place free again), the counting of those no-shows and the suspension they lead
 * to, and the audit entry of each. Every write is a conditional update in the store, so the
 * scheduler's job may run on several nodes or twice without releasing or suspending twice.
 */
import { type Booking, MoimError } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import { matchesAny } from './networks.ts';
import type { Sites } from './Sites.ts';

/** Bookings released per run of the no-show job (the next run takes the rest). */
export const NO_SHOW_BATCH = 500;

const DAY_MS = 24 * 60 * 60_000;

export interface CheckInOptions {
  store: TeleworkStore;
  /** The caller's org (seeded on first use, as every telework request). */
  sites: Sites;
  audit: AuditStore;
  log: Logger;
  now: () => number;
  /** `MOIM_TELEWORK_CHECKIN_BEFORE_MINUTES` in ms. */
  beforeMs: number;
  /** `MOIM_TELEWORK_CHECKIN_GRACE_MINUTES` in ms. */
  graceMs: number;
  /** `MOIM_TELEWORK_MANUAL_CHECKIN`: a check-in by hand from outside the site's ranges. */
  manualAllowed: boolean;
  /** `MOIM_TELEWORK_NO_SHOW_LIMIT` (0: never suspend). */
  noShowLimit: number;
  /** `MOIM_TELEWORK_NO_SHOW_WINDOW_DAYS`. */
  noShowWindowDays: number;
  /** `MOIM_TELEWORK_SUSPENSION_DAYS`. */
  suspensionDays: number;
}

export class CheckIn {
  readonly #o: CheckInOptions;

  constructor(opts: CheckInOptions) {
    this.#o = opts;
  }

  /** True when `at` lies in the booking's check-in window. */
  inWindow(booking: Booking, at: number): boolean {
    return Date.parse(booking.start) - this.#o.beforeMs <= at && at < Date.parse(booking.end);
  }

  /**
   * The person is connected from the network of `siteId`: check in each of their bookings there
   * whose window holds now. Resolves with the bookings this call checked in.
   */
  async fromNetwork(org: string, sub: string, siteId: string): Promise<Booking[]> {
    const now = this.#o.now();
    const due = (await this.#o.store.listPersonBookings(org, sub, now)).filter(
      (b) => b.siteId === siteId && !b.checkedInAt && this.inWindow(b, now),
    );
    const done: Booking[] = [];
    for (const b of due) {
      const after = await this.#o.store.checkInBooking(org, b.id, now, 'network');
      // another node (or connection) checked it in first: its time stands, and its audit entry
      if (!after || after.checkedInAt !== new Date(now).toISOString() || after.checkInSource !== 'network') continue;
      await this.#audited(sub, org, after);
      done.push(after);
    }
    return done;
  }

  /** `POST /telework/bookings/:id/check-in` from `address` (resolved through the trusted proxies). */
  async manual(caller: Principal, id: string, address: string): Promise<Booking> {
    const org = await this.#o.sites.orgOf(caller);
    const booking = await this.#o.store.getBooking(org, id);
    if (!booking) throw new MoimError('NOT_FOUND', `no booking ${id}`);
    if (booking.sub !== caller.sub) throw new MoimError('FORBIDDEN', 'only the person a booking is for checks in');
    if (booking.checkedInAt) return booking;
    if (booking.status !== 'booked') throw new MoimError('CONFLICT', `the booking is ${booking.status}`);
    const now = this.#o.now();
    if (!this.inWindow(booking, now))
      throw new MoimError(
        'OUTSIDE_HOURS',
        `check-in is open from ${new Date(Date.parse(booking.start) - this.#o.beforeMs).toISOString()} until ${booking.end}`,
      );
    const site = await this.#o.store.getSite(org, booking.siteId);
    const onSite = site !== undefined && matchesAny(address, site.networks);
    if (!onSite && !this.#o.manualAllowed)
      throw new MoimError('FORBIDDEN', `check in from the network of ${booking.siteId}`);
    const after = await this.#o.store.checkInBooking(org, id, now, onSite ? 'network' : 'manual');
    if (!after) throw new MoimError('NOT_FOUND', `no booking ${id}`);
    if (!after.checkedInAt) throw new MoimError('CONFLICT', `the booking is ${after.status}`);
    if (after.checkedInAt === new Date(now).toISOString()) await this.#audited(caller.sub, org, after);
    return after;
  }

  /**
   * The no-show job: release every booking not checked in `graceMs` after its start, count each
   * as a no-show of its person, and suspend a person's booking once they reach the limit within
   * the window. Resolves with the bookings released.
   */
  async releaseNoShows(now: number): Promise<number> {
    const released = await this.#o.store.releaseNoShows(now - this.#o.graceMs, now, NO_SHOW_BATCH);
    for (const { org, booking } of released) {
      await this.#o.audit.append({
        actor: 'system',
        action: 'telework.booking.no-show',
        target: booking.id,
        detail: { org, owner: booking.sub, siteId: booking.siteId, placeId: booking.placeId, start: booking.start },
      });
      this.#o.log.info({ org, booking: booking.id, sub: booking.sub }, 'telework booking released (no-show)');
      await this.#suspendIfDue(org, booking.sub, now);
    }
    return released.length;
  }

  /** The end of the person's suspension, when one holds at `at`. */
  async suspendedUntil(org: string, sub: string, at: number): Promise<number | undefined> {
    const last = await this.#o.store.lastSuspension(org, sub);
    return last && last.until > at ? last.until : undefined;
  }

  async #suspendIfDue(org: string, sub: string, now: number): Promise<void> {
    if (this.#o.noShowLimit === 0) return;
    const last = await this.#o.store.lastSuspension(org, sub);
    if (last && last.until > now) return;
    // no-shows that led to an earlier suspension do not count again
    const since = Math.max(now - this.#o.noShowWindowDays * DAY_MS, last ? last.from : 0);
    const noShows = await this.#o.store.countNoShows(org, sub, since);
    if (noShows < this.#o.noShowLimit) return;
    const until = now + this.#o.suspensionDays * DAY_MS;
    if (!(await this.#o.store.addSuspension(org, sub, { from: now, until, noShows }))) return;
    await this.#o.audit.append({
      actor: 'system',
      action: 'telework.booking.suspend',
      target: sub,
      detail: { org, noShows, until: new Date(until).toISOString() },
    });
    this.#o.log.info({ org, sub, noShows, until }, 'telework booking suspended after no-shows');
  }

  async #audited(actor: string, org: string, b: Booking): Promise<void> {
    await this.#o.audit.append({
      actor,
      action: 'telework.booking.check-in',
      target: b.id,
      detail: { org, owner: b.sub, siteId: b.siteId, placeId: b.placeId, source: b.checkInSource, at: b.checkedInAt },
    });
    this.#o.log.info({ org, booking: b.id, source: b.checkInSource }, 'telework booking checked in');
  }
}
