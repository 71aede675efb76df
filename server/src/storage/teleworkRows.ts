/**
 * The row shapes of the telework tables and their conversion to and from records, shared by the
 * SQLite and PostgreSQL TeleworkStores (opening hours and networks are stored as JSON text).
 */
import type { OpeningHours, Place, Site } from '@moim/protocol';

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
