/**
 * What the person's token allows, read from its payload so the app does not offer what the
 * server would refuse (a member is not offered immersive rooms). The server still checks every
 * request; this only shapes the interface.
 */
import { CALL_ROOM_PREFIX, TIERS, type Tier } from '@moim/client-sdk';

function payload(token: string | undefined): Record<string, unknown> | undefined {
  const part = token?.split('.')[1];
  if (!part) return undefined;
  try {
    const b64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
    return json && typeof json === 'object' ? (json as Record<string, unknown>) : undefined;
  } catch {
    // not a JWT we can read: offer everything and let the server decide
    return undefined;
  }
}

/** The room tiers this token may create (every tier when the token cannot be read). */
export function creatableTiers(token: string | undefined): Tier[] {
  const grants = payload(token)?.grants as { createRooms?: unknown } | undefined;
  const list = grants?.createRooms;
  if (!Array.isArray(list)) return [...TIERS];
  return TIERS.filter((tier) => list.includes(tier));
}

/**
 * The person's grants in one room as the token says (the room's own entry, else `*`; a call's
 * room as the server gives them), or undefined when the token cannot be read (then the app
 * offers the action and the server decides).
 */
export function roomGrants(token: string | undefined, roomId: string): string[] | undefined {
  // a call's room: the server gives its people exactly these, whatever the token says
  if (roomId.startsWith(CALL_ROOM_PREFIX)) return ['join', 'publish', 'subscribe'];
  const p = payload(token);
  if (!p) return undefined;
  const rooms = (p.grants as { rooms?: unknown } | undefined)?.rooms;
  if (!rooms || typeof rooms !== 'object') return [];
  const own = Object.hasOwn(rooms, roomId) ? (rooms as Record<string, unknown>)[roomId] : undefined;
  const any = Object.hasOwn(rooms, '*') ? (rooms as Record<string, unknown>)['*'] : undefined;
  const list = own ?? any;
  return Array.isArray(list) ? list.filter((g): g is string => typeof g === 'string') : [];
}
