import { MoimError } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import type { AuthStore } from '../storage/index.ts';
import { personKey } from './Principal.ts';

/** What was revoked: one session (logout) or every token of a person (they left). */
export type Revocation =
  | { kind: 'session'; sid: string; org: string; sub: string; expiresAt: number }
  | { kind: 'person'; org: string; sub: string; at: number };

/** Tells the other nodes of a revocation at once (Redis in a cluster); unset: this node only. */
export interface RevocationBus {
  publish(r: Revocation): Promise<void>;
  /** Called for revocations made on any node, this one included. */
  onRevoked(fn: (r: Revocation) => void): void;
}

/**
 * Revoked sessions and people, held in memory so `TokenService.verify` (synchronous) refuses their
 * tokens at once with TOKEN_REVOKED. The AuthStore is the record (read at start and every few
 * seconds); the bus brings other nodes' revocations without waiting for that read.
 */
export class Revocations {
  readonly #store: AuthStore;
  readonly #log: Logger;
  #sessions = new Set<string>();
  /** Sessions revoked here (or heard of) and when: kept across a refresh that may have missed them. */
  readonly #applied = new Map<string, number>();
  #people = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners: Array<(r: Revocation) => void> = [];
  #bus: RevocationBus | undefined;

  constructor(opts: { store: AuthStore; log: Logger }) {
    this.#store = opts.store;
    this.#log = opts.log;
  }

  async start(refreshMs = 5_000, bus?: RevocationBus): Promise<void> {
    this.#bus = bus;
    bus?.onRevoked((r) => this.#apply(r));
    await this.refresh();
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.#log.error({ err }, 'revocations: refresh failed'));
    }, refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async refresh(): Promise<void> {
    const started = Date.now();
    const sessions = new Set(await this.#store.revokedSessions(started));
    const people = new Map((await this.#store.revokedPeople()).map((p) => [personKey(p.org, p.sub), p.at]));
    // revocations applied here while the store was read stay (the read may have missed them);
    // older ones are whatever the store says (expired sessions leave memory with it)
    for (const [sid, at] of this.#applied) {
      if (at >= started - 1000) sessions.add(sid);
      else this.#applied.delete(sid);
    }
    for (const [key, at] of this.#people) if (at >= started - 1000 && !people.has(key)) people.set(key, at);
    this.#sessions = sessions;
    this.#people = people;
  }

  /** Listeners see each revocation once it applies here (to drop live connections). */
  onRevoked(fn: (r: Revocation) => void): void {
    this.#listeners.push(fn);
  }

  /** Record, apply here at once, and tell the other nodes. */
  async revoke(r: Revocation, by: string): Promise<void> {
    if (r.kind === 'session') await this.#store.revokeSession(r.sid, r.expiresAt);
    else await this.#store.revokePerson(r.org, r.sub, r.at, by);
    this.#apply(r);
    if (this.#bus)
      await this.#bus
        .publish(r)
        .catch((err: unknown) =>
          this.#log.error(
            { err, kind: r.kind },
            'revocations: could not tell the other nodes (they read it within seconds)',
          ),
        );
  }

  async reinstate(org: string, sub: string): Promise<boolean> {
    const done = await this.#store.reinstatePerson(org, sub);
    this.#people.delete(personKey(org, sub));
    return done;
  }

  isPersonRevoked(org: string, sub: string): boolean {
    return this.#people.has(personKey(org, sub));
  }

  /** TOKEN_REVOKED when the token's session or person was revoked. */
  check(token: { org: string; sub: string; sid?: string | undefined }): void {
    if (token.sid !== undefined && this.#sessions.has(token.sid))
      throw new MoimError('TOKEN_REVOKED', 'this session was signed out');
    if (this.#people.has(personKey(token.org, token.sub)))
      throw new MoimError('TOKEN_REVOKED', 'this person’s access was revoked');
  }

  #apply(r: Revocation): void {
    if (r.kind === 'session') {
      this.#sessions.add(r.sid);
      this.#applied.set(r.sid, Date.now());
    } else this.#people.set(personKey(r.org, r.sub), Math.max(r.at, Date.now()));
    for (const fn of this.#listeners) {
      try {
        fn(r);
      } catch (err) {
        this.#log.error({ err, kind: r.kind }, 'revocations: a listener failed');
      }
    }
  }
}
