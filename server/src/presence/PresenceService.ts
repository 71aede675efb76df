/**
 * Presence of the people connected to this node: devices connecting, leaving, turning idle and
 * joining video rooms, the fields a person sets, publishing real changes (to subscribers, or in a
 * cluster reporting to the directory) and storing lastSeen. Reads and views: `PresenceViews.ts`.
 */
import type { PersonPresence, PresenceState } from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { PresenceRecord, PresenceStore } from '../storage/PresenceStore.ts';
import { type PresenceBus, presenceTargets } from './PresenceBus.ts';
import { type LocalPerson, meetingOf, type PresenceDirectory, publishedKey } from './PresenceDirectory.ts';
import {
  type Device,
  localPerson,
  type Person,
  type PresenceQuery,
  PresenceReads,
  personState,
  personView,
} from './PresenceViews.ts';

export type { PresenceQuery } from './PresenceViews.ts';

export interface PresenceServiceOptions {
  store: PresenceStore;
  bus: PresenceBus;
  log: Logger;
  /** A device idle this long counts as away (`MOIM_AWAY_AFTER_MS`). */
  awayAfterMs: number;
  /**
   * A device whose connection dropped (`LINGERING_REASONS`) still counts this long, so a network
   * blip that reconnects within it changes nothing anyone sees (`MOIM_PRESENCE_GRACE_MS`). 0: gone at once.
   */
  graceMs?: number | undefined;
  now?: () => number;
  /**
   * The cluster's presence directory: this node reports its devices there and the directory
   * merges every node's and publishes. Unset: one node aggregates and publishes by itself.
   */
  directory?: PresenceDirectory | undefined;
}

/**
 * Why a socket ended (socket.io's reasons) when the device may be back in a moment: the
 * connection closed or failed under it (a proxy, a network change, a laptop waking up). A device
 * dropped by the heartbeat (`ping timeout`) was silent for the whole heartbeat window already and
 * ends at once, as do a client that disconnected itself, a server that disconnected it (revoked,
 * shutting down) and a changed identity.
 */
const LINGERING_REASONS: ReadonlySet<string> = new Set(['transport close', 'transport error']);

/** Who a new device belongs to (from the verified token). */
export interface DeviceIdentity {
  connectionId: string;
  deviceId: string;
  sub: string;
  org: string;
  name: string;
  teams: readonly string[];
  site: string;
}

/**
 * Presence of everyone connected to this node, aggregated per person over their devices.
 * Rules (see @moim/protocol presence.ts): offline without devices; busy (set by the person) wins;
 * then in-meeting if any device is in a video room; online if any device is active; else away.
 * A device turns idle `awayAfterMs` after its last activity (one lazy timer per device, not one
 * per request). Soft state: only the status message, do-not-disturb and lastSeen are stored.
 * A device whose socket dropped lingers for `graceMs` as it was (its meeting included, as the
 * media room holds its place): the same device connecting again within it takes over without a
 * flicker to offline; otherwise it leaves at the end of the grace, with lastSeen when it dropped.
 */
export class PresenceService {
  readonly #opts: PresenceServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  /** By `personKey(org, sub)`: the same sub in another organisation is another person. */
  readonly #people = new Map<string, Person>();
  readonly #byConnection = new Map<string, Person>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #reads: PresenceReads;
  #closed = false;

  constructor(opts: PresenceServiceOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#reads = new PresenceReads({ people: this.#people, store: opts.store, directory: opts.directory });
  }

