import { z } from 'zod';
import { DOC_GRANTS, type DocGrant, ROLES, ROOM_GRANTS, type Role, type RoomGrant, TIERS } from './constants.ts';

const id = z.string().min(1).max(128);

/**
 * Grants carried by a token. Keys of `rooms` and `docs` are a room id / document name, or `*`
 * for any. A specific key wins over `*` (so a token can narrow one document to read-only).
 */
export const grantsSchema = z.object({
  rooms: z.record(id, z.array(z.enum(ROOM_GRANTS)).max(5)).default({}),
  docs: z.record(id, z.array(z.enum(DOC_GRANTS)).max(2)).default({}),
  chat: z.boolean().default(false),
  /** Room tiers this person may create. */
  createRooms: z.array(z.enum(TIERS)).max(3).default([]),
});
export type Grants = z.infer<typeof grantsSchema>;

export const siteSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'site ids are lowercase letters, digits, - and _');

/** The claims moim reads from a verified token (standard JWT claims are checked by the verifier). */
export const tokenClaimsSchema = z.object({
  sub: id,
  name: z.string().min(1).max(100),
  org: z.string().min(1).max(64).default('default'),
  teams: z.array(z.string().min(1).max(64)).max(50).default([]),
  site: siteSchema,
  role: z.enum(ROLES),
  grants: grantsSchema,
});
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

/** Look up the grants a token gives for one room / document (specific key first, then `*`). */
export function roomGrantsFor(grants: Grants, roomId: string): readonly RoomGrant[] {
  return ownValue(grants.rooms, roomId) ?? ownValue(grants.rooms, '*') ?? [];
}

export function docGrantsFor(grants: Grants, docName: string): readonly DocGrant[] {
  return ownValue(grants.docs, docName) ?? ownValue(grants.docs, '*') ?? [];
}

/**
 * The value of an own property, never one inherited from `Object.prototype` (a document named
 * `constructor` or a room id `__proto__` must not find a function). Use it for every lookup in a
 * plain object keyed by user input.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * The `sub` of moim's own system account, the sender of its notices in chat. No token may carry
 * it (TOKEN_CLAIMS), so nobody can speak as the system.
 */
export const SYSTEM_SUB = 'moim';

/** Default grants implied by a role for development sign-in. */
export function defaultGrantsFor(role: Role): Grants {
  const moderator = role === 'admin' || role === 'manager';
  return {
    rooms: {
      '*': moderator ? ['join', 'publish', 'subscribe', 'moderate', 'record'] : ['join', 'publish', 'subscribe'],
    },
    docs: { '*': ['read', 'write'] },
    chat: true,
    createRooms: moderator ? ['personal', 'standard', 'immersive'] : ['personal', 'standard'],
  };
}
