/** What the server remembers of people's presence, on SQLite (one row per person, teams as JSON). */
import type { PresenceRecord, PresenceStore } from '../PresenceStore.ts';
import { PRESENCE_COLUMNS, PRESENCE_UPSERT, type PresenceRow, toPresenceRecord } from '../sqlRows.ts';
import type { SqliteDb } from './SqliteDb.ts';

export class SqlitePresenceStore implements PresenceStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async save(r: PresenceRecord): Promise<void> {
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
  }

  async get(org: string, subs: readonly string[]): Promise<PresenceRecord[]> {
    if (subs.length === 0) return [];
    return this.#db
      .all<PresenceRow>(
        `SELECT ${PRESENCE_COLUMNS} FROM presence_people WHERE org = ? AND sub IN (SELECT value FROM json_each(?))`,
        org,
        JSON.stringify(subs),
      )
      .map(toPresenceRecord);
  }
}