  /** A device connected. Resolves once the person's stored status is restored and the change published. */
  async connect(id: DeviceIdentity): Promise<void> {
    if (this.#closed) return;
    const now = this.#now();
    const key = personKey(id.org, id.sub);
    let person = this.#people.get(key);
    const first = !person;
    if (!person) {
      person = {
        sub: id.sub,
        org: id.org,
        name: id.name,
        teams: [...id.teams],
        site: id.site,
        status: null,
        busy: false,
        statusSet: false,
        busySet: false,
        devices: new Map(),
        ready: false,
        published: undefined,
        publishedSite: undefined,
      };
      this.#people.set(key, person);
    } else {
      // the newest token is the freshest word on name and teams
      person.name = id.name;
      person.teams = [...id.teams];
    }
    const device: Device = {
      connectionId: id.connectionId,
      deviceId: id.deviceId,
      lastActive: now,
      idle: false,
      rooms: [],
      meeting: null,
      timer: undefined,
      goneAt: undefined,
    };
    person.devices.set(id.connectionId, device);
    this.#byConnection.set(id.connectionId, person);
    this.#armIdleTimer(person, device);
    // the device is back: what lingered of it without a meeting to carry over goes now
    for (const d of [...person.devices.values()]) if (this.#succeeded(person, d)) this.#forget(person, d);
    if (!first) {
      this.#publishIfChanged(person);
      return;
    }
    const p = person;
    await this.#track(
      (async () => {
        try {
          const [stored] = await this.#opts.store.get(p.org, [p.sub]);
          if (stored) {
            if (!p.statusSet) p.status = stored.status;
            if (!p.busySet) p.busy = stored.busy;
          }
        } catch (err) {
          this.#log.warn({ err, sub: p.sub }, 'presence: could not read the stored record');
        }
        p.ready = true;
        if (this.#people.get(key) !== p) return; // gone again meanwhile
        this.#publishIfChanged(p);
        await this.#save(p, now);
      })(),
    );
  }

  /**
   * A device's socket is gone (closed, or dropped by the heartbeat). `reason`: socket.io's; one of
   * `LINGERING_REASONS` keeps the device for the grace, anything else (or none) ends it now.
   */
  disconnect(connectionId: string, reason?: string): void {
    const person = this.#byConnection.get(connectionId);
    const device = person?.devices.get(connectionId);
    if (!person || !device || device.goneAt !== undefined) return;
    const graceMs = this.#opts.graceMs ?? 0;
    if (graceMs <= 0 || reason === undefined || !LINGERING_REASONS.has(reason) || this.#closed) {
      this.#remove(connectionId);
      return;
    }
    device.goneAt = this.#now();
    if (device.timer) clearTimeout(device.timer);
    device.timer = setTimeout(() => {
      device.timer = undefined;
      if (person.devices.get(connectionId) === device) this.#remove(connectionId);
    }, graceMs);
    device.timer.unref();
  }

  #forget(person: Person, device: Device): void {
    if (device.timer) clearTimeout(device.timer);
    person.devices.delete(device.connectionId);
    this.#byConnection.delete(device.connectionId);
  }

  /** Connections whose sockets dropped and that still count for the grace. */
  get lingering(): number {
    let n = 0;
    for (const person of this.#people.values())
      for (const d of person.devices.values()) if (d.goneAt !== undefined) n++;
    return n;
  }

  /** A lingering device the same device connected again for, and that has no meeting left to carry. */
  #succeeded(person: Person, device: Device): boolean {
    if (device.goneAt === undefined || device.rooms.length > 0) return false;
    for (const d of person.devices.values()) if (d.goneAt === undefined && d.deviceId === device.deviceId) return true;
    return false;
  }

  /** The device leaves: the person goes offline (lastSeen: when its socket dropped) if it was the last one. */
  #remove(connectionId: string): void {
    const person = this.#byConnection.get(connectionId);
    const device = person?.devices.get(connectionId);
    if (!person || !device) return;
    this.#forget(person, device);
    if (person.devices.size > 0) {
      this.#publishIfChanged(person);
      return;
    }
    this.#people.delete(personKey(person.org, person.sub));
    const lastSeen = device.goneAt ?? this.#now();
    if (this.#opts.directory) {
      // the directory says whether the person is still online elsewhere, and has their latest fields
      if (person.ready)
        void this.#track(this.#report(person).then((merged) => merged && this.#saveView(person, merged)));
      return;
    }
    if (person.ready) this.#publish(person, personView(person, lastSeen));
    void this.#track(this.#save(person, lastSeen));
  }

