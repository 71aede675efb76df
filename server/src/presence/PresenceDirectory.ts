/**
 * Presence across nodes. On one node the PresenceService aggregates a person's devices itself; in
 * a cluster a person's devices may sit on several nodes, so each node reports its own devices of
 * the person to a directory (Redis: cluster/RedisPresence.ts) that merges them with the other
 * nodes' and publishes the person's presence when — and only when — the merged view changed.
 */
import { CALL_ROOM_PREFIX, type PersonPresence, type PresenceState } from '@moim/protocol';

/** One device as its node sees it. */
export interface DeviceState {
  idle: boolean;
  /** The video room presence shows for the connection (`meetingOf(rooms)`), if any. */
  meeting: string | null;
  /** Every video room the connection is in (a connection may join several). */
  rooms: string[];
  lastActive: number;
}

/** The room a connection in `rooms` shows as: a call's room first (in a call), else the last joined. */
export function meetingOf(rooms: readonly string[]): string | null {
  return rooms.find((r) => r.startsWith(CALL_ROOM_PREFIX)) ?? rooms[rooms.length - 1] ?? null;
}

/** What one node knows of a person: the token's word on who they are, and its own devices. */
export interface LocalPerson {
  org: string;
  sub: string;
  name: string;
  teams: readonly string[];
  /** Fields the person controls; they seed the shared record when no node has one yet. */
  site: string;
  status: string | null;
  busy: boolean;
  /** This node's devices of the person, by connection id (empty: none left here). */
  devices: ReadonlyMap<string, DeviceState>;
}

/** Fields the person sets (`presence:set`), shared by all their devices on every node. */
export interface PersonFields {
  site: string;
  status: string | null;
  busy: boolean;
}

export interface PresenceQueryFilter {
  org: string;
  site?: string | undefined;
  team?: string | undefined;
  states?: readonly PresenceState[] | undefined;
  limit: number;
}

export interface PresenceDirectory {
  /**
   * Replace this node's devices of the person and publish the merged presence if it changed.
   * Resolves with the merged view (offline when no node has a device left).
   */
  report(person: LocalPerson): Promise<PersonPresence>;
  /** The person changed what they control, on this node: every node's view follows. */
  setFields(org: string, sub: string, fields: PersonFields): Promise<void>;
  /** Connected people (on any node) matching the filters, by name. */
  query(q: PresenceQueryFilter): Promise<PersonPresence[]>;
  /** The merged presence of these people who are connected somewhere (others are left out). */
  online(org: string, subs: readonly string[]): Promise<PersonPresence[]>;
  /** The video rooms the person's devices are in, on every node. */
  meetingsOf(org: string, sub: string): Promise<Set<string>>;
  close(): Promise<void>;
}

/**
 * The presence rules (see @moim/protocol presence.ts), over devices wherever they are: offline
 * without devices; busy (set by the person) wins; then in-call if any device is in a call's
 * video room, in-meeting if in another video room; online if any device is active; else away.
 */
export function presenceState(devices: Iterable<DeviceState>, busy: boolean): PresenceState {
  let count = 0;
  let active = false;
  let meeting = false;
  let inCall = false;
  for (const d of devices) {
    count++;
    if (d.meeting !== null) meeting = true;
    if (d.meeting?.startsWith(CALL_ROOM_PREFIX)) inCall = true;
    if (!d.idle) active = true;
  }
  if (count === 0) return 'offline';
  if (busy) return 'busy';
  // a call's video room (`call-…`) shows as in a call, any other room as in a meeting
  if (inCall) return 'in-call';
  if (meeting) return 'in-meeting';
  return active ? 'online' : 'away';
}

/** What subscribers compare: a change of any of these is published. */
export function publishedKey(view: Pick<PersonPresence, 'state' | 'site' | 'busy' | 'status'>): string {
  return `${view.state}|${view.site}|${view.busy}|${view.status ?? ''}`;
}
