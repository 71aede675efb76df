/**
 * Telework sites, places and bookings on SQLite (the TeleworkStore of a single node). A booking is
 * inserted in one write transaction with its checks; the overlap itself is refused by the table's
 * trigger (`telework_booking_overlap`), which this store turns into BOOKING_CONFLICT. Check-in and
 * the release of no-shows are single conditional UPDATEs (RETURNING the rows this call changed).
 */
import { type Booking, MoimError, type Place, type Site } from '@moim/protocol';
import type { BookingBound, ReleasedBooking, Suspension, TeleworkStore } from '../TeleworkStore.ts';
import {
  BOOKING_COLUMNS,
  BOOKING_READ_COLUMNS,
  type BookingRow,
  bookingValues,
  PLACE_COLUMNS,
  type PlaceRow,
  placeValues,
  SITE_COLUMNS,
  type SiteRow,
  siteValues,
  toBooking,
  toPlace,
  toSite,
} from '../teleworkRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

const isUnique = (err: unknown): boolean => /UNIQUE|PRIMARY KEY/i.test((err as Error).message);
const isOverlap = (err: unknown): boolean => /telework_booking_overlap/.test((err as Error).message);

export class SqliteTeleworkStore implements TeleworkStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async createSite(org: string, site: Site, at: number): Promise<Site> {
    try {
      this.#insertSite(org, site, at, '');
    } catch (err) {
      if (isUnique(err)) throw new MoimError('CONFLICT', `site ${site.id} exists`, { cause: err });
      throw err;
    }
    return site;
  }

  async updateSite(org: string, site: Site, at: number): Promise<boolean> {
    const r = this.#db.run(
      `UPDATE telework_sites SET name = ?, address = ?, time_zone = ?, opening_hours = ?, networks = ?, kind = ?,
       updated_at = ? WHERE org = ? AND id = ?`,
      ...siteValues(site),
      at,
      org,
      site.id,
    );
    return r.changes > 0;
  }

  async deleteSite(org: string, id: string): Promise<boolean> {
    // the site's places go with it (ON DELETE CASCADE)
    return this.#db.run('DELETE FROM telework_sites WHERE org = ? AND id = ?', org, id).changes > 0;
  }

  async getSite(org: string, id: string): Promise<Site | undefined> {
    const row = this.#db.get<SiteRow>(`SELECT ${SITE_COLUMNS} FROM telework_sites WHERE org = ? AND id = ?`, org, id);
    return row ? toSite(row) : undefined;
  }

  async listSites(org: string): Promise<Site[]> {
    return this.#db
      .all<SiteRow>(`SELECT ${SITE_COLUMNS} FROM telework_sites WHERE org = ? ORDER BY id`, org)
      .map(toSite);
  }

  async createPlace(org: string, place: Place, at: number): Promise<Place> {
    this.#db.tx(() => {
      if (!this.#db.get('SELECT 1 AS x FROM telework_sites WHERE org = ? AND id = ?', org, place.siteId))
        throw new MoimError('NOT_FOUND', `no site ${place.siteId}`);
      try {
        this.#db.run(
          `INSERT INTO telework_places (kind, name, tier, capacity, org, site_id, id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ...placeValues(place),
          org,
          place.siteId,
          place.id,
          at,
          at,
        );
      } catch (err) {
        if (isUnique(err)) throw new MoimError('CONFLICT', `place ${place.id} exists`, { cause: err });
        throw err;
      }
    });
    return place;
  }

  async updatePlace(org: string, place: Place, at: number): Promise<boolean> {
    const r = this.#db.run(
      `UPDATE telework_places SET kind = ?, name = ?, tier = ?, capacity = ?, updated_at = ?
       WHERE org = ? AND site_id = ? AND id = ?`,
      ...placeValues(place),
      at,
      org,
      place.siteId,
      place.id,
    );
    return r.changes > 0;
  }

  async deletePlace(org: string, siteId: string, id: string): Promise<boolean> {
    return (
      this.#db.run('DELETE FROM telework_places WHERE org = ? AND site_id = ? AND id = ?', org, siteId, id).changes > 0
    );
  }

  async getPlace(org: string, siteId: string, id: string): Promise<Place | undefined> {
    const row = this.#db.get<PlaceRow>(
      `SELECT ${PLACE_COLUMNS} FROM telework_places WHERE org = ? AND site_id = ? AND id = ?`,
      org,
      siteId,
      id,
    );
    return row ? toPlace(row) : undefined;
  }

  async listPlaces(org: string, siteId: string): Promise<Place[]> {
    return this.#db
      .all<PlaceRow>(
        `SELECT ${PLACE_COLUMNS} FROM telework_places WHERE org = ? AND site_id = ? ORDER BY id`,
        org,
        siteId,
      )
      .map(toPlace);
  }

  async seedOnce(org: string, sites: readonly Site[], at: number): Promise<boolean> {
    return this.#db.tx(() => {
      const first =
        this.#db.run('INSERT INTO telework_seeded (org, seeded_at) VALUES (?, ?) ON CONFLICT DO NOTHING', org, at)
          .changes > 0;
      if (first) for (const site of sites) this.#insertSite(org, site, at, 'ON CONFLICT DO NOTHING');
      return first;
    });
  }

  async createBooking(org: string, booking: Booking, bound: BookingBound): Promise<Booking> {
    this.#db.tx(() => {
      if (
        !this.#db.get(
          'SELECT 1 AS x FROM telework_places WHERE org = ? AND site_id = ? AND id = ?',
          org,
          booking.siteId,
          booking.placeId,
        )
      )
        throw new MoimError('NOT_FOUND', `no place ${booking.placeId} in site ${booking.siteId}`);
      const held = this.#db.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM telework_bookings WHERE org = ? AND sub = ? AND status = 'booked' AND end_at > ?`,
        org,
        booking.sub,
        bound.now,
      );
      if ((held?.n ?? 0) >= bound.maxFuture)
        throw new MoimError('CONFLICT', `at most ${bound.maxFuture} future bookings per person`);
      try {
        this.#db.run(
          `INSERT INTO telework_bookings (org, ${BOOKING_COLUMNS})
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ...bookingValues(org, booking),
        );
      } catch (err) {
        if (isOverlap(err))
          throw new MoimError('BOOKING_CONFLICT', `${booking.placeId} is booked for part of that time`, {
            cause: err,
          });
        if (isUnique(err)) throw new MoimError('CONFLICT', `booking ${booking.id} exists`, { cause: err });
        throw err;
      }
    });
    return booking;
  }

  async getBooking(org: string, id: string): Promise<Booking | undefined> {
    const row = this.#db.get<BookingRow>(
      `SELECT ${BOOKING_READ_COLUMNS} FROM telework_bookings WHERE org = ? AND id = ?`,
      org,
      id,
    );
    return row ? toBooking(row) : undefined;
  }

  async cancelBooking(org: string, id: string, at: number): Promise<Booking | undefined> {
    this.#db.run(
      `UPDATE telework_bookings SET status = 'cancelled', cancelled_at = ? WHERE org = ? AND id = ? AND status = 'booked'`,
      at,
      org,
      id,
    );
    return this.getBooking(org, id);
  }

  async listSiteBookings(org: string, siteId: string, from: number, to: number): Promise<Booking[]> {
    return this.#db
      .all<BookingRow>(
        `SELECT ${BOOKING_READ_COLUMNS} FROM telework_bookings
         WHERE org = ? AND site_id = ? AND status = 'booked' AND start_at < ? AND end_at > ?
         ORDER BY start_at, place_id, id`,
        org,
        siteId,
        to,
        from,
      )
      .map(toBooking);
  }

  async listPersonBookings(org: string, sub: string, after: number): Promise<Booking[]> {
    return this.#db
      .all<BookingRow>(
        `SELECT ${BOOKING_READ_COLUMNS} FROM telework_bookings
         WHERE org = ? AND sub = ? AND status = 'booked' AND end_at > ? ORDER BY start_at, id`,
        org,
        sub,
        after,
      )
      .map(toBooking);
  }

  async checkInBooking(
    org: string,
    id: string,
    at: number,
    source: 'network' | 'manual',
  ): Promise<Booking | undefined> {
    this.#db.run(
      `UPDATE telework_bookings SET checked_in_at = ?, check_in_source = ?
       WHERE org = ? AND id = ? AND status = 'booked' AND checked_in_at IS NULL`,
      at,
      source,
      org,
      id,
    );
    return this.getBooking(org, id);
  }

  async releaseNoShows(startedBefore: number, at: number, limit: number): Promise<ReleasedBooking[]> {
    const rows = this.#db.all<BookingRow & { org: string }>(
      `UPDATE telework_bookings SET status = 'released', released_at = ?
       WHERE (org, id) IN (
         SELECT org, id FROM telework_bookings
         WHERE status = 'booked' AND checked_in_at IS NULL AND start_at <= ?
         ORDER BY start_at, org, id LIMIT ?)
       RETURNING org, ${BOOKING_READ_COLUMNS}`,
      at,
      startedBefore,
      limit,
    );
    return rows.map((row) => ({ org: row.org, booking: toBooking(row) }));
  }

  async countNoShows(org: string, sub: string, since: number): Promise<number> {
    const row = this.#db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM telework_bookings WHERE org = ? AND sub = ? AND status = 'released' AND start_at >= ?`,
      org,
      sub,
      since,
    );
    return row?.n ?? 0;
  }

  async addSuspension(org: string, sub: string, s: Suspension): Promise<boolean> {
    return (
      this.#db.run(
        `INSERT INTO telework_suspensions (org, sub, from_at, until_at, no_shows) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        org,
        sub,
        s.from,
        s.until,
        s.noShows,
      ).changes > 0
    );
  }

  async lastSuspension(org: string, sub: string): Promise<Suspension | undefined> {
    const row = this.#db.get<{ from_at: number; until_at: number; no_shows: number }>(
      `SELECT from_at, until_at, no_shows FROM telework_suspensions WHERE org = ? AND sub = ?
       ORDER BY from_at DESC LIMIT 1`,
      org,
      sub,
    );
    return row ? { from: row.from_at, until: row.until_at, noShows: row.no_shows } : undefined;
  }

  #insertSite(org: string, site: Site, at: number, onConflict: '' | 'ON CONFLICT DO NOTHING'): void {
    this.#db.run(
      `INSERT INTO telework_sites (name, address, time_zone, opening_hours, networks, kind, org, id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${onConflict}`,
      ...siteValues(site),
      org,
      site.id,
      at,
      at,
    );
  }
}
