import type { PersonPresence } from '@moim/protocol';
import { type MoimServer, personRoom } from '../lib/rooms.ts';

/**
 * Where presence changes are published. The single-node implementation emits to socket.io rooms;
 * with the Redis adapter installed the same `io.to(rooms).emit` reaches every node, and a
 * cluster implementation can replace this without touching the service.
 */
export interface PresenceBus {
  /** Deliver one update to every socket in any of `rooms` (once per socket). */
  publish(rooms: readonly string[], presence: PersonPresence): void;
}

export class SocketIoPresenceBus implements PresenceBus {
  readonly #io: MoimServer;
  constructor(io: MoimServer) {
    this.#io = io;
  }

  publish(rooms: readonly string[], presence: PersonPresence): void {
    if (rooms.length === 0) return;
    this.#io.to([...rooms]).emit('presence:update', presence);
  }
}

/** Room names for subscriptions, scoped by organisation (JSON keeps them unambiguous). */
export const presenceRooms = {
  site: (org: string, site: string): string => `presence:${JSON.stringify([org, 'site', site])}`,
  team: (org: string, team: string): string => `presence:${JSON.stringify([org, 'team', team])}`,
  person: (org: string, sub: string): string => `presence:${JSON.stringify([org, 'person', sub])}`,
  /** True for any presence subscription room. */
  isRoom: (room: string): boolean => room.startsWith('presence:'),
  /** True for a subscription room of this organisation (the JSON array starts with the org). */
  inOrg: (room: string, org: string): boolean => room.startsWith(`presence:[${JSON.stringify(org)},`),
};

/**
 * Every room a person's presence update goes to: their own connections, subscribers of the
 * person, of their site (and of the site they just left) and of each of their teams.
 */
export function presenceTargets(
  org: string,
  sub: string,
  site: string | null,
  teams: readonly string[],
  previousSite?: string | null,
): string[] {
  const rooms = [personRoom(org, sub), presenceRooms.person(org, sub)];
  if (site !== null) rooms.push(presenceRooms.site(org, site));
  for (const t of teams) rooms.push(presenceRooms.team(org, t));
  if (previousSite != null && previousSite !== site) rooms.push(presenceRooms.site(org, previousSite));
  return rooms;
}
