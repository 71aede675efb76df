import type { Booking, Place, Site } from '@moim/protocol';

/**
 * Telework sites and the places in them (seats, meeting rooms), per organisation. This interface
 * owns what is stored; who may change it is the telework service's (telework/Sites.ts). A site id
 * is unique within its organisation, a place id within its site; nothing is found across orgs.
 * Bookings of a place never overlap while booked: the database refuses it (an exclusion
 * constraint on PostgreSQL, a trigger on SQLite), so of racing requests exactly one wins; only
 * `booked` ones weigh (cancelled and released ones free their time). Check-in, the release of
 * no-shows and the suspensions they lead to are conditional updates, safe to repeat and to race.
 */

/** The per-person bound `createBooking` enforces in the same transaction as the insert. */
export interface BookingBound {
  /** Bookings of the person still booked and not yet ended at `now` they may hold; more is CONFLICT. */
  maxFuture: number;
  now: number;
}

/** A booking released as a no-show, with its org (the no-show job runs over every org). */
export interface ReleasedBooking {
  org: string;
  booking: Booking;
}

/** A period a person may not book in, after `noShows` no-shows. */
export interface Suspension {
  from: number;
  until: number;
  noShows: number;
}

export interface TeleworkStore {
  /** Store a new site; CONFLICT when the org already has a site with this id. */
  createSite(org: string, site: Site, at: number): Promise<Site>;
  /** Replace an existing site (the id stays); false when the org has no such site. */
  updateSite(org: string, site: Site, at: number): Promise<boolean>;
  /** Delete a site and every place in it; false when the org has no such site. */
  deleteSite(org: string, id: string): Promise<boolean>;
  getSite(org: string, id: string): Promise<Site | undefined>;
  /** The org's sites by id. */
  listSites(org: string): Promise<Site[]>;

  /** Store a new place; CONFLICT when the site has it already, NOT_FOUND when the site does not exist. */
  createPlace(org: string, place: Place, at: number): Promise<Place>;
  /** Replace an existing place; false when the site has no such place. */
  updatePlace(org: string, place: Place, at: number): Promise<boolean>;
  deletePlace(org: string, siteId: string, id: string): Promise<boolean>;
  getPlace(org: string, siteId: string, id: string): Promise<Place | undefined>;
  /** The site's places by id (empty when the site does not exist). */
  listPlaces(org: string, siteId: string): Promise<Place[]>;

  /**
   * Give the org its first sites, once: true the first time (the sites stored, any id the org
   * already has kept as it is), false on every later call, even after the sites were deleted.
   */
  seedOnce(org: string, sites: readonly Site[], at: number): Promise<boolean>;

  /**
   * Store a new booking (status `booked`): BOOKING_CONFLICT when a booked booking of the same
   * place overlaps it (`end` is exclusive: back-to-back slots do not), NOT_FOUND when the place
   * does not exist, CONFLICT when the person already holds `bound.maxFuture` future bookings.
   */
  createBooking(org: string, booking: Booking, bound: BookingBound): Promise<Booking>;
  getBooking(org: string, id: string): Promise<Booking | undefined>;
  /** Mark a booking cancelled (idempotent: a cancelled one stays as it is); undefined when there is none. */
  cancelBooking(org: string, id: string, at: number): Promise<Booking | undefined>;
  /** The site's booked bookings overlapping [from, to), by start then place. */
  listSiteBookings(org: string, siteId: string, from: number, to: number): Promise<Booking[]>;
  /** The person's booked bookings ending after `after`, by start. */
  listPersonBookings(org: string, sub: string, after: number): Promise<Booking[]>;

  /**
   * Check a booked booking in at `at` (a conditional update: only while booked and not checked in,
   * so two nodes checking in at once record one time). Resolves with the booking as stored
   * afterwards (checked in by this call or before, or no longer booked); undefined when there is none.
   */
  checkInBooking(org: string, id: string, at: number, source: 'network' | 'manual'): Promise<Booking | undefined>;
  /**
   * Release, over every org, at most `limit` booked bookings not checked in that started at or
   * before `startedBefore` (status `released`, the place free again). Each is returned by exactly
   * one call, however many run at once.
   */
  releaseNoShows(startedBefore: number, at: number, limit: number): Promise<ReleasedBooking[]>;
  /** The person's released bookings (no-shows) that started at or after `since`. */
  countNoShows(org: string, sub: string, since: number): Promise<number>;
  /** Record a suspension; false when the person already has one starting at `from` (a repeated run). */
  addSuspension(org: string, sub: string, suspension: Suspension): Promise<boolean>;
  /** The person's latest suspension (by start), ended or not. */
  lastSuspension(org: string, sub: string): Promise<Suspension | undefined>;
}
