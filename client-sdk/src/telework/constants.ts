/**
 * The telework constants an app builds its forms from (site and place kinds, meeting-room tiers,
 * field limits, booking granularity). They live in `@moim/protocol`'s telework.ts next to the zod
 * schemas, which a browser bundle must not pull in; these are the same values for the zod-free
 * side, and test/sdk-telework.test.ts fails the moment the two differ.
 */
import type { MeetingRoomTier, PlaceKind, SiteKind } from '@moim/protocol';

export const SITE_KINDS = ['hq', 'smart-work-centre', 'home'] as const satisfies readonly SiteKind[];
export const PLACE_KINDS = ['seat', 'meeting-room'] as const satisfies readonly PlaceKind[];
export const MEETING_ROOM_TIERS = ['personal', 'standard', 'immersive'] as const satisfies readonly MeetingRoomTier[];

/** Sizes the server refuses beyond (`TELEWORK_LIMITS` of the protocol). */
export const TELEWORK_LIMITS = {
  idChars: 40,
  nameChars: 100,
  addressChars: 300,
  timeZoneChars: 64,
  networks: 64,
  networkChars: 64,
  capacity: 500,
} as const;

/** Bookings start and end on whole 5 minutes and last at most a day (`BOOKING_LIMITS` of the protocol). */
export const BOOKING_LIMITS = {
  alignMs: 5 * 60_000,
  maxDurationMs: 24 * 60 * 60_000,
} as const;

/** What a site or place id looks like (the protocol's `teleworkIdSchema`, without zod). */
export const TELEWORK_ID_RE = /^[a-z0-9-]{1,40}$/;
