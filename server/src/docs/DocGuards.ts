/**
 * Documents that belong to a record of another service (a work report's document belongs to the
 * report) are open only to whom that service says, whatever the token's document grants — a
 * wildcard grant (`docs: {'*': …}`) must not open a colleague's report. A service claims a name
 * prefix (`report.`) with a guard; every way into a document (the `/yjs` join, every HTTP
 * operation, the list) asks the guard of its prefix, if any. Names without a claimed prefix go by
 * grants alone, as before.
 */
import { MoimError } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { DocRef } from '../storage/DocStore.ts';

/** May `principal` open document `name` (of the principal's org) at all? The grant still decides read or write. */
export type DocGuard = (principal: Principal, name: string) => Promise<boolean>;

export class DocGuards {
  readonly #guards = new Map<string, DocGuard>();
  /**
   * Asked at every `/yjs` join besides the guard (the data-leak policy's `guests` rule, set by the
   * app); throws a MoimError to refuse. Unset: nothing more is asked.
   */
  openCheck: ((principal: Principal, name: string) => Promise<void>) | undefined;
  /**
   * Does the data-leak policy hold this document's content back from the principal (a guest where
   * guests are refused)? Its stored title is content: lists and infos leave it out then. Set by
   * the app; unset: never.
   */
  contentHidden: ((principal: Principal, name: string) => Promise<boolean>) | undefined;
  /**
   * Does the document's data-leak policy refuse guests (people without a `*` document grant)? Set
   * by the app; unset: never. A new title is not told to guests then (`DocTitleNotices`).
   */
  refusesGuests: ((ref: DocRef) => Promise<boolean>) | undefined;

  /** Claim a name prefix (e.g. `report.`); a prefix is claimed once. */
  register(prefix: string, guard: DocGuard): void {
    if (!/^[a-z][a-z0-9-]*\.$/.test(prefix))
      throw new Error(`a guarded prefix is a lowercase word and a dot, not ${prefix}`);
    if (this.#guards.has(prefix)) throw new Error(`document prefix ${prefix} claimed twice`);
    this.#guards.set(prefix, guard);
  }

  /** True when no guard claims the name, or its guard lets the principal in. */
  async allows(principal: Principal, name: string): Promise<boolean> {
    const dot = name.indexOf('.');
    if (dot < 0) return true;
    const guard = this.#guards.get(name.slice(0, dot + 1));
    return guard ? guard(principal, name) : true;
  }

  /** True when `contentHidden` says so. */
  async hidesContent(principal: Principal, name: string): Promise<boolean> {
    return this.contentHidden ? this.contentHidden(principal, name) : false;
  }

  /** True when `refusesGuests` says so. */
  async guestsRefused(ref: DocRef): Promise<boolean> {
    return this.refusesGuests ? this.refusesGuests(ref) : false;
  }

  /** FORBIDDEN unless `allows`. */
  async require(principal: Principal, name: string): Promise<void> {
    if (!(await this.allows(principal, name)))
      throw new MoimError('FORBIDDEN', `document ${name} is not yours to open`);
  }
}