  /** The device did something (any request), or reported that the person stepped away (`idle`). */
  activity(connectionId: string, idle = false): PresenceState | undefined {
    const person = this.#byConnection.get(connectionId);
    const device = person?.devices.get(connectionId);
    if (!person || !device || device.goneAt !== undefined) return undefined;
    if (idle) {
      if (!device.idle) {
        device.idle = true;
        if (device.timer) clearTimeout(device.timer);
        device.timer = undefined;
        this.#publishIfChanged(person);
      }
      return personState(person);
    }
    device.lastActive = this.#now();
    if (device.idle) {
      device.idle = false;
      this.#publishIfChanged(person);
    }
    if (!device.timer) this.#armIdleTimer(person, device);
    return personState(person);
  }

  /**
   * The connection's token was refreshed. Another organisation: the device leaves the old org's
   * person (who may go offline) and joins the new one. Same organisation: name and teams follow
   * the newest token.
   */
  async reidentify(id: DeviceIdentity): Promise<void> {
    const person = this.#byConnection.get(id.connectionId);
    if (!person) return;
    if (person.org !== id.org || person.sub !== id.sub) {
      this.disconnect(id.connectionId);
      await this.connect(id);
      return;
    }
    const teamsChanged = person.teams.join('\n') !== id.teams.join('\n');
    if (!teamsChanged && person.name === id.name) return;
    person.name = id.name;
    person.teams = [...id.teams];
    // subscribers of a team the person just joined learn about them now
    if (person.ready && this.#opts.directory) void this.#track(this.#report(person));
    else if (person.ready) this.#publish(person, personView(person));
  }

  /** Change what the person controls. Returns their presence afterwards. */
  set(
    org: string,
    sub: string,
    change: { busy?: boolean; status?: string | null; site?: string },
  ): PersonPresence | undefined {
    const person = this.#people.get(personKey(org, sub));
    if (!person) return undefined;
    if (change.busy !== undefined) {
      person.busy = change.busy;
      person.busySet = true;
    }
    if (change.status !== undefined) {
      const s = change.status?.trim() ?? '';
      person.status = s === '' ? null : s;
      person.statusSet = true;
    }
    if (change.site !== undefined) person.site = change.site;
    person.ready = true;
    const directory = this.#opts.directory;
    if (directory) {
      const fields = { site: person.site, status: person.status, busy: person.busy };
      void this.#track(
        directory
          .setFields(person.org, person.sub, fields)
          .catch((err: unknown) => this.#log.warn({ err, sub: person.sub }, 'presence: could not share a change')),
      );
    } else this.#publishIfChanged(person);
    void this.#track(this.#save(person, this.#now()));
    return personView(person);
  }

  /**
   * A connection joined (`joined`) or left a video room. Wired to the media service's member
   * events; `in-meeting` lasts while any of the person's connections is in any room — a
   * connection may be in several, and leaving one keeps it in the others. Returns false when the
   * connection is not known here.
   */
  setMeeting(sub: string, connectionId: string, roomId: string, joined: boolean): boolean {
    const person = this.#byConnection.get(connectionId);
    if (!person || person.sub !== sub) return false;
    const device = person.devices.get(connectionId);
    if (!device) return false;
    const at = device.rooms.indexOf(roomId);
    if (joined === at >= 0) return true;
    if (joined) device.rooms.push(roomId);
    else device.rooms.splice(at, 1);
    device.meeting = meetingOf(device.rooms);
    // a lingering device whose meeting moved to its successor (the media peer was taken over)
    if (this.#succeeded(person, device)) this.#remove(connectionId);
    else this.#publishIfChanged(person);
    return true;
  }

  /** The person's presence if connected to this node (merged over every node in a cluster). */
  snapshot(org: string, sub: string): Promise<PersonPresence | undefined> {
    return this.#reads.snapshot(org, sub);
  }

  /**
   * Whether a device of the person is in the video room now: this node's devices (their member
   * events are synchronous), then, in a cluster, every node's as the directory has them.
   */
  async inRoom(org: string, sub: string, roomId: string): Promise<boolean> {
    const person = this.#people.get(personKey(org, sub));
    for (const d of person?.devices.values() ?? []) if (d.rooms.includes(roomId)) return true;
    return (await this.#opts.directory?.meetingsOf(org, sub))?.has(roomId) ?? false;
  }

  /** Connected people matching the filters, by name (on every node in a cluster). */
  query(q: PresenceQuery): Promise<PersonPresence[]> {
    return this.#reads.query(q);
  }

  /** Named people, connected or not; offline ones come from the store (lastSeen survives restarts). */
  get(org: string, subs: readonly string[]): Promise<PersonPresence[]> {
    return this.#reads.get(org, subs);
  }

  /** Rooms a subscription joins (org-scoped). */
  subscriptionRooms(
    org: string,
    s: { teams?: readonly string[]; sites?: readonly string[]; people?: readonly string[] },
  ): string[] {
    return this.#reads.subscriptionRooms(org, s);
  }

  get connectedPeople(): number {
    return this.#people.size;
  }

  /** Stop timers and persist everyone's lastSeen. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const now = this.#now();
    for (const person of this.#people.values()) {
      for (const d of person.devices.values()) if (d.timer) clearTimeout(d.timer);
      if (this.#opts.directory && person.ready) {
        // a draining node takes its devices out of the cluster now, not when their leases lapse
        person.devices.clear();
        void this.#track(this.#report(person).then((merged) => merged && this.#saveView(person, merged)));
      } else void this.#track(this.#save(person, now));
    }
    this.#people.clear();
    this.#byConnection.clear();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #armIdleTimer(person: Person, device: Device): void {
    if (this.#closed) return;
    const wait = Math.max(0, device.lastActive + this.#opts.awayAfterMs - this.#now());
    device.timer = setTimeout(() => {
      device.timer = undefined;
      if (person.devices.get(device.connectionId) !== device) return;
      if (this.#now() - device.lastActive >= this.#opts.awayAfterMs) {
        device.idle = true;
        this.#publishIfChanged(person);
      } else {
        this.#armIdleTimer(person, device);
      }
    }, wait);
    device.timer.unref();
  }

  #publishIfChanged(person: Person): void {
    if (!person.ready) return;
    if (this.#opts.directory) {
      void this.#track(this.#report(person));
      return;
    }
    const view = personView(person);
    if (publishedKey(view) === person.published) return;
    this.#publish(person, view);
  }

  #publish(person: Person, view: PersonPresence): void {
    person.published = publishedKey(view);
    const rooms = presenceTargets(person.org, person.sub, person.site, person.teams, person.publishedSite);
    person.publishedSite = person.site;
    try {
      this.#opts.bus.publish(rooms, view);
    } catch (err) {
      this.#log.error({ err, sub: person.sub }, 'presence: publish failed');
    }
  }

  async #save(person: Person, lastSeen: number): Promise<void> {
    const record: PresenceRecord = {
      sub: person.sub,
      org: person.org,
      name: person.name,
      site: person.site,
      teams: person.teams,
      status: person.status,
      busy: person.busy,
      lastSeen,
    };
    try {
      await this.#opts.store.save(record);
    } catch (err) {
      this.#log.warn({ err, sub: person.sub }, 'presence: could not store lastSeen');
    }
  }

  /** Cluster: report this node's devices of the person; the merged view, or undefined when Redis failed. */
  async #report(person: Person): Promise<PersonPresence | undefined> {
    try {
      return await this.#opts.directory!.report(localPerson(person));
    } catch (err) {
      // the next change or lease renewal reports again
      this.#log.warn({ err, sub: person.sub }, 'presence: could not report to the cluster');
      return undefined;
    }
  }

  /** Cluster: store lastSeen with the person's shared fields once they are offline everywhere. */
  async #saveView(person: Person, merged: PersonPresence): Promise<void> {
    if (merged.state !== 'offline') return;
    await this.#save(
      { ...person, status: merged.status, busy: merged.busy, site: merged.site ?? person.site },
      this.#now(),
    );
  }

  /** Every person with a device on this node, as the cluster's directory wants them. */
  *localPeople(): Iterable<LocalPerson> {
    for (const person of this.#people.values()) if (person.ready) yield localPerson(person);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
    return p;
  }
}
