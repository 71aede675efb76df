/**
 * Bookings: the telework service of booking a seat or meeting room. It owns the rules — a person
 * books for themself a place of their own org, inside the site's opening hours in the site's time
 * zone (else OUTSIDE_HOURS), holding at most `maxBookingsPerPerson` future bookings; only the
 * owner or an org admin cancels — and the audit entry of every change. That two bookings of one
 * place never overlap is the store's (the database decides races: BOOKING_CONFLICT).
 */
import { randomUUID } from 'node:crypto';
import { type Booking, type BookingDayQuery, type BookingInput, MoimError } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { Sites } from './Sites.ts';
import { nextDay, startOfDay, withinOpeningHours } from './siteClock.ts';

export interface BookingsOptions {
  store: TeleworkStore;
  /** For the caller's org (seeded on first use, as every telework request). */
  sites: Sites;
  audit: AuditStore;
  log: Logger;
  /** Bookings still booked and not yet ended one person may hold (`MOIM_TELEWORK_MAX_BOOKINGS_PER_PERSON`). */
  maxBookingsPerPerson: number;
  /** @default Date.now */
  now?: () => number;
}

export class Bookings {
  readonly #store: TeleworkStore;
  readonly #sites: Sites;
  readonly #audit: AuditStore;
  readonly #log: Logger;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: BookingsOptions) {
    this.#store = opts.store;
    this.#sites = opts.sites;
    this.#audit = opts.audit;
    this.#log = opts.log;
    this.#max = opts.maxBookingsPerPerson;
    this.#now = opts.now ?? Date.now;
  }

  /** Book `input.placeId` of `input.siteId` for the caller. */
  async create(caller: Principal, input: BookingInput): Promise<Booking> {
    const org = await this.#sites.orgOf(caller);
    const site = await this.#store.getSite(org, input.siteId);
    if (!site) throw new MoimError('NOT_FOUND', `no site ${input.siteId}`);
    const start = Date.parse(input.start);
    const end = Date.parse(input.end);
    const now = this.#now();
    if (end <= now) throw new MoimError('INVALID_PAYLOAD', 'end: the booking would be over already');
    if (!withinOpeningHours(start, end, site.openingHours, site.timeZone))
      throw new MoimError('OUTSIDE_HOURS', `${site.id} is not open for all of that time (${site.timeZone})`);
    const booking: Booking = {
      id: randomUUID(),
      siteId: input.siteId,
      placeId: input.placeId,
      sub: caller.sub,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      status: 'booked',
      createdAt: new Date(now).toISOString(),
    };
    await this.#store.createBooking(org, booking, { maxFuture: this.#max, now });
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.booking.create',
      target: booking.id,
      detail: { org, siteId: booking.siteId, placeId: booking.placeId, start: booking.start, end: booking.end },
    });
    this.#log.info({ org, booking: booking.id, site: booking.siteId, place: booking.placeId }, 'telework booked');
    return booking;
  }

  /** Cancel a booking (its owner or an org admin); cancelling a cancelled booking changes nothing. */
  async cancel(caller: Principal, id: string): Promise<Booking> {
    const org = await this.#sites.orgOf(caller);
    const found = await this.#store.getBooking(org, id);
    if (!found) throw new MoimError('NOT_FOUND', `no booking ${id}`);
    if (found.sub !== caller.sub && !caller.isAdmin)
      throw new MoimError('FORBIDDEN', 'only its owner or an admin of the organisation cancels a booking');
    if (found.status === 'cancelled') return found;
    const cancelled = await this.#store.cancelBooking(org, id, this.#now());
    if (!cancelled) throw new MoimError('NOT_FOUND', `no booking ${id}`);
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.booking.cancel',
      target: id,
      detail: { org, owner: found.sub, siteId: found.siteId, placeId: found.placeId, start: found.start },
    });
    this.#log.info({ org, booking: id }, 'telework booking cancelled');
    return cancelled;
  }

  /** A site's booked bookings overlapping the calendar day `day` in the site's time zone. */
  async day(caller: Principal, query: BookingDayQuery): Promise<Booking[]> {
    const org = await this.#sites.orgOf(caller);
    const site = await this.#store.getSite(org, query.siteId);
    if (!site) throw new MoimError('NOT_FOUND', `no site ${query.siteId}`);
    const from = startOfDay(query.day, site.timeZone);
    const to = startOfDay(nextDay(query.day), site.timeZone);
    return this.#store.listSiteBookings(org, site.id, from, to);
  }

  /** The caller's booked bookings not yet ended. */
  async mine(caller: Principal): Promise<Booking[]> {
    const org = await this.#sites.orgOf(caller);
    return this.#store.listPersonBookings(org, caller.sub, this.#now());
  }
}
