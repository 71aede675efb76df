/**
 * What the server remembers of people's presence, on SQLite (one row per person, teams as JSON).
 *
 * Saves are group-committed: the saves of one event-loop turn go in one transaction on the next
 * turn (one fsync for all of them), and a person saved several times in it is written once, with
 * the latest record. A reconnect wave of thousands of people used to be thousands of synchronous
 * commits on the main thread, each with its fsync, stalling every message behind them.
 */
import type { PresenceRecord, PresenceStore } from '../PresenceStore.ts';
import { PRESENCE_COLUMNS, PRESENCE_UPSERT, type PresenceRow, toPresenceRecord } from '../sqlRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

/** Most people written in one transaction (the rest go in the next turn's). */
const MAX_BATCH = 512;

interface Pending {
  record: PresenceRecord;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

export class SqlitePresenceStore implements PresenceStore {
  readonly #db: SqliteDb;
  /** Saves waiting for the next commit, by person (JSON of [org, sub]). */
  readonly #pending = new Map<string, Pending>();
  #scheduled = false;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  /** Resolves once the record is committed (with the other saves of this turn). */
  save(r: PresenceRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      const key = JSON.stringify([r.org, r.sub]);
      const p = this.#pending.get(key);
      if (p) {
        p.record = r;
        p.waiters.push({ resolve, reject });
      } else this.#pending.set(key, { record: r, waiters: [{ resolve, reject }] });
      this.#schedule();
    });
  }

  async get(org: string, subs: readonly string[]): Promise<PresenceRecord[]> {
    if (subs.length === 0) return [];
    const stored = this.#db
      .all<PresenceRow>(
        `SELECT ${PRESENCE_COLUMNS} FROM presence_people WHERE org = ? AND sub IN (SELECT value FROM json_each(?))`,
        org,
        JSON.stringify(subs),
      )
      .map(toPresenceRecord);
    if (this.#pending.size === 0) return stored;
    // a read sees every save made before it: a waiting save is newer than its stored row
    const bySub = new Map(stored.map((r) => [r.sub, r]));
    for (const sub of new Set(subs)) {
      const p = this.#pending.get(JSON.stringify([org, sub]));
      if (p) bySub.set(sub, p.record);
    }
    return [...bySub.values()];
  }

  /** Commit every waiting save now (the store's owner calls it before closing the database). */
  flushAll(): void {
    while (this.#pending.size > 0) this.flush();
  }

  /** Commit up to MAX_BATCH waiting saves now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.size === 0) return;
    const batch: Pending[] = [];
    for (const [key, p] of this.#pending) {
      batch.push(p);
      this.#pending.delete(key);
      if (batch.length >= MAX_BATCH) break;
    }
    if (this.#pending.size > 0) this.#schedule();
    try {
      this.#db.tx(() => {
        for (const { record: r } of batch)
          this.#db.run(
            `INSERT INTO presence_people (${PRESENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ${PRESENCE_UPSERT}`,
            r.sub,
            r.org,
            r.name,
            r.site,
            JSON.stringify(r.teams),
            r.status,
            r.busy ? 1 : 0,
            r.lastSeen,
          );
      });
    } catch (err) {
      // every save of the batch fails with the commit's error (the callers log it)
      for (const p of batch) for (const w of p.waiters) w.reject(err);
      return;
    }
    for (const p of batch) for (const w of p.waiters) w.resolve();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }
}
