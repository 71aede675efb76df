import type { PersonPresence, PresenceResponses, RequestInput } from '@moim/protocol';
import { TypedEmitter } from '@moim/protocol/client';
import { getLogger, LoggerNames } from '../logger.ts';
import type { MoimClient } from '../MoimClient.ts';

const log = getLogger(LoggerNames.Presence);

export type PresenceFilter = RequestInput<'presence:subscribe'>;

export interface PresenceEvents {
  /** A watched person's state, site or status changed (also my own). */
  update: (presence: PersonPresence) => void;
}

/**
 * Presence: set my own state, watch teams, sites and people. Subscriptions are remembered and
 * renewed after a reconnect; people whose state may have changed while this client was offline
 * are fetched again, so the cache is never left stale.
 */
export class Presence extends TypedEmitter<PresenceEvents> {
  readonly #client: MoimClient;
  readonly #teams = new Set<string>();
  readonly #sites = new Set<string>();
  readonly #named = new Set<string>();
  readonly #people = new Map<string, PersonPresence>();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: MoimClient) {
    super();
    this.#client = client;
    client.onServer('presence:update', (p) => this.#apply(p));
    client.addRestorer('presence', () => this.#restore());
  }

  /** Everyone this client knows about (from subscriptions, queries and updates), by `sub`. */
  get people(): ReadonlyMap<string, PersonPresence> {
    return this.#people;
  }

  /** Change my presence: do-not-disturb, status message (`null` clears it), the site I am at now. */
  async set(change: RequestInput<'presence:set'>): Promise<PersonPresence> {
    const me = await this.#client.request('presence:set', change);
    this.#apply(me);
    return me;
  }

  /** Report that this device is in use (`idle: false`) or left alone (`idle: true`). */
  activity(idle = false): Promise<PresenceResponses['presence:activity']> {
    return this.#client.request('presence:activity', { idle });
  }

  /** Watch teams, sites and people; resolves with their current state and keeps it updated. */
  async subscribe(filter: PresenceFilter): Promise<PersonPresence[]> {
    const { people } = await this.#client.request('presence:subscribe', filter);
    for (const t of filter.teams ?? []) this.#teams.add(t);
    for (const s of filter.sites ?? []) this.#sites.add(s);
    for (const p of filter.people ?? []) this.#named.add(p);
    for (const p of people) this.#apply(p);
    return people;
  }

  async unsubscribe(filter: PresenceFilter): Promise<void> {
    for (const t of filter.teams ?? []) this.#teams.delete(t);
    for (const s of filter.sites ?? []) this.#sites.delete(s);
    for (const p of filter.people ?? []) this.#named.delete(p);
    await this.#client.request('presence:unsubscribe', filter);
  }

  /** Who is connected now (at a site, in a team, in some states). */
  async query(q: RequestInput<'presence:query'> = {}): Promise<PersonPresence[]> {
    const { people } = await this.#client.request('presence:query', q);
    for (const p of people) this.#apply(p);
    return people;
  }

  /** The presence of named people, connected or not (with `lastSeen`). */
  async get(people: string[]): Promise<PersonPresence[]> {
    const res = await this.#client.request('presence:get', { people });
    for (const p of res.people) this.#apply(p);
    return res.people;
  }

  /**
   * Browser helper: report this device idle after `idleAfterMs` without input (or when the page
   * is hidden) and active again on the next input. Returns the function that stops watching.
   */
  watchActivity(target: EventTarget, idleAfterMs = 120_000): () => void {
    let idle = false;
    const report = (nowIdle: boolean) => {
      if (nowIdle === idle) return;
      idle = nowIdle;
      this.activity(nowIdle).catch((error: unknown) => {
        log.warn('reporting activity failed', { idle: nowIdle, error });
        // not reported: the next input (or idle timeout) reports it again
        if (idle === nowIdle) idle = !nowIdle;
      });
    };
    const onInput = () => {
      report(false);
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => report(true), idleAfterMs);
    };
    const events = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'focus'];
    for (const e of events) target.addEventListener(e, onInput, { passive: true });
    onInput();
    return () => {
      clearTimeout(this.#idleTimer);
      for (const e of events) target.removeEventListener(e, onInput);
    };
  }

  #apply(p: PersonPresence): void {
    this.#people.set(p.sub, p);
    this.safeEmit('update', p);
  }

  async #restore(): Promise<void> {
    const filter: PresenceFilter = {};
    if (this.#teams.size) filter.teams = [...this.#teams];
    if (this.#sites.size) filter.sites = [...this.#sites];
    if (this.#named.size) filter.people = [...this.#named];
    const seen = new Set<string>();
    if (filter.teams || filter.sites || filter.people) {
      const { people } = await this.#client.request('presence:subscribe', filter);
      for (const p of people) {
        seen.add(p.sub);
        this.#apply(p);
      }
    }
    // people we knew who were not in the answer may have left while we were away
    const stale = [...this.#people.keys()].filter((sub) => !seen.has(sub));
    for (let i = 0; i < stale.length; i += 500) {
      const { people } = await this.#client.request('presence:get', { people: stale.slice(i, i + 500) });
      for (const p of people) this.#apply(p);
    }
  }
}
