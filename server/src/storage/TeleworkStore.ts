import type { Booking, Place, Site } from '@moim/protocol';

/**
 * Telework sites and the places in them (seats, meeting rooms), per organisation. This interface
 * owns what is stored; who may change it is the telework service's (telework/Sites.ts). A site id
 * is unique within its organisation, a place id within its site; nothing is found across orgs.
 * Bookings of a place never overlap while booked: the database refuses it (an exclusion
 * constraint on PostgreSQL, a trigger on SQLite), so of racing requests exactly one wins.
 */

/** The per-person bound `createBooking` enforces in the same transaction as the insert. */
export interface BookingBound {
  /** Bookings of the person still booked and not yet ended at `now` they may hold; more is CONFLICT. */
  maxFuture: number;
  now: number;
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
}
