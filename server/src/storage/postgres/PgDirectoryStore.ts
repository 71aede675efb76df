/**
 * The telework org directory and holiday calendar on PostgreSQL (the DirectoryStore of a cluster).
 * Upserts say whether they inserted (`xmax = 0` of the returned row), so two nodes putting the
 * same person at once get one `created` and one replace. An import is one transaction, written in
 * multi-row statements of IMPORT_BATCH rows: every row or none.
 */
import type { Holiday } from '@moim/protocol';
import type { DirectoryImportCounts, DirectoryRecord, DirectoryStore } from '../DirectoryStore.ts';
import {
  type HolidayRow,
  PERSON_COLUMNS,
  type PersonRow,
  personValues,
  toHoliday,
  toPerson,
} from '../directoryRows.ts';
import type { PgDb, PgTx } from './PgDb.ts';

/** Rows per INSERT of an import (12 parameters each, far below PostgreSQL's 65,535). */
const IMPORT_BATCH = 500;
const PERSON_PARAMS = 12;

const upsertPeople = (rows: number): string => {
  const tuples = Array.from({ length: rows }, (_, r) => {
    const base = r * PERSON_PARAMS;
    return `(${Array.from({ length: PERSON_PARAMS }, (_, c) => `$${base + c + 1}`).join(', ')})`;
  });
  return `INSERT INTO telework_people (${PERSON_COLUMNS}, org, created_at, updated_at)
    VALUES ${tuples.join(', ')}
    ON CONFLICT (org, sub) DO UPDATE SET name = excluded.name, team = excluded.team, manager = excluded.manager,
      home_site_id = excluded.home_site_id, duty_excludes_telework = excluded.duty_excludes_telework,
      priority_categories = excluded.priority_categories, routine_duties = excluded.routine_duties,
      active = excluded.active, updated_at = excluded.updated_at
    RETURNING (xmax = 0) AS inserted`;
};

export class PgDirectoryStore implements DirectoryStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async putPerson(org: string, person: DirectoryRecord, at: number): Promise<boolean> {
    const row = await this.#db.one<{ inserted: boolean }>(upsertPeople(1), [...personValues(person), org, at, at]);
    return row?.inserted === true;
  }

  async getPerson(org: string, sub: string): Promise<DirectoryRecord | undefined> {
    const row = await this.#db.one<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM telework_people WHERE org = $1 AND sub = $2`,
      [org, sub],
    );
    return row ? toPerson(row) : undefined;
  }

  async listPeople(org: string): Promise<DirectoryRecord[]> {
    const rows = await this.#db.query<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM telework_people WHERE org = $1 ORDER BY sub COLLATE "C"`,
      [org],
    );
    return rows.map(toPerson);
  }

  async deletePerson(org: string, sub: string): Promise<boolean> {
    const rows = await this.#db.query('DELETE FROM telework_people WHERE org = $1 AND sub = $2 RETURNING 1 AS x', [
      org,
      sub,
    ]);
    return rows.length > 0;
  }

  async reportsOf(org: string, sub: string): Promise<string[]> {
    // UNION (not UNION ALL): a cycle in the data ends the walk
    const rows = await this.#db.query<{ sub: string }>(
      `WITH RECURSIVE below(sub) AS (
         SELECT sub FROM telework_people WHERE org = $1 AND manager = $2
         UNION
         SELECT p.sub FROM telework_people p JOIN below b ON p.manager = b.sub WHERE p.org = $1
       )
       SELECT sub FROM below WHERE sub <> $2 ORDER BY sub COLLATE "C"`,
      [org, sub],
    );
    return rows.map((r) => r.sub);
  }

  async importPeople(org: string, people: readonly DirectoryRecord[], at: number): Promise<DirectoryImportCounts> {
    return this.#db.tx(async (tx: PgTx) => {
      const counts = { created: 0, updated: 0 };
      for (let i = 0; i < people.length; i += IMPORT_BATCH) {
        const batch = people.slice(i, i + IMPORT_BATCH);
        const rows = await tx.query<{ inserted: boolean }>(
          upsertPeople(batch.length),
          batch.flatMap((p) => [...personValues(p), org, at, at]),
        );
        for (const r of rows) {
          if (r.inserted) counts.created++;
          else counts.updated++;
        }
      }
      return counts;
    });
  }

  async putHoliday(org: string, holiday: Holiday, at: number): Promise<boolean> {
    const row = await this.#db.one<{ inserted: boolean }>(
      `INSERT INTO telework_holidays (org, day, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (org, day) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
       RETURNING (xmax = 0) AS inserted`,
      [org, holiday.day, holiday.name, at],
    );
    return row?.inserted === true;
  }

  async getHoliday(org: string, day: string): Promise<Holiday | undefined> {
    const row = await this.#db.one<HolidayRow>('SELECT day, name FROM telework_holidays WHERE org = $1 AND day = $2', [
      org,
      day,
    ]);
    return row ? toHoliday(row) : undefined;
  }

  async listHolidays(org: string, fromDay: string, toDay: string): Promise<Holiday[]> {
    const rows = await this.#db.query<HolidayRow>(
      'SELECT day, name FROM telework_holidays WHERE org = $1 AND day COLLATE "C" BETWEEN $2 AND $3 ORDER BY day COLLATE "C"',
      [org, fromDay, toDay],
    );
    return rows.map(toHoliday);
  }

  async deleteHoliday(org: string, day: string): Promise<boolean> {
    const rows = await this.#db.query('DELETE FROM telework_holidays WHERE org = $1 AND day = $2 RETURNING 1 AS x', [
      org,
      day,
    ]);
    return rows.length > 0;
  }
}
