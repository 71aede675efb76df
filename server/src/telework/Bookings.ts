/**
 * Bookings: the telework service of booking a seat or meeting room. It owns the rules — a person
 * books for themself a place of their own org, inside the site's opening hours in the site's time
 * zone (else OUTSIDE_HOURS), holding at most `maxBookingsPerPerson` future bookings; only the
 * owner or an org admin cancels; nobody books while suspended after repeated no-shows
 * (BOOKING_SUSPENDED, see CheckIn.ts); a smart-work centre only on a day of an approved telework
 * plan at that centre (NOT_APPROVED) — and the audit entry of every change. That two bookings of
 * one place never overlap is the store's (the database decides races: BOOKING_CONFLICT).
 *
 * A meeting room's booking is also a video room: a room record with the booking's id, the room's
 * tier and a linked notes document (`room-<id>-notes`), stored with the booking; the room opens at
 * its first join, like any room, and is closed when the booking is cancelled.
 */
import { randomUUID } from 'node:crypto';
import { type Booking, type BookingDayQuery, type BookingInput, MoimError, type Place } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { RoomStore } from '../storage/RoomStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { TeleworkPlans } from './contracts.ts';
import type { Sites } from './Sites.ts';
import { localTime, nextDay, startOfDay, withinOpeningHours } from './siteClock.ts';

export interface BookingsOptions {
  store: TeleworkStore;
  /** For the caller's org (seeded on first use, as every telework request). */
  sites: Sites;
  audit: AuditStore;
  log: Logger;
  /** Bookings still booked and not yet ended one person may hold (`MOIM_TELEWORK_MAX_BOOKINGS_PER_PERSON`). */
  maxBookingsPerPerson: number;
  /** Approved telework plans: a smart-work centre is booked only on a day of one there. Unset: no such rule. */
  plans?: TeleworkPlans | undefined;
  /** Video rooms: a meeting room's booking stores its room record. Unset: bookings only. */
  rooms?: RoomStore | undefined;
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
  readonly #plans: TeleworkPlans | undefined;
  readonly #rooms: RoomStore | undefined;

  constructor(opts: BookingsOptions) {
    this.#plans = opts.plans;
    this.#rooms = opts.rooms;
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
    const suspension = await this.#store.lastSuspension(org, caller.sub);
    if (suspension && suspension.until > now)
      throw new MoimError(
        'BOOKING_SUSPENDED',
        `booking is suspended until ${new Date(suspension.until).toISOString()} after ${suspension.noShows} no-shows`,
      );
    if (!withinOpeningHours(start, end, site.openingHours, site.timeZone))
      throw new MoimError('OUTSIDE_HOURS', `${site.id} is not open for all of that time (${site.timeZone})`);
    if (site.kind === 'smart-work-centre' && this.#plans) {
      const day = localTime(start, site.timeZone).date;
      const plan = await this.#plans.planOn(org, caller.sub, day);
      if (plan?.siteId !== site.id)
        throw new MoimError('NOT_APPROVED', `no approved telework at ${site.id} on ${day}: apply for it first`);
    }
    const place = await this.#store.getPlace(org, input.siteId, input.placeId);
    if (!place) throw new MoimError('NOT_FOUND', `no place ${input.placeId} at ${input.siteId}`);
    const booking: Booking = {
      id: randomUUID(),
      siteId: input.siteId,
      placeId: input.placeId,
      sub: caller.sub,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      status: 'booked',
      createdAt: new Date(now).toISOString(),
      checkedInAt: null,
      checkInSource: null,
    };
    await this.#store.createBooking(org, booking, { maxFuture: this.#max, now });
    if (place.kind === 'meeting-room' && this.#rooms) await this.#openRoom(caller, org, booking, place, site.name, now);
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
    if (found.status !== 'booked') return found; // cancelled or released already: nothing changes
    const at = this.#now();
    const cancelled = await this.#store.cancelBooking(org, id, at);
    if (!cancelled) throw new MoimError('NOT_FOUND', `no booking ${id}`);
    // a meeting room's video room goes with it (false: a seat, or a room closed already)
    if (this.#rooms && (await this.#rooms.get(org, id))) await this.#rooms.close(id, at);
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

  /** The booked meeting room's video room (its record; the room opens at the first join). */
  async #openRoom(caller: Principal, org: string, booking: Booking, place: Place, siteName: string, now: number) {
    const rooms = this.#rooms;
    if (!rooms) return;
    try {
      await rooms.create({
        id: booking.id,
        org,
        tier: place.tier ?? 'standard',
        name: `${place.name} · ${siteName}`,
        ownerSub: caller.sub,
        docName: `room-${booking.id}-notes`,
        createdAt: now,
      });
    } catch (err) {
      // a booking whose room could not be stored is no meeting-room booking: undo it
      this.#log.error({ err, org, booking: booking.id }, 'storing a booked meeting room’s video room failed');
      await this.#store.cancelBooking(org, booking.id, now);
      throw err;
    }
  }
}
