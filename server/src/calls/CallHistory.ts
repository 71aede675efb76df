/**
 * Call history: one entry per person and finished call (or per person reached by it), newest
 * first, bounded per person. Missed calls are unread until the person reads their history.
 */
import type { CallHistoryEntry, CallHistoryPage } from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';

export interface CallHistory {
  add(org: string, sub: string, entry: CallHistoryEntry): Promise<void>;
  list(org: string, sub: string, limit: number): Promise<CallHistoryPage>;
  /** Mark every entry read; answers how many were unread. */
  markRead(org: string, sub: string): Promise<number>;
}

/**
 * The history in this node's memory (a `Map` per person, at most `maxPerPerson` entries each,
 * the oldest dropped). It does not survive a restart and is not shared between nodes: see the
 * README's "Calls" for that limit.
 */
export class MemoryCallHistory implements CallHistory {
  readonly #byPerson = new Map<string, CallHistoryEntry[]>();
  readonly #max: number;

  constructor(maxPerPerson: number) {
    this.#max = maxPerPerson;
  }

  async add(org: string, sub: string, entry: CallHistoryEntry): Promise<void> {
    const key = personKey(org, sub);
    let list = this.#byPerson.get(key);
    if (!list) {
      list = [];
      this.#byPerson.set(key, list);
    }
    list.unshift(entry);
    if (list.length > this.#max) list.length = this.#max;
  }

  async list(org: string, sub: string, limit: number): Promise<CallHistoryPage> {
    const list = this.#byPerson.get(personKey(org, sub)) ?? [];
    return { entries: list.slice(0, limit).map((e) => ({ ...e })), unread: list.filter((e) => e.unread).length };
  }

  async markRead(org: string, sub: string): Promise<number> {
    let n = 0;
    for (const e of this.#byPerson.get(personKey(org, sub)) ?? [])
      if (e.unread) {
        e.unread = false;
        n++;
      }
    return n;
  }
}
