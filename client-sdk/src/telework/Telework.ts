/**
 * The telework client: sites, places and bookings over the server's `/telework` HTTP API (the
 * routes and answers are documented in `@moim/protocol`'s telework.ts). It holds no state and
 * needs no socket — only a URL and a token — so an app can list the sites before it connects (the
 * web app's sign-in page) and `MoimClient.telework` is the same client on the session's token.
 * Refusals reject with a `MoimError` carrying the server's code (BOOKING_CONFLICT, OUTSIDE_HOURS,
 * FORBIDDEN, …); ids that could not be a site, place or booking id are refused here with
 * INVALID_PAYLOAD before any request (a `..` must never become part of a path).
 */
import type {
  Booking,
  BookingListResponse,
  BookingResponse,
  Place,
  PlaceInput,
  PlacePutResponse,
  Site,
  SiteInput,
  SiteListResponse,
  SitePutResponse,
  SiteResponse,
} from '@moim/protocol';
import { MoimError } from '@moim/protocol/client';
import { authorizedJson } from '../http.ts';
import { TELEWORK_ID_RE } from './constants.ts';

export interface TeleworkOptions {
  /** Server base URL (the page's origin in the web app). */
  url: string;
  /** A current token of the caller (called before each request; a cached token is fine). */
  getToken: () => Promise<string> | string;
}

/** An instant: a `Date`, ms since the epoch, or an ISO-8601 string in UTC. */
export type Instant = Date | number | string;

export interface BookRequest {
  siteId: string;
  placeId: string;
  /** Start and end (exclusive) on whole 5 minutes; at most 24 h apart, within one opening day of the site. */
  start: Instant;
  end: Instant;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

function checkId(what: string, id: string): string {
  if (!TELEWORK_ID_RE.test(id))
    throw new MoimError('INVALID_PAYLOAD', `${what}: lowercase letters, digits and -, 1–40`);
  return encodeURIComponent(id);
}

function iso(at: Instant, what: string): string {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) throw new MoimError('INVALID_PAYLOAD', `${what}: not a time`);
  return new Date(ms).toISOString();
}

export class Telework {
  readonly #url: string;
  readonly #getToken: () => Promise<string> | string;

  constructor(options: TeleworkOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#getToken = options.getToken;
  }

  async #call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    return authorizedJson<T>(this.#url, await this.#getToken(), `/telework${path}`, init);
  }

  // ---- sites and places (everyone reads; org admins change) ---------------------------------

  /** The sites of the caller's organisation. */
  async sites(): Promise<Site[]> {
    return (await this.#call<SiteListResponse>('/sites')).sites;
  }

  /** One site with its places. */
  async site(id: string): Promise<SiteResponse> {
    return this.#call<SiteResponse>(`/sites/${checkId('id', id)}`);
  }

  /** Create or replace the site `id` (org admins). */
  async putSite(id: string, input: SiteInput): Promise<SitePutResponse> {
    return this.#call<SitePutResponse>(`/sites/${checkId('id', id)}`, { method: 'PUT', body: input });
  }

  /** Delete a site and its places (org admins). */
  async deleteSite(id: string): Promise<void> {
    await this.#call(`/sites/${checkId('id', id)}`, { method: 'DELETE' });
  }

  /** Create or replace a place of a site (org admins). */
  async putPlace(siteId: string, placeId: string, input: PlaceInput): Promise<PlacePutResponse> {
    return this.#call<PlacePutResponse>(`/sites/${checkId('siteId', siteId)}/places/${checkId('placeId', placeId)}`, {
      method: 'PUT',
      body: input,
    });
  }

  async deletePlace(siteId: string, placeId: string): Promise<void> {
    await this.#call(`/sites/${checkId('siteId', siteId)}/places/${checkId('placeId', placeId)}`, {
      method: 'DELETE',
    });
  }

  /** The places of a site (a shortcut for `site(id).places`). */
  async places(siteId: string): Promise<Place[]> {
    return (await this.site(siteId)).places;
  }

  // ---- bookings ---------------------------------------------------------------------------

  /** Book a place for the caller. Rejects BOOKING_CONFLICT when the slot is taken, OUTSIDE_HOURS, … */
  async book(request: BookRequest): Promise<Booking> {
    checkId('siteId', request.siteId);
    checkId('placeId', request.placeId);
    const body = {
      siteId: request.siteId,
      placeId: request.placeId,
      start: iso(request.start, 'start'),
      end: iso(request.end, 'end'),
    };
    return (await this.#call<BookingResponse>('/bookings', { method: 'POST', body })).booking;
  }

  /** Cancel a booking (its owner or an org admin); cancelling twice answers the cancelled booking. */
  async cancelBooking(id: string): Promise<Booking> {
    if (!UUID_RE.test(id)) throw new MoimError('INVALID_PAYLOAD', 'id: a booking id (UUID)');
    return (await this.#call<BookingResponse>(`/bookings/${id}`, { method: 'DELETE' })).booking;
  }

  /**
   * Check in to my booking by hand (from its check-in window before the start to its end). The
   * server marks it `network` when the request comes from the site's ranges, else `manual` (or
   * refuses FORBIDDEN where the deployment allows only on-site check-in).
   */
  async checkIn(id: string): Promise<Booking> {
    if (!UUID_RE.test(id)) throw new MoimError('INVALID_PAYLOAD', 'id: a booking id (UUID)');
    return (await this.#call<BookingResponse>(`/bookings/${id}/check-in`, { method: 'POST' })).booking;
  }

  /** A site's bookings on a calendar day `YYYY-MM-DD` of the site's time zone (its day view). */
  async bookingsOn(siteId: string, day: string): Promise<Booking[]> {
    const site = checkId('siteId', siteId);
    if (!DAY_RE.test(day)) throw new MoimError('INVALID_PAYLOAD', 'day: YYYY-MM-DD');
    return (await this.#call<BookingListResponse>(`/bookings?siteId=${site}&day=${day}`)).bookings;
  }

  /** The caller's bookings not yet ended. */
  async myBookings(): Promise<Booking[]> {
    return (await this.#call<BookingListResponse>('/bookings/mine')).bookings;
  }
}
