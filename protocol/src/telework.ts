import { z } from 'zod';

/**
 * Telework: the sites people work from (headquarters, smart-work centres, home) and the places
 * in them (seats, meeting rooms), as data of an organisation. This file owns their wire shape and
 * the zod schemas every HTTP body goes through.
 *
 * ## HTTP (Bearer token; everything is scoped to the caller's `org`)
 * - `GET /telework/sites` → `{ sites: Site[] }` (every member of the org)
 * - `GET /telework/sites/:id` → `{ site: Site, places: Place[] }` (every member of the org)
 * - `PUT /telework/sites/:id` `SiteInput` → `{ site, created }` (org admins; create or replace)
 * - `DELETE /telework/sites/:id` → `{ deleted: true }` (org admins; its places go with it)
 * - `PUT /telework/sites/:id/places/:placeId` `PlaceInput` → `{ place, created }` (org admins)
 * - `DELETE /telework/sites/:id/places/:placeId` → `{ deleted: true }` (org admins)
 * - `POST /telework/bookings` `BookingInput` → 201 `{ booking }` (the caller books for themself)
 * - `DELETE /telework/bookings/:id` → `{ booking }` (its owner or an org admin; idempotent)
 * - `GET /telework/bookings?siteId=&day=YYYY-MM-DD` → `{ bookings }` (a site's day, in its time zone)
 * - `GET /telework/bookings/mine` → `{ bookings }` (the caller's bookings not yet ended)
 * - `POST /telework/bookings/:id/check-in` → `{ booking }` (its owner, from `MOIM_TELEWORK_CHECKIN_BEFORE_MINUTES`
 *   before its start to its end; source `network` from the site's ranges, else `manual` when
 *   `MOIM_TELEWORK_MANUAL_CHECKIN` allows it, else FORBIDDEN; OUTSIDE_HOURS outside that window)
 *
 * A person's connection from a site's network range checks their bookings there in (source
 * `network`). A booking not checked in `MOIM_TELEWORK_CHECKIN_GRACE_MINUTES` after its start is
 * `released` (a no-show; the place is bookable again); `MOIM_TELEWORK_NO_SHOW_LIMIT` no-shows within
 * `MOIM_TELEWORK_NO_SHOW_WINDOW_DAYS` suspend the person's booking for `MOIM_TELEWORK_SUSPENSION_DAYS`
 * (BOOKING_SUSPENDED, the message names the end).
 *
 * An organisation with no sites yet gets `hq` (Asia/Seoul, Mon–Fri 09:00–18:00) and `home` on its
 * first telework request, so the `site` claims of tokens issued before keep naming a real site.
 * Attendance: attendance.ts.
 */

export const SITE_KINDS = ['hq', 'smart-work-centre', 'home'] as const;
export type SiteKind = (typeof SITE_KINDS)[number];
export const PLACE_KINDS = ['seat', 'meeting-room'] as const;
export type PlaceKind = (typeof PLACE_KINDS)[number];
export const MEETING_ROOM_TIERS = ['personal', 'standard', 'immersive'] as const;
export type MeetingRoomTier = (typeof MEETING_ROOM_TIERS)[number];

export const TELEWORK_LIMITS = {
  idChars: 40,
  nameChars: 100,
  addressChars: 300,
  timeZoneChars: 64,
  networks: 64,
  networkChars: 64,
  capacity: 500,
} as const;

/**
 * Ids a lookup by a person's input must never meet on an object's prototype chain. Stores and
 * services use `Map`s anyway; refusing the names at the edge makes the answer INVALID_PAYLOAD.
 */
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** A site or place id: a slug of lowercase letters, digits and `-`, 1–40 characters. */
export const teleworkIdSchema = z
  .string()
  .min(1)
  .max(TELEWORK_LIMITS.idChars)
  .regex(/^[a-z0-9-]+$/, 'ids are lowercase letters, digits and -')
  .refine((s) => !PROTOTYPE_NAMES.has(s), 'this id is reserved');

/** True when `Intl` knows the zone (IANA names such as `Asia/Seoul`, and `UTC`). */
function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(TELEWORK_LIMITS.timeZoneChars)
  // IANA names only: no numeric offsets such as `+09:00`, which Intl also accepts
  .regex(/^[A-Za-z][A-Za-z0-9_+\-/]*$/, 'an IANA time zone such as Asia/Seoul')
  .refine(isKnownTimeZone, 'unknown time zone');

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (00:00–23:59)');

/** One weekday's opening hours: `open` before `close`, same day. */
export const dayHoursSchema = z
  .object({ open: clockTime, close: clockTime })
  .strict()
  .refine((h) => h.open < h.close, 'open must be before close');
export type DayHours = z.infer<typeof dayHoursSchema>;

/** Opening hours by weekday, index 0 = Sunday … 6 = Saturday; null = closed that day. */
export const openingHoursSchema = z.array(dayHoursSchema.nullable()).length(7);
export type OpeningHours = z.infer<typeof openingHoursSchema>;

/** A network of the site in CIDR notation (`10.20.0.0/16`, `2001:db8::/32`). */
export const cidrSchema = z
  .string()
  .max(TELEWORK_LIMITS.networkChars)
  .pipe(z.union([z.cidrv4(), z.cidrv6()]));

const siteFields = {
  name: z.string().trim().min(1).max(TELEWORK_LIMITS.nameChars),
  address: z.string().max(TELEWORK_LIMITS.addressChars),
  timeZone: timeZoneSchema,
  openingHours: openingHoursSchema,
  networks: z.array(cidrSchema).max(TELEWORK_LIMITS.networks),
  kind: z.enum(SITE_KINDS),
};

