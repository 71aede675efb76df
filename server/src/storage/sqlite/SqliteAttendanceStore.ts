/**
 * Telework attendance days on SQLite (the AttendanceStore of a single node): each change is one
 * conditional statement, so a repeated or overlapping run changes a day at most once.
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
import type { SqliteDb } from './SqliteDb.ts';

export class SqliteAttendanceStore implements AttendanceStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async open(org: string, day: NewAttendance, at: number): Promise<{ record: StoredAttendance; created: boolean }> {
    return this.#db.tx(() => {
      const created =
        this.#db.run(
          `INSERT INTO telework_attendance
           (org, sub, day, site_id, source, first_in, closes_at, flags, teams, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          ...attendanceValues(org, day, at),
        ).changes > 0;
      const row = this.#db.get<AttendanceRow>(
        `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance WHERE org = ? AND sub = ? AND day = ?`,
        org,
        day.sub,
        day.day,
      );
      if (!row) throw new Error('attendance row vanished inside its transaction');
      return { record: toAttendance(row), created };
    });
  }

  async get(org: string, sub: string, day: string): Promise<StoredAttendance | undefined> {
    const row = this.#db.get<AttendanceRow>(
      `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance WHERE org = ? AND sub = ? AND day = ?`,
      org,
      sub,
      day,
    );
    return row ? toAttendance(row) : undefined;
  }

  async reopen(org: string, sub: string, day: string, at: number): Promise<boolean> {
    return (
      this.#db.run(
        `UPDATE telework_attendance SET last_out = NULL, minutes = 0, closed_by = NULL, updated_at = ?
         WHERE org = ? AND sub = ? AND day = ? AND closed_by = 'disconnect'`,
        at,
        org,
        sub,
        day,
      ).changes > 0
    );
  }

  async close(
    org: string,
    sub: string,
    day: string,
    c: AttendanceClose,
    at: number,
  ): Promise<StoredAttendance | undefined> {
    const rows = this.#db.all<AttendanceRow>(
      `UPDATE telework_attendance SET last_out = ?, minutes = ?, flags = ?, closed_by = ?, updated_at = ?
       WHERE org = ? AND sub = ? AND day = ? AND last_out IS NULL
       RETURNING ${ATTENDANCE_COLUMNS}`,
      c.lastOut,
      c.minutes,
      JSON.stringify(c.flags),
      c.by,
      at,
      org,
      sub,
      day,
    );
    return rows[0] ? toAttendance(rows[0]) : undefined;
  }

  async listOpenOf(org: string, sub: string): Promise<StoredAttendance[]> {
    return this.#db
      .all<AttendanceRow>(
        `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
         WHERE org = ? AND sub = ? AND last_out IS NULL ORDER BY day`,
        org,
        sub,
      )
      .map(toAttendance);
  }

  async listDue(at: number, limit: number): Promise<StoredAttendance[]> {
    return this.#db
      .all<AttendanceRow>(
        `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
         WHERE last_out IS NULL AND closes_at <= ? ORDER BY closes_at, org, sub LIMIT ?`,
        at,
        limit,
      )
      .map(toAttendance);
  }

  async list(org: string, from: string, to: string, sub?: string): Promise<StoredAttendance[]> {
    const rows =
      sub === undefined
        ? this.#db.all<AttendanceRow>(
            `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
             WHERE org = ? AND day >= ? AND day <= ? ORDER BY day, sub`,
            org,
            from,
            to,
          )
        : this.#db.all<AttendanceRow>(
            `SELECT ${ATTENDANCE_COLUMNS} FROM telework_attendance
             WHERE org = ? AND sub = ? AND day >= ? AND day <= ? ORDER BY day, sub`,
            org,
            sub,
            from,
            to,
          );
    return rows.map(toAttendance);
  }

  async correct(org: string, c: AttendanceCorrection, at: number): Promise<StoredAttendance> {
    const rows = this.#db.all<AttendanceRow>(
      `${CORRECT_SQL.replaceAll(/\$\d+/g, '?')} RETURNING ${ATTENDANCE_COLUMNS}`,
      ...correctionValues(org, c, at),
    );
    if (!rows[0]) throw new Error('a corrected attendance row was not returned');
    return toAttendance(rows[0]);
  }

  async relocate(
    org: string,
    sub: string,
    day: string,
    to: AttendanceMove,
    at: number,
  ): Promise<StoredAttendance | undefined> {
    const rows = this.#db.all<AttendanceRow>(
      `${RELOCATE_SQL.replaceAll(/\$\d+/g, '?')} RETURNING ${ATTENDANCE_COLUMNS}`,
      ...relocateValues(org, sub, day, to, at),
    );
    return rows[0] ? toAttendance(rows[0]) : undefined;
  }
}
