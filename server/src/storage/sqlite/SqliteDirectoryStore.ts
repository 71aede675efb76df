/**
 * The telework org directory and holiday calendar on SQLite (the DirectoryStore of a single node).
 * An import is one write transaction: every row or none. Reports are found with one recursive
 * query (UNION, so a cycle in the data ends the walk instead of looping).
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
import type { SqliteDb } from './SqliteDb.ts';

const UPSERT_PERSON = `INSERT INTO telework_people (${PERSON_COLUMNS}, org, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (org, sub) DO UPDATE SET name = excluded.name, team = excluded.team, manager = excluded.manager,
    home_site_id = excluded.home_site_id, duty_excludes_telework = excluded.duty_excludes_telework,
    priority_categories = excluded.priority_categories, routine_duties = excluded.routine_duties,
    active = excluded.active, updated_at = excluded.updated_at`;

export class SqliteDirectoryStore implements DirectoryStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async putPerson(org: string, person: DirectoryRecord, at: number): Promise<boolean> {
    return this.#db.tx(() => this.#upsert(org, person, at));
  }

  async getPerson(org: string, sub: string): Promise<DirectoryRecord | undefined> {
    const row = this.#db.get<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM telework_people WHERE org = ? AND sub = ?`,
      org,
      sub,
    );
    return row ? toPerson(row) : undefined;
  }

  async listPeople(org: string): Promise<DirectoryRecord[]> {
    return this.#db
      .all<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM telework_people WHERE org = ? ORDER BY sub`, org)
      .map(toPerson);
  }

  async deletePerson(org: string, sub: string): Promise<boolean> {
    return this.#db.run('DELETE FROM telework_people WHERE org = ? AND sub = ?', org, sub).changes > 0;
  }

  async reportsOf(org: string, sub: string): Promise<string[]> {
    return this.#db
      .all<{ sub: string }>(
        `WITH RECURSIVE below(sub) AS (
           SELECT sub FROM telework_people WHERE org = ?1 AND manager = ?2
           UNION
           SELECT p.sub FROM telework_people p JOIN below b ON p.manager = b.sub WHERE p.org = ?1
         )
         SELECT sub FROM below WHERE sub <> ?2 ORDER BY sub`,
        org,
        sub,
      )
      .map((r) => r.sub);
  }

  async importPeople(org: string, people: readonly DirectoryRecord[], at: number): Promise<DirectoryImportCounts> {
    return this.#db.tx(() => {
      const counts = { created: 0, updated: 0 };
      for (const person of people) {
        if (this.#upsert(org, person, at)) counts.created++;
        else counts.updated++;
      }
      return counts;
    });
  }

  async putHoliday(org: string, holiday: Holiday, at: number): Promise<boolean> {
    return this.#db.tx(() => {
      const existed = this.#db.get('SELECT 1 AS x FROM telework_holidays WHERE org = ? AND day = ?', org, holiday.day);
      this.#db.run(
        `INSERT INTO telework_holidays (org, day, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (org, day) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at`,
        org,
        holiday.day,
        holiday.name,
        at,
        at,
      );
      return !existed;
    });
  }

  async getHoliday(org: string, day: string): Promise<Holiday | undefined> {
    const row = this.#db.get<HolidayRow>('SELECT day, name FROM telework_holidays WHERE org = ? AND day = ?', org, day);
    return row ? toHoliday(row) : undefined;
  }

  async listHolidays(org: string, fromDay: string, toDay: string): Promise<Holiday[]> {
    return this.#db
      .all<HolidayRow>(
        'SELECT day, name FROM telework_holidays WHERE org = ? AND day >= ? AND day <= ? ORDER BY day',
        org,
        fromDay,
        toDay,
      )
      .map(toHoliday);
  }

  async deleteHoliday(org: string, day: string): Promise<boolean> {
    return this.#db.run('DELETE FROM telework_holidays WHERE org = ? AND day = ?', org, day).changes > 0;
  }

  /** Insert or replace inside the caller's transaction; true when the person was new. */
  #upsert(org: string, person: DirectoryRecord, at: number): boolean {
    const existed = this.#db.get('SELECT 1 AS x FROM telework_people WHERE org = ? AND sub = ?', org, person.sub);
    this.#db.run(UPSERT_PERSON, ...personValues(person), org, at, at);
    return !existed;
  }
}
