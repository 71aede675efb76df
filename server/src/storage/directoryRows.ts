/**
 * The row shapes of the directory and holiday tables and their conversion to and from records,
 * shared by the SQLite and PostgreSQL DirectoryStores: flags as 0/1 integers on both (one
 * conversion), priority categories as a JSON array in text, times as integer milliseconds.
 */
import type { Holiday, PriorityCategory } from '@moim/protocol';
import type { DirectoryRecord } from './DirectoryStore.ts';

export const PERSON_COLUMNS =
  'sub, name, team, manager, home_site_id, duty_excludes_telework, priority_categories, routine_duties, active';

export interface PersonRow {
  sub: string;
  name: string;
  team: string;
  manager: string | null;
  home_site_id: string | null;
  duty_excludes_telework: number | string;
  priority_categories: string;
  routine_duties: number | string;
  active: number | string;
}

export interface HolidayRow {
  day: string;
  name: string;
}

const flag = (v: number | string): boolean => Number(v) === 1;

export function toPerson(row: PersonRow): DirectoryRecord {
  return {
    sub: row.sub,
    name: row.name,
    team: row.team,
    manager: row.manager,
    homeSiteId: row.home_site_id,
    dutyExcludesTelework: flag(row.duty_excludes_telework),
    priorityCategories: JSON.parse(row.priority_categories) as PriorityCategory[],
    routineDuties: flag(row.routine_duties),
    active: flag(row.active),
  };
}

export const toHoliday = (row: HolidayRow): Holiday => ({ day: row.day, name: row.name });

type PersonValues = [string, string, string, string | null, string | null, number, string, number, number];

/** The values of PERSON_COLUMNS, in that order. */
export const personValues = (p: DirectoryRecord): PersonValues => [
  p.sub,
  p.name,
  p.team,
  p.manager,
  p.homeSiteId,
  p.dutyExcludesTelework ? 1 : 0,
  JSON.stringify(p.priorityCategories),
  p.routineDuties ? 1 : 0,
  p.active ? 1 : 0,
];
