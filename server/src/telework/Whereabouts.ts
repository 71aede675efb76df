/**
 * Whereabouts: where each connected person is, for telework. A connection's address (resolved
 * through the trusted proxies by the gateway's wiring) is matched against the networks of every
 * site of the person's org: a match is "on site X" (source `network`); otherwise the device's
 * declared site (the token's `site` claim) is used, marked `declared`. It follows connections as
 * presence does — a connection ends when the gateway says so, after the heartbeat window — and
 * tells CheckIn (bookings at a site whose network the person is on) and Attendance (first
 * connection, last disconnect). It changes nothing of presence itself.
 */
import { type Principal, personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { Attendance, Located } from './Attendance.ts';
import type { CheckIn } from './CheckIn.ts';
import { siteOfAddress } from './networks.ts';
import type { Sites } from './Sites.ts';

export interface WhereaboutsOptions {
  sites: Sites;
  telework: TeleworkStore;
  checkIn: CheckIn;
  attendance: Attendance;
  log: Logger;
  now: () => number;
  /**
   * Cluster: another node may close the day of someone still connected here (their last
   * connection on that node closed), so the attendance job looks at every connected person each
   * run and reopens such a day. One node: only people whose day is not known settled.
   */
  alwaysLook?: boolean | undefined;
}

interface Tracked {
  /** `personKey` of the connection's person. */
  key: string;
  /** Resolves once the connection is located and its arrival handled. */
  ready: Promise<void>;
  located: Located | undefined;
  since: number;
  /** Set when the connection is gone (or left for another org): late activity of it opens nothing. */
  closed: boolean;
  /** Set once `ready` settled: activity then decides without waiting for it. */
  settled: boolean;
}

export class Whereabouts {
  readonly #o: WhereaboutsOptions;
  readonly #connections = new Map<string, Tracked>();
  /** By person: their connections known here. */
  readonly #people = new Map<string, Set<string>>();

  constructor(opts: WhereaboutsOptions) {
    this.#o = opts;
  }

  /** Where a connection from `address` of `principal` is (undefined: no network matches and the declared site is unknown). */
  async locate(principal: Principal, address: string): Promise<Located | undefined> {
    const org = await this.#o.sites.orgOf(principal);
    const sites = await this.#o.telework.listSites(org);
    const base = { org, sub: principal.sub, teams: principal.token.teams };
    const onSite = siteOfAddress(address, sites);
    if (onSite) return { ...base, siteId: onSite.id, source: 'network' };
    const declared = sites.find((s) => s.id === principal.token.site);
    return declared ? { ...base, siteId: declared.id, source: 'declared' } : undefined;
  }

  /** A connection opened: locate it, check in bookings on a site's network, open the person's day. */
  connected(connectionId: string, principal: Principal, address: string): Promise<void> {
    const since = this.#o.now();
    const key = personKey(principal.token.org, principal.sub);
    const tracked: Tracked = {
      key,
      ready: Promise.resolve(),
      located: undefined,
      since,
      closed: false,
      settled: false,
    };
    let mine = this.#people.get(key);
    if (!mine) {
      mine = new Set();
      this.#people.set(key, mine);
    }
    mine.add(connectionId);
    this.#connections.set(connectionId, tracked);
    tracked.ready = (async () => {
      const located = await this.locate(principal, address);
      tracked.located = located;
      if (!located) {
        this.#o.log.debug({ sub: principal.sub, address }, 'telework: no site for this connection');
        return;
      }
      if (located.source === 'network') await this.#o.checkIn.fromNetwork(located.org, located.sub, located.siteId);
      await this.#o.attendance.arrive(located, this.#o.now());
    })().finally(() => {
      tracked.settled = true;
    });
    return tracked.ready;
  }

  /** A connection closed (the gateway's disconnect, after the heartbeat window): the person's last one closes their day. */
  async disconnected(connectionId: string): Promise<void> {
    const tracked = this.#connections.get(connectionId);
    if (!tracked) return;
    // its arrival first, whatever became of it (its failure was reported by `connected`'s caller)
    await Promise.allSettled([tracked.ready]);
    tracked.closed = true;
    if (this.#connections.get(connectionId) === tracked) this.#connections.delete(connectionId);
    const mine = this.#people.get(tracked.key);
    mine?.delete(connectionId);
    if (mine && mine.size > 0) return;
    this.#people.delete(tracked.key);
    const located = tracked.located;
    if (located) await this.#o.attendance.leave(located.org, located.sub, this.#o.now());
  }

  /**
   * The connection did something: past the person's settled day (a new day began), open it.
   * Runs on every request: once the connection is located and the person's day is settled, it
   * decides synchronously and returns undefined (no promise, no wait on `ready`).
   */
  activity(connectionId: string): Promise<void> | undefined {
    const tracked = this.#connections.get(connectionId);
    if (!tracked) return undefined;
    if (tracked.settled) {
      const located = tracked.closed ? undefined : tracked.located;
      if (!located || !this.#o.attendance.needsLook(located.org, located.sub, this.#o.now())) return undefined;
    }
    return this.#activity(tracked);
  }

  async #activity(tracked: Tracked): Promise<void> {
    // a connection that could not be located has had its failure reported once already
    await Promise.allSettled([tracked.ready]);
    const located = tracked.closed ? undefined : tracked.located;
    const now = this.#o.now();
    if (located && this.#o.attendance.needsLook(located.org, located.sub, now))
      await this.#o.attendance.arrive(located, now);
  }

  /** Each connected person once, where their earliest located connection says (a network match first). */
  people(): Array<{ located: Located; since: number }> {
    const out: Array<{ located: Located; since: number }> = [];
    for (const ids of this.#people.values()) {
      let best: Tracked | undefined;
      for (const id of ids) {
        const t = this.#connections.get(id);
        if (!t?.located) continue;
        const better =
          !best ||
          (t.located.source === 'network' && best.located?.source !== 'network') ||
          (t.located.source === best.located?.source && t.since < best.since);
        if (better) best = t;
      }
      if (best?.located) out.push({ located: best.located, since: best.since });
    }
    return out;
  }

  /** The no-show job's first step: bookings whose window opened while their person was already on site. */
  async checkInConnected(): Promise<number> {
    let n = 0;
    for (const { located } of this.people())
      if (located.source === 'network')
        n += (await this.#o.checkIn.fromNetwork(located.org, located.sub, located.siteId)).length;
    return n;
  }

  /** The attendance job's second step: a new working day opens for people still connected since before it. */
  async openDays(now: number): Promise<number> {
    let n = 0;
    for (const { located, since } of this.people()) {
      const look = this.#o.alwaysLook || this.#o.attendance.needsLook(located.org, located.sub, now);
      if (look && (await this.#o.attendance.arrive(located, now, since))) n++;
    }
    return n;
  }
}
