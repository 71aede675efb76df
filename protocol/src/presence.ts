import { z } from 'zod';
import { siteSchema } from './claims.ts';
import { PRESENCE_STATES, type PresenceState } from './constants.ts';

/**
 * Presence: who is around, where, and whether they can be reached.
 *
 * A person's `state` is aggregated over every connected device (socket):
 * - `offline`: no device is connected;
 * - `busy`: the person set do-not-disturb (wins over every other state while connected);
 * - `in-call`: at least one device is in a call's video room (id `call-…`, see calls.ts);
 * - `in-meeting`: at least one device is in another video room;
 * - `online`: at least one device was active within the away delay (`MOIM_AWAY_AFTER_MS`);
 * - `away`: every device has been idle longer than that.
 *
 * Activity is any request a device sends (or `presence:activity`). A device that vanishes
 * without closing is dropped by the heartbeat (`MOIM_HEARTBEAT_TIMEOUT_MS`).
 *
 * Pushes: after `presence:subscribe`, every change of a person inside one of the subscribed
 * teams, sites or named people arrives as `presence:update` (once per change, even when a person
 * matches several subscriptions). A person's own devices always get their own updates.
 */

const personId = z.string().min(1).max(128);
const teamId = z.string().min(1).max(64);

export const PRESENCE_LIMITS = {
  statusChars: 200,
  /** Teams, sites or people in one subscribe/query call. */
  perCall: 500,
} as const;

/** Client→server requests of this area: event name → zod schema of its payload. */
export const presenceRequests = {
  /** Change my presence: do-not-disturb, status message, the site I am at now. */
  'presence:set': z
    .object({
      busy: z.boolean().optional(),
      /** `null` clears the status message. */
      status: z.string().max(PRESENCE_LIMITS.statusChars).nullable().optional(),
      site: siteSchema.optional(),
    })
    .strict(),
  /** This device is in use (`idle: false`, default) or the person stepped away from it (`idle: true`). */
  'presence:activity': z.object({ idle: z.boolean().optional() }).strict(),
  /** Receive `presence:update` for these teams, sites and people; answers their current state. */
  'presence:subscribe': z
    .object({
      teams: z.array(teamId).max(50).optional(),
      sites: z.array(siteSchema).max(50).optional(),
      people: z.array(personId).max(PRESENCE_LIMITS.perCall).optional(),
    })
    .strict(),
  'presence:unsubscribe': z
    .object({
      teams: z.array(teamId).max(50).optional(),
      sites: z.array(siteSchema).max(50).optional(),
      people: z.array(personId).max(PRESENCE_LIMITS.perCall).optional(),
    })
    .strict(),
  /** Who is connected now: at a site, in a team (both filters combine), optionally only in some states. */
  'presence:query': z
    .object({
      site: siteSchema.optional(),
      team: teamId.optional(),
      states: z.array(z.enum(PRESENCE_STATES)).max(PRESENCE_STATES.length).optional(),
      limit: z.number().int().min(1).max(1000).default(200),
    })
    .strict(),
  /** The presence of named people, connected or not (`lastSeen` for those offline; kept across restarts). */
  'presence:get': z.object({ people: z.array(personId).min(1).max(PRESENCE_LIMITS.perCall) }).strict(),
} as const satisfies Record<string, z.ZodType>;

export interface PersonPresence {
  sub: string;
  /** Display name; null for someone this server has never seen. */
  name: string | null;
  state: PresenceState;
  /** Where the person is (`hq`, a smart-office id, `home`); null if never seen. */
  site: string | null;
  teams: string[];
  status: string | null;
  busy: boolean;
  /** Connected devices. */
  devices: number;
  /** Milliseconds since the epoch: last activity (connected) or when the last device left (offline); null if never seen. */
  lastSeen: number | null;
}

/** Response data for each request above (the acknowledgement carries `{ data }`). */
export interface PresenceResponses {
  'presence:set': PersonPresence;
  'presence:activity': { state: PresenceState };
  'presence:subscribe': { people: PersonPresence[] };
  'presence:unsubscribe': Record<string, never>;
  'presence:query': { people: PersonPresence[] };
  'presence:get': { people: PersonPresence[] };
}

/** Server→client events of this area. */
export interface PresenceServerEvents {
  /** A watched person's state, site or status changed. */
  'presence:update': (presence: PersonPresence) => void;
}
