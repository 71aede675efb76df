/**
 * What the person's token allows, read from its payload so the app does not offer what the
 * server would refuse (a member is not offered immersive rooms). The server still checks every
 * request; this only shapes the interface.
 */
import { TIERS, type Tier } from '@moim/client-sdk';

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
