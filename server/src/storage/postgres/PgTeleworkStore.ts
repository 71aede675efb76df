/**
 * Telework sites, places and bookings on PostgreSQL (the TeleworkStore of a cluster). The primary
 * keys (org, id) and (org, site_id, id) decide races: of two nodes creating the same site at once,
 * exactly one succeeds and the other gets CONFLICT. Of bookings racing for one place and time,
 * the exclusion constraint `telework_bookings_no_overlap` lets exactly one commit; the others'
 * SQLSTATE 23P01 becomes BOOKING_CONFLICT. A person's bookings are counted and inserted under a
 * transaction-scoped advisory lock of that person, so the per-person bound holds across nodes.
 * Check-in and the release of no-shows are conditional UPDATEs: of nodes racing, one changes a row.
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
import { isUniqueViolation, type PgDb, type PgTx } from './PgDb.ts';

const INSERT_SITE = `INSERT INTO telework_sites
  (name, address, time_zone, opening_hours, networks, kind, org, id, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`;

const isExclusionViolation = (err: unknown, constraint: string): boolean => {
  const e = err as { code?: unknown; constraint?: unknown };
  return e?.code === '23P01' && e.constraint === constraint;
};

export class PgTeleworkStore implements TeleworkStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async createSite(org: string, site: Site, at: number): Promise<Site> {
    try {
      await this.#db.query(INSERT_SITE, [...siteValues(site), org, site.id, at]);
    } catch (err) {
      if (isUniqueViolation(err, 'telework_sites_pkey'))
        throw new MoimError('CONFLICT', `site ${site.id} exists`, { cause: err });
      throw err;
    }
    return site;
  }

  async updateSite(org: string, site: Site, at: number): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE telework_sites SET name = $1, address = $2, time_zone = $3, opening_hours = $4, networks = $5, kind = $6,
       updated_at = $7 WHERE org = $8 AND id = $9 RETURNING 1 AS x`,
      [...siteValues(site), at, org, site.id],
    );
    return rows.length > 0;
  }

  async deleteSite(org: string, id: string): Promise<boolean> {
    // the site's places go with it (ON DELETE CASCADE)
    const rows = await this.#db.query('DELETE FROM telework_sites WHERE org = $1 AND id = $2 RETURNING 1 AS x', [
      org,
      id,
    ]);
    return rows.length > 0;
  }

  async getSite(org: string, id: string): Promise<Site | undefined> {
    const row = await this.#db.one<SiteRow>(`SELECT ${SITE_COLUMNS} FROM telework_sites WHERE org = $1 AND id = $2`, [
      org,
      id,
    ]);
    return row ? toSite(row) : undefined;
  }

  async listSites(org: string): Promise<Site[]> {
    const rows = await this.#db.query<SiteRow>(
      `SELECT ${SITE_COLUMNS} FROM telework_sites WHERE org = $1 ORDER BY id COLLATE "C"`,
      [org],
    );
    return rows.map(toSite);
  }

  async createPlace(org: string, place: Place, at: number): Promise<Place> {
    await this.#db.tx(async (tx: PgTx) => {
      // FOR SHARE: the site cannot be deleted between this check and the insert
      const site = await tx.one('SELECT 1 AS x FROM telework_sites WHERE org = $1 AND id = $2 FOR SHARE', [
        org,
        place.siteId,
      ]);
      if (!site) throw new MoimError('NOT_FOUND', `no site ${place.siteId}`);
      try {
        await tx.query(
          `INSERT INTO telework_places (kind, name, tier, capacity, org, site_id, id, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
          [...placeValues(place), org, place.siteId, place.id, at],
        );
      } catch (err) {
        if (isUniqueViolation(err, 'telework_places_pkey'))
          throw new MoimError('CONFLICT', `place ${place.id} exists`, { cause: err });
        throw err;
      }
    });
    return place;
  }

  async updatePlace(org: string, place: Place, at: number): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE telework_places SET kind = $1, name = $2, tier = $3, capacity = $4, updated_at = $5
       WHERE org = $6 AND site_id = $7 AND id = $8 RETURNING 1 AS x`,
      [...placeValues(place), at, org, place.siteId, place.id],
    );
    return rows.length > 0;
  }

  async deletePlace(org: string, siteId: string, id: string): Promise<boolean> {
    const rows = await this.#db.query(
      'DELETE FROM telework_places WHERE org = $1 AND site_id = $2 AND id = $3 RETURNING 1 AS x',
      [org, siteId, id],
    );
    return rows.length > 0;
  }

  async getPlace(org: string, siteId: string, id: string): Promise<Place | undefined> {
    const row = await this.#db.one<PlaceRow>(
      `SELECT ${PLACE_COLUMNS} FROM telework_places WHERE org = $1 AND site_id = $2 AND id = $3`,
      [org, siteId, id],
    );
    return row ? toPlace(row) : undefined;
  }

  async listPlaces(org: string, siteId: string): Promise<Place[]> {
    const rows = await this.#db.query<PlaceRow>(
      `SELECT ${PLACE_COLUMNS} FROM telework_places WHERE org = $1 AND site_id = $2 ORDER BY id COLLATE "C"`,
      [org, siteId],
    );
    return rows.map(toPlace);
  }

  async seedOnce(org: string, sites: readonly Site[], at: number): Promise<boolean> {
    return this.#db.tx(async (tx) => {
      const first = await tx.one(
        'INSERT INTO telework_seeded (org, seeded_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS x',
        [org, at],
      );
      if (!first) return false;
      for (const site of sites)
        await tx.query(`${INSERT_SITE} ON CONFLICT DO NOTHING`, [...siteValues(site), org, site.id, at]);
      return true;
    });
  }

  async createBooking(org: string, booking: Booking, bound: BookingBound): Promise<Booking> {
    await this.#db.tx(async (tx: PgTx) => {
      // FOR SHARE: the place cannot be deleted between this check and the insert
      const place = await tx.one(
        'SELECT 1 AS x FROM telework_places WHERE org = $1 AND site_id = $2 AND id = $3 FOR SHARE',
        [org, booking.siteId, booking.placeId],
      );
      if (!place) throw new MoimError('NOT_FOUND', `no place ${booking.placeId} in site ${booking.siteId}`);
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `telework-booking:${JSON.stringify([org, booking.sub])}`,
      ]);
      const held = await tx.one<{ n: string }>(
        `SELECT COUNT(*) AS n FROM telework_bookings WHERE org = $1 AND sub = $2 AND status = 'booked' AND end_at > $3`,
        [org, booking.sub, bound.now],
      );
      if (Number(held?.n ?? 0) >= bound.maxFuture)
        throw new MoimError('CONFLICT', `at most ${bound.maxFuture} future bookings per person`);
      try {
        await tx.query(
          `INSERT INTO telework_bookings (org, ${BOOKING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          bookingValues(org, booking),
        );
      } catch (err) {
        if (isExclusionViolation(err, 'telework_bookings_no_overlap'))
          throw new MoimError('BOOKING_CONFLICT', `${booking.placeId} is booked for part of that time`, {
            cause: err,
          });
        if (isUniqueViolation(err, 'telework_bookings_pkey'))
          throw new MoimError('CONFLICT', `booking ${booking.id} exists`, { cause: err });
        throw err;
      }
    });
    return booking;
  }

  async getBooking(org: string, id: string): Promise<Booking | undefined> {
    const row = await this.#db.one<BookingRow>(
      `SELECT ${BOOKING_READ_COLUMNS} FROM telework_bookings WHERE org = $1 AND id = $2`,
      [org, id],
    );
    return row ? toBooking(row) : undefined;
  }

  async cancelBooking(org: string, id: string, at: number): Promise<Booking | undefined> {
    await this.#db.query(
      `UPDATE telework_bookings SET status = 'cancelled', cancelled_at = $1
       WHERE org = $2 AND id = $3 AND status = 'booked'`,
      [at, org, id],
    );
    return this.getBooking(org, id);
  }

  async listSiteBookings(org: string, siteId: string, from: number, to: number): Promise<Booking[]> {
    const rows = await this.#db.query<BookingRow>(
      `SELECT ${BOOKING_READ_COLUMNS} FROM telework_bookings
       WHERE org = $1 AND site_id = $2 AND status = 'booked' AND start_at < $3 AND end_at > $4
       ORDER BY start_at, place_id COLLATE "C", id COLLATE "C"`,
      [org, siteId, to, from],
    );
    return rows.map(toBooking);
  }

  async listPersonBookings(org: string, sub: string, after: number): Promise<Booking[]> {
    const rows = await this.#db.query<BookingRow>(
      `SELECT ${BOOKING_READ_COLUMNS} FROM telework_bookings
       WHERE org = $1 AND sub = $2 AND status = 'booked' AND end_at > $3 ORDER BY start_at, id COLLATE "C"`,
      [org, sub, after],
    );
    return rows.map(toBooking);
  }

  async checkInBooking(
    org: string,
    id: string,
    at: number,
    source: 'network' | 'manual',
  ): Promise<Booking | undefined> {
    await this.#db.query(
      `UPDATE telework_bookings SET checked_in_at = $1, check_in_source = $2
       WHERE org = $3 AND id = $4 AND status = 'booked' AND checked_in_at IS NULL`,
      [at, source, org, id],
    );
    return this.getBooking(org, id);
  }

  async releaseNoShows(startedBefore: number, at: number, limit: number): Promise<ReleasedBooking[]> {
    // SKIP LOCKED: nodes running the job at once take different rows; the status test decides anyway
    const rows = await this.#db.query<BookingRow & { org: string }>(
      `UPDATE telework_bookings b SET status = 'released', released_at = $1
       FROM (SELECT org, id FROM telework_bookings
             WHERE status = 'booked' AND checked_in_at IS NULL AND start_at <= $2
             ORDER BY start_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
       WHERE b.org = due.org AND b.id = due.id AND b.status = 'booked'
       RETURNING b.org, ${BOOKING_READ_COLUMNS.split(', ')
         .map((c) => `b.${c}`)
         .join(', ')}`,
      [at, startedBefore, limit],
    );
    return rows.map((row) => ({ org: row.org, booking: toBooking(row) }));
  }

  async countNoShows(org: string, sub: string, since: number): Promise<number> {
    const row = await this.#db.one<{ n: string }>(
      `SELECT COUNT(*) AS n FROM telework_bookings WHERE org = $1 AND sub = $2 AND status = 'released' AND start_at >= $3`,
      [org, sub, since],
    );
    return Number(row?.n ?? 0);
  }

  async addSuspension(org: string, sub: string, s: Suspension): Promise<boolean> {
    const row = await this.#db.one(
      `INSERT INTO telework_suspensions (org, sub, from_at, until_at, no_shows) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING 1 AS x`,
      [org, sub, s.from, s.until, s.noShows],
    );
    return row !== undefined;
  }

  async lastSuspension(org: string, sub: string): Promise<Suspension | undefined> {
    const row = await this.#db.one<{ from_at: string; until_at: string; no_shows: number }>(
      `SELECT from_at, until_at, no_shows FROM telework_suspensions WHERE org = $1 AND sub = $2
       ORDER BY from_at DESC LIMIT 1`,
      [org, sub],
    );
    return row ? { from: Number(row.from_at), until: Number(row.until_at), noShows: Number(row.no_shows) } : undefined;
  }
}
