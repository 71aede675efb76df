/**
 * Telework attendance days on PostgreSQL (the AttendanceStore of a cluster): each change is one
 * conditional statement, so of nodes racing (the scheduler's close, a disconnect) one changes a day.
 */
import type {
  AttendanceClose,
  AttendanceCorrection,
  AttendanceMove,
  AttendanceStore,
  NewAttendance,
  StoredAttendance,
} from '../AttendanceStore.ts';
import {
  ATTENDANCE_COLUMNS,
  type AttendanceRow,
  attendanceValues,
  CORRECT_SQL,
  correctionValues,
  RELOCATE_SQL,
  relocateValues,
  toAttendance,
} from '../attendanceRows.ts';
import type { PgDb } from './PgDb.ts';

export class PgAttendanceStore implements AttendanceStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async open(org: string, day: NewAttendance, at: number): Promise<{ record: StoredAttendance; created: boolean }> {
    const inserted = await this.#db.one<AttendanceRow>(
      `INSERT INTO telework_attendance
       (org, sub, day, site_id, source, first_in, closes_at, flags, teams, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING
       RETURNING ${ATTENDANCE_COLUMNS}`,
      attendanceValues(org, day, at),
    );
    if (inserted) return { record: toAttendance(inserted), created: true };
    // the row that won (rows are never deleted, so it is there)
    const existing = await this.get(org, day.sub, day.day);
    if (!existing) throw new Error('attendance row missing after a conflicting insert');
    return { record: existing, created: false };
  }

  async get(org: string, sub: string, day: string): Promise<StoredAttendance | undefined> {
    const row = await this.#db.one<AttendanceRow>(
      `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance WHERE org = $1 AND sub = $2 AND day = $3`,
      [org, sub, day],
    );
    return row ? toAttendance(row) : undefined;
  }

  async reopen(org: string, sub: string, day: string, at: number): Promise<boolean> {
    const row = await this.#db.one(
      `UPDATE telework_attendance SET last_out = NULL, minutes = 0, closed_by = NULL, updated_at = $1
       WHERE org = $2 AND sub = $3 AND day = $4 AND closed_by = 'disconnect' RETURNING 1 AS x`,
      [at, org, sub, day],
    );
    return row !== undefined;
  }

  async close(
    org: string,
    sub: string,
    day: string,
    c: AttendanceClose,
    at: number,
  ): Promise<StoredAttendance | undefined> {
    const row = await this.#db.one<AttendanceRow>(
      `UPDATE telework_attendance SET last_out = $1, minutes = $2, flags = $3, closed_by = $4, updated_at = $5
       WHERE org = $6 AND sub = $7 AND day = $8 AND last_out IS NULL
       RETURNING ${ATTENDANCE_COLUMNS}`,
      [c.lastOut, c.minutes, JSON.stringify(c.flags), c.by, at, org, sub, day],
    );
    return row ? toAttendance(row) : undefined;
  }

  async listOpenOf(org: string, sub: string): Promise<StoredAttendance[]> {
    const rows = await this.#db.query<AttendanceRow>(
      `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
       WHERE org = $1 AND sub = $2 AND last_out IS NULL ORDER BY day COLLATE "C"`,
      [org, sub],
    );
    return rows.map(toAttendance);
  }

  async listDue(at: number, limit: number): Promise<StoredAttendance[]> {
    const rows = await this.#db.query<AttendanceRow>(
      `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
       WHERE last_out IS NULL AND closes_at <= $1 ORDER BY closes_at, org COLLATE "C", sub COLLATE "C" LIMIT $2`,
      [at, limit],
    );
    return rows.map(toAttendance);
  }

  async list(org: string, from: string, to: string, sub?: string): Promise<StoredAttendance[]> {
    const rows =
      sub === undefined
        ? await this.#db.query<AttendanceRow>(
            `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
             WHERE org = $1 AND day >= $2 AND day <= $3 ORDER BY day COLLATE "C", sub COLLATE "C"`,
            [org, from, to],
          )
        : await this.#db.query<AttendanceRow>(
            `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
             WHERE org = $1 AND sub = $2 AND day >= $3 AND day <= $4 ORDER BY day COLLATE "C", sub COLLATE "C"`,
            [org, sub, from, to],
          );
    return rows.map(toAttendance);
  }

  async correct(org: string, c: AttendanceCorrection, at: number): Promise<StoredAttendance> {
    const row = await this.#db.one<AttendanceRow>(
      `${CORRECT_SQL} RETURNING ${ATTENDANCE_COLUMNS}`,
      correctionValues(org, c, at),
    );
    if (!row) throw new Error('a corrected attendance row was not returned');
    return toAttendance(row);
  }

  async relocate(
    org: string,
    sub: string,
    day: string,
    to: AttendanceMove,
    at: number,
  ): Promise<StoredAttendance | undefined> {
    const row = await this.#db.one<AttendanceRow>(
      `${RELOCATE_SQL} RETURNING ${ATTENDANCE_COLUMNS}`,
      relocateValues(org, sub, day, to, at),
    );
    return row ? toAttendance(row) : undefined;
  }
}
