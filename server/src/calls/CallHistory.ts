/**
 * Call history as the call service writes and the routes read it: the store's rows (SQLite, or
 * PostgreSQL shared by every node), at most `keep` entries per person.
 */
import type { CallHistoryEntry, CallHistoryPage } from '@moim/protocol';
import type { CallHistoryStore } from '../storage/index.ts';

export interface CallHistory {
  add(org: string, sub: string, entry: CallHistoryEntry): Promise<void>;
  list(org: string, sub: string, limit: number): Promise<CallHistoryPage>;
  /** Mark every entry read; answers how many were unread. */
  markRead(org: string, sub: string): Promise<number>;
}

export class StoredCallHistory implements CallHistory {
  readonly #store: CallHistoryStore;
  readonly #keep: number;

  constructor(store: CallHistoryStore, keepPerPerson: number) {
    this.#store = store;
    this.#keep = keepPerPerson;
  }

  add(org: string, sub: string, entry: CallHistoryEntry): Promise<void> {
    return this.#store.add(org, sub, entry, this.#keep);
  }

  list(org: string, sub: string, limit: number): Promise<CallHistoryPage> {
    return this.#store.list(org, sub, limit);
  }

  markRead(org: string, sub: string): Promise<number> {
    return this.#store.markRead(org, sub);
  }
}
