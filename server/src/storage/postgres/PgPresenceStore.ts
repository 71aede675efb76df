/** What the server remembers of people's presence, on PostgreSQL (one row per person). */
import type { PresenceRecord, PresenceStore } from '../PresenceStore.ts';
import { PRESENCE_COLUMNS, PRESENCE_UPSERT, type PresenceRow, toPresenceRecord } from '../sqlRows.ts';
import type { PgDb } from './PgDb.ts';

export class PgPresenceStore implements PresenceStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async save(r: PresenceRecord): Promise<void> {
    await this.#db.query(
      `INSERT INTO presence_people (${PRESENCE_COLUMNS})
       VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8)
       ${PRESENCE_UPSERT}`,
      [r.sub, r.org, r.name, r.site, r.teams, r.status, r.busy, r.lastSeen],
    );
  }

  async get(org: string, subs: readonly string[]): Promise<PresenceRecord[]> {
    if (subs.length === 0) return [];
    const rows = await this.#db.query<PresenceRow>(
      `SELECT ${PRESENCE_COLUMNS} FROM presence_people WHERE org = $1 AND sub = ANY($2::text[])`,
      [org, [...subs]],
    );
    return rows.map(toPresenceRecord);
  }
}
