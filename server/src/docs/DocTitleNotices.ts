/**
 * A renamed document's new title reaches, at once, the people who have it open: the people behind
 * this node's `/yjs` connections to it (joined: they passed the grant, guard and policy checks), as
 * a socket.io `doc:title` on every socket of theirs (`publish`, set by the app: their person rooms,
 * which the cluster adapter delivers on any node). Not over `/yjs` itself: stock y-websocket clients
 * must never see a message type they do not know. In a cluster the app relays each rename made here
 * (`relay`) and every node tells its own holders (`changed` with `here` false). Guests a document's
 * data-leak policy shuts out are not told (their connections are being closed; the check here
 * covers the moment in between). Owns no state.
 */
import type { DocTitleEvent } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import type { DocRef } from '../storage/DocStore.ts';
import type { DocConnection } from './DocConnection.ts';
import type { DocGuards } from './DocGuards.ts';

export class DocTitleNotices {
  /** Deliver to every socket of these people of `org` (set by the app; unset: nobody is told). */
  publish: ((org: string, subs: readonly string[], event: DocTitleEvent) => void) | undefined;
  /** Carry a rename made here to the other nodes (set by the app in a cluster). */
  relay: ((org: string, event: DocTitleEvent) => void) | undefined;
  readonly #holders: (ref: DocRef) => Iterable<DocConnection>;
  readonly #guards: DocGuards;
  readonly #log: Logger;

  constructor(opts: { holders: (ref: DocRef) => Iterable<DocConnection>; guards: DocGuards; log: Logger }) {
    this.#holders = opts.holders;
    this.#guards = opts.guards;
    this.#log = opts.log;
  }

  /**
   * A title changed (`here`: by a request to this node, which then relays it). Tells this node's
   * holders; never throws (a failure is logged: the rename itself stands).
   */
  async changed(org: string, event: DocTitleEvent, here: boolean): Promise<void> {
    if (here) this.#relay(org, event);
    try {
      const subs = await this.#audience({ org, name: event.name });
      if (subs.length > 0) this.publish?.(org, subs, event);
    } catch (err) {
      this.#log.warn({ err, org, doc: event.name }, 'telling a document’s open editors its new title failed');
    }
  }

  #relay(org: string, event: DocTitleEvent): void {
    try {
      this.relay?.(org, event);
    } catch (err) {
      this.#log.warn({ err, org, doc: event.name }, 'relaying a document’s new title to the other nodes failed');
    }
  }

  /** The people (subs) with an open connection to the document here who may see its title. */
  async #audience(ref: DocRef): Promise<string[]> {
    const members = new Set<string>();
    const guests = new Set<string>();
    for (const conn of this.#holders(ref)) {
      if (conn.closed || conn.org !== ref.org) continue;
      (conn.wildcardGrant ? members : guests).add(conn.sub);
    }
    for (const sub of members) guests.delete(sub);
    if (guests.size > 0 && !(await this.#guards.guestsRefused(ref))) for (const sub of guests) members.add(sub);
    return [...members];
  }
}
