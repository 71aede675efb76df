/**
 * Call history as the call service writes and the routes read it: the store's rows (SQLite, or
 * PostgreSQL shared by every node), at most `keep` entries per person. An invitation's entry
 * names its meeting; whether that meeting is still open is read with the history (`meetingOpen`).
 */
import type { CallHistoryEntry, CallHistoryPage } from '@moim/protocol';
import type { CallHistoryRecord, CallHistoryStore } from '../storage/index.ts';

export interface CallHistory {
  add(org: string, sub: string, entry: CallHistoryRecord): Promise<void>;
  list(org: string, sub: string, limit: number): Promise<CallHistoryPage>;
  /** Mark every entry read; answers how many were unread. */
  markRead(org: string, sub: string): Promise<number>;
}

/** Whether the meeting room `roomId` of `org` is open (exists there and is not closed). */
export type MeetingOpen = (org: string, roomId: string) => Promise<boolean>;

export class StoredCallHistory implements CallHistory {
  readonly #store: CallHistoryStore;
  readonly #keep: number;
  readonly #meetingOpen: MeetingOpen;

  constructor(store: CallHistoryStore, keepPerPerson: number, meetingOpen: MeetingOpen) {
    this.#store = store;
    this.#keep = keepPerPerson;
    this.#meetingOpen = meetingOpen;
  }

  add(org: string, sub: string, entry: CallHistoryRecord): Promise<void> {
    return this.#store.add(org, sub, entry, this.#keep);
  }

  async list(org: string, sub: string, limit: number): Promise<CallHistoryPage> {
    const page = await this.#store.list(org, sub, limit);
    // one look-up per meeting, however many entries name it
    const open = new Map<string, Promise<boolean>>();
    const entries = await Promise.all(
      page.entries.map(async (e): Promise<CallHistoryEntry> => {
        if (!e.meeting) return { ...e, meeting: null };
        const roomId = e.meeting.roomId;
        let known = open.get(roomId);
        if (!known) {
          known = this.#meetingOpen(org, roomId);
          open.set(roomId, known);
        }
        return { ...e, meeting: { ...e.meeting, open: await known } };
      }),
    );
    return { entries, unread: page.unread };
  }

  markRead(org: string, sub: string): Promise<number> {
    return this.#store.markRead(org, sub);
  }
}
