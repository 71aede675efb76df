/**
 * The row shapes of the telework tables and their conversion to and from records, shared by the
 * SQLite and PostgreSQL TeleworkStores (opening hours and networks are stored as JSON text, booking
 * times as integer milliseconds since the epoch, on the wire as ISO-8601 UTC).
 */
import type { Booking, OpeningHours, Place, Site } from '@moim/protocol';

export const SITE_COLUMNS = 'id, name, address, time_zone, opening_hours, networks, kind';
export const PLACE_COLUMNS = 'id, site_id, kind, name, tier, capacity';

export interface SiteRow {
  id: string;
  name: string;
  address: string;
  time_zone: string;
  opening_hours: string;
  networks: string;
  kind: Site['kind'];
}

export interface PlaceRow {
  id: string;
  site_id: string;
  kind: Place['kind'];
  name: string;
  tier: Place['tier'];
  capacity: number | string;
}

export function toSite(row: SiteRow): Site {
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    timeZone: row.time_zone,
    openingHours: JSON.parse(row.opening_hours) as OpeningHours,
    networks: JSON.parse(row.networks) as string[],
    kind: row.kind,
  };
}

export function toPlace(row: PlaceRow): Place {
  return {
    id: row.id,
    siteId: row.site_id,
    kind: row.kind,
    name: row.name,
    tier: row.tier,
    capacity: Number(row.capacity),
  };
}

/** name, address, time_zone, opening_hours, networks, kind — in this order. */
export const siteValues = (s: Site): [string, string, string, string, string, string] => [
  s.name,
  s.address,
  s.timeZone,
  JSON.stringify(s.openingHours),
  JSON.stringify(s.networks),
  s.kind,
];

/** kind, name, tier, capacity — in this order. */
export const placeValues = (p: Place): [string, string, string | null, number] => [p.kind, p.name, p.tier, p.capacity];

/** The columns of an insert (bookingValues); check-in fields start empty. */
export const BOOKING_COLUMNS = 'id, site_id, place_id, sub, start_at, end_at, status, created_at';
/** The columns a booking is read with (toBooking). */
export const BOOKING_READ_COLUMNS = `${BOOKING_COLUMNS}, checked_in_at, check_in_source`;

export interface BookingRow {
  id: string;
  site_id: string;
  place_id: string;
  sub: string;
  /** PostgreSQL BIGINT arrives as a string. */
  start_at: number | string;
  end_at: number | string;
  status: Booking['status'];
  created_at: number | string;
  checked_in_at?: number | string | null;
  check_in_source?: 'network' | 'manual' | null;
}

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

export function toBooking(row: BookingRow): Booking {
  return {
    id: row.id,
    siteId: row.site_id,
    placeId: row.place_id,
    sub: row.sub,
    start: iso(row.start_at),
    end: iso(row.end_at),
    status: row.status,
    createdAt: iso(row.created_at),
    checkedInAt: row.checked_in_at == null ? null : iso(row.checked_in_at),
    checkInSource: row.check_in_source ?? null,
  };
}

/** org, id, site_id, place_id, sub, start_at, end_at, status, created_at — in this order. */
export const bookingValues = (
  org: string,
  b: Booking,
): [string, string, string, string, string, number, number, string, number] => [
  org,
  b.id,
  b.siteId,
  b.placeId,
  b.sub,
  Date.parse(b.start),
  Date.parse(b.end),
  b.status,
  Date.parse(b.createdAt),
];
