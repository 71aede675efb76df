import type { PresenceRecord, PresenceStore } from '../PresenceStore.ts';
import type { SqliteDb } from './SqliteDb.ts';

interface Row {
  sub: string;
  org: string;
  name: string;
  site: string;
  teams: string;
  status: string | null;
  busy: number;
  last_seen: number;
}

export class SqlitePresenceStore implements PresenceStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async save(r: PresenceRecord): Promise<void> {
    this.#db.run(
      `INSERT INTO presence_people (sub, org, name, site, teams, status, busy, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sub) DO UPDATE SET org = excluded.org, name = excluded.name, site = excluded.site,
         teams = excluded.teams, status = excluded.status, busy = excluded.busy, last_seen = excluded.last_seen`,
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
    const rows = this.#db.all<Row>(
      `SELECT sub, org, name, site, teams, status, busy, last_seen FROM presence_people
       WHERE org = ? AND sub IN (SELECT value FROM json_each(?))`,
      org,
      JSON.stringify(subs),
    );
    return rows.map((r) => ({
      sub: r.sub,
      org: r.org,
      name: r.name,
      site: r.site,
      teams: JSON.parse(r.teams) as string[],
      status: r.status,
      busy: r.busy === 1,
      lastSeen: r.last_seen,
    }));
  }
}
