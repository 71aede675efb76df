/** What the server remembers of a person's presence across restarts (presence itself is soft state). */
export interface PresenceRecord {
  sub: string;
  org: string;
  name: string;
  site: string;
  teams: string[];
  status: string | null;
  busy: boolean;
  /** Milliseconds since the epoch. */
  lastSeen: number;
}

export interface PresenceStore {
  /** Insert or replace a person's record. */
  save(record: PresenceRecord): Promise<void>;
  /** Records of these people in this org (unknown people are left out). */
  get(org: string, subs: readonly string[]): Promise<PresenceRecord[]>;
}