export const teleworkSiteSchema = z.object({ id: teleworkIdSchema, ...siteFields }).strict();
export type Site = z.infer<typeof teleworkSiteSchema>;

/** Body of `PUT /telework/sites/:id`: the whole site; `id`, when given, must be the path's. */
export const siteInputSchema = z.object({ id: teleworkIdSchema.optional(), ...siteFields }).strict();
export type SiteInput = z.infer<typeof siteInputSchema>;

const placeFields = {
  kind: z.enum(PLACE_KINDS),
  name: z.string().trim().min(1).max(TELEWORK_LIMITS.nameChars),
  /** Meeting rooms: the video tier they are equipped for; seats: null. */
  tier: z.enum(MEETING_ROOM_TIERS).nullable(),
  capacity: z.number().int().min(1).max(TELEWORK_LIMITS.capacity),
};

const tierMatchesKind = (p: { kind: PlaceKind; tier: MeetingRoomTier | null }) =>
  p.kind === 'meeting-room' ? p.tier !== null : p.tier === null;
const tierMessage = 'meeting rooms have a tier; seats have tier null';

export const teleworkPlaceSchema = z
  .object({ id: teleworkIdSchema, siteId: teleworkIdSchema, ...placeFields })
  .strict()
  .refine(tierMatchesKind, tierMessage);
export type Place = z.infer<typeof teleworkPlaceSchema>;

/** Body of `PUT /telework/sites/:id/places/:placeId`; `id` and `siteId`, when given, must be the path's. */
export const placeInputSchema = z
  .object({ id: teleworkIdSchema.optional(), siteId: teleworkIdSchema.optional(), ...placeFields })
  .strict()
  .refine(tierMatchesKind, tierMessage);
export type PlaceInput = z.infer<typeof placeInputSchema>;

export interface SiteListResponse {
  sites: Site[];
}
export interface SiteResponse {
  site: Site;
  places: Place[];
}
export interface SitePutResponse {
  site: Site;
  created: boolean;
}
export interface PlacePutResponse {
  place: Place;
  created: boolean;
}

// ---- bookings --------------------------------------------------------------------------------

/** `released`: not checked in within the grace time after its start (a no-show); the place is free again. */
export const BOOKING_STATUSES = ['booked', 'cancelled', 'released'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
/** How a booking was checked in: from the site's network range, or by hand (`POST …/check-in`) from elsewhere. */
export const CHECK_IN_SOURCES = ['network', 'manual'] as const;
export type CheckInSource = (typeof CHECK_IN_SOURCES)[number];

export const BOOKING_LIMITS = {
  /** Start and end fall on whole 5 minutes. */
  alignMs: 5 * 60_000,
  /** One booking lasts at most a day. */
  maxDurationMs: 24 * 60 * 60_000,
} as const;

/** A booking id: a UUID the server picks. */
export const bookingIdSchema = z.uuid();

/** An instant as ISO-8601 in UTC (`2026-12-07T01:00:00Z`, milliseconds allowed). */
export const utcInstantSchema = z.iso.datetime({ offset: false, local: false });

/** A booking of one place (seat or meeting room) by one person; `end` is exclusive. */
export const bookingSchema = z
  .object({
    id: bookingIdSchema,
    siteId: teleworkIdSchema,
    placeId: teleworkIdSchema,
    /** The person the place is booked for (the token `sub`; the org is the caller's). */
    sub: z.string().min(1),
    start: utcInstantSchema,
    end: utcInstantSchema,
    status: z.enum(BOOKING_STATUSES),
    createdAt: utcInstantSchema,
    /** When the person was checked in (null until then); stores always fill both check-in fields. */
    checkedInAt: utcInstantSchema.nullable().optional(),
    checkInSource: z.enum(CHECK_IN_SOURCES).nullable().optional(),
  })
  .strict();
export type Booking = z.infer<typeof bookingSchema>;

/** Body of `POST /telework/bookings`: `end` after `start`, at most 24 h, both on whole 5 minutes. */
export const bookingInputSchema = z
  .object({ siteId: teleworkIdSchema, placeId: teleworkIdSchema, start: utcInstantSchema, end: utcInstantSchema })
  .strict()
  .superRefine((b, ctx) => {
    const start = Date.parse(b.start);
    const end = Date.parse(b.end);
    if (start % BOOKING_LIMITS.alignMs !== 0 || end % BOOKING_LIMITS.alignMs !== 0)
      ctx.addIssue({ code: 'custom', path: ['start'], message: 'start and end fall on whole 5 minutes' });
    if (end <= start) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
    if (end - start > BOOKING_LIMITS.maxDurationMs)
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'a booking lasts at most 24 hours' });
  });
export type BookingInput = z.infer<typeof bookingInputSchema>;

/** A calendar day as `YYYY-MM-DD` (the `day` of a site's day view, in the site's time zone). */
export const calendarDaySchema = z.iso.date();

/** Query of `GET /telework/bookings`. */
export const bookingDayQuerySchema = z.object({ siteId: teleworkIdSchema, day: calendarDaySchema }).strict();
export type BookingDayQuery = z.infer<typeof bookingDayQuerySchema>;

export interface BookingResponse {
  booking: Booking;
}
export interface BookingListResponse {
  bookings: Booking[];
}
