/**
 * The read side of presence: the people connected to this node as the PresenceService keeps them
 * (`Person`, `Device`), a person's views (for subscribers and readers: `personView`; for the
 * cluster's directory: `localPerson`), and `PresenceReads`, which answers reads — one person's
 * snapshot, queries by site, team and state, named people (offline ones from the store) and the
 * rooms a subscription joins. With a cluster directory, reads of connected people go to it.
 * Changes, timers and publishing are the PresenceService's.
 */
import type { PersonPresence, PresenceState } from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';
import type { PresenceRecord, PresenceStore } from '../storage/PresenceStore.ts';
import { presenceRooms } from './PresenceBus.ts';
import {
  type DeviceState,
  type LocalPerson,
  type PresenceDirectory,
  type PresenceQueryFilter,
  presenceState,
} from './PresenceDirectory.ts';

/** One connection of a person to this node. */
export interface Device {
  readonly connectionId: string;
  readonly deviceId: string;
  lastActive: number;
  idle: boolean;
  /** Video rooms this connection is in, in the order it joined them (a connection may be in several). */
  rooms: string[];
  /** The room presence shows (`meetingOf(rooms)`), if any. */
  meeting: string | null;
  /** Idle timer; while the device lingers, its grace timer. */
  timer: NodeJS.Timeout | undefined;
  /** When its socket dropped, while it lingers for the grace (PresenceService.disconnect). */
  goneAt: number | undefined;
}

/** A person with at least one device on this node. */
export interface Person {
  readonly sub: string;
  readonly org: string;
  name: string;
  teams: string[];
  site: string;
  status: string | null;
  busy: boolean;
  /** Changed by the person since connecting (a late restore from the store must not override it). */
  statusSet: boolean;
  busySet: boolean;
  readonly devices: Map<string, Device>;
  /** Set once the stored record was read; no update is published before that. */
  ready: boolean;
  /** What subscribers last saw (state|site|status|busy), to publish only real changes. */
  published: string | undefined;
  /** Rooms the last update went to (a site change also tells the old site's subscribers). */
  publishedSite: string | undefined;
}

export type PresenceQuery = PresenceQueryFilter;

/** The person's state over this node's devices. */
export function personState(person: Person): PresenceState {
  return presenceState(person.devices.values(), person.busy);
}

/** The person as subscribers and readers see them; `offlineAt`: the lastSeen once the last device left. */
export function personView(person: Person, offlineAt?: number): PersonPresence {
  let lastSeen = offlineAt ?? 0;
  for (const d of person.devices.values()) lastSeen = Math.max(lastSeen, d.lastActive);
  return {
    sub: person.sub,
    name: person.name,
    state: personState(person),
    site: person.site,
    teams: [...person.teams],
    status: person.status,
    busy: person.busy,
    devices: person.devices.size,
    lastSeen: lastSeen || null,
  };
}

/** This node's devices of the person, as the cluster's directory wants them. */
export function localPerson(person: Person): LocalPerson {
  const devices = new Map<string, DeviceState>();
  for (const d of person.devices.values())
    devices.set(d.connectionId, { idle: d.idle, meeting: d.meeting, rooms: [...d.rooms], lastActive: d.lastActive });
  return {
    org: person.org,
    sub: person.sub,
    name: person.name,
    teams: person.teams,
    site: person.site,
    status: person.status,
    busy: person.busy,
    devices,
  };
}

/** Reads of presence, over the people connected here (by `personKey`) or the cluster's directory. */
export class PresenceReads {
  readonly #people: ReadonlyMap<string, Person>;
  readonly #store: PresenceStore;
  readonly #directory: PresenceDirectory | undefined;

  constructor(opts: {
    people: ReadonlyMap<string, Person>;
    store: PresenceStore;
    directory?: PresenceDirectory | undefined;
  }) {
    this.#people = opts.people;
    this.#store = opts.store;
    this.#directory = opts.directory;
  }

  /** The person's presence if connected to this node (merged over every node in a cluster). */
  async snapshot(org: string, sub: string): Promise<PersonPresence | undefined> {
    const person = this.#people.get(personKey(org, sub));
    if (!person) return undefined;
    const directory = this.#directory;
    if (!directory || !person.ready) return personView(person);
    return (await directory.online(org, [sub]))[0] ?? personView(person);
  }

  /** Connected people matching the filters, by name (on every node in a cluster). */
  async query(q: PresenceQuery): Promise<PersonPresence[]> {
    if (this.#directory) return this.#directory.query(q);
    const out: PersonPresence[] = [];
    for (const person of this.#people.values()) {
      if (person.org !== q.org) continue;
      if (q.site !== undefined && person.site !== q.site) continue;
      if (q.team !== undefined && !person.teams.includes(q.team)) continue;
      const view = personView(person);
      if (q.states && !q.states.includes(view.state)) continue;
      out.push(view);
    }
    out.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.sub.localeCompare(b.sub));
    return out.slice(0, q.limit);
  }

  /** Named people, connected or not; offline ones come from the store (lastSeen survives restarts). */
  async get(org: string, subs: readonly string[]): Promise<PersonPresence[]> {
    const unique = [...new Set(subs)];
    const live = new Map<string, PersonPresence>();
    const missing: string[] = [];
    if (this.#directory) {
      for (const p of await this.#directory.online(org, unique)) live.set(p.sub, p);
      missing.push(...unique.filter((sub) => !live.has(sub)));
    } else
      for (const sub of unique) {
        const person = this.#people.get(personKey(org, sub));
        if (person) live.set(sub, personView(person));
        else missing.push(sub);
      }
    const stored = new Map((await this.#store.get(org, missing)).map((r) => [r.sub, r]));
    return unique.map((sub) => {
      const l = live.get(sub);
      if (l) return l;
      const r = stored.get(sub);
      return r ? offlineView(r) : unknownPerson(sub);
    });
  }

  /** Rooms a subscription joins (org-scoped). */
  subscriptionRooms(
    org: string,
    s: { teams?: readonly string[]; sites?: readonly string[]; people?: readonly string[] },
  ): string[] {
    return [
      ...(s.teams ?? []).map((t) => presenceRooms.team(org, t)),
      ...(s.sites ?? []).map((t) => presenceRooms.site(org, t)),
      ...(s.people ?? []).map((p) => presenceRooms.person(org, p)),
    ];
  }
}

/** A person connected nowhere, from their stored record. */
function offlineView(r: PresenceRecord): PersonPresence {
  return {
    sub: r.sub,
    name: r.name,
    state: 'offline',
    site: r.site,
    teams: r.teams,
    status: r.status,
    busy: r.busy,
    devices: 0,
    lastSeen: r.lastSeen,
  };
}

function unknownPerson(sub: string): PersonPresence {
  return {
    sub,
    name: null,
    state: 'offline',
    site: null,
    teams: [],
    status: null,
    busy: false,
    devices: 0,
    lastSeen: null,
  };
}
