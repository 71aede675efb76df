import type { DirectoryPerson, Holiday, PriorityCategory } from '@moim/protocol';

/**
 * The organisation directory (people: name, team, manager, home site, duty exclusion, priority
 * categories, routine duties, active) and the public-holiday calendar, per organisation. This
 * interface owns what is stored; who may read or change it, and which fields an answer may carry,
 * is the service's (telework/OrgDirectory.ts). A `sub` is unique within its organisation, a
 * holiday's day too; nothing is found across orgs. Nobody is their own manager (the database
 * refuses it); longer manager cycles are the service's to refuse.
 */

/** A directory entry as stored: every field, the sensitive categories included. */
export interface DirectoryRecord extends DirectoryPerson {
  priorityCategories: PriorityCategory[];
}

export interface DirectoryImportCounts {
  created: number;
  updated: number;
}

export interface DirectoryStore {
  /** Create or replace the person `person.sub`; true when they were new. */
  putPerson(org: string, person: DirectoryRecord, at: number): Promise<boolean>;
  getPerson(org: string, sub: string): Promise<DirectoryRecord | undefined>;
  /** The org's people by sub. */
  listPeople(org: string): Promise<DirectoryRecord[]>;
  /** False when the org has no such person. Their reports keep naming them as manager. */
  deletePerson(org: string, sub: string): Promise<boolean>;
  /**
   * Everyone whose manager is `sub`, or whose manager reports to `sub`, and so on (by sub; never
   * `sub` itself, even through a cycle).
   */
  reportsOf(org: string, sub: string): Promise<string[]>;
  /**
   * Create or replace every person of `people` (each sub at most once) in one transaction: all of them are stored or, if
   * any write fails, none (and the error is thrown). Counts who was new and who was replaced.
   */
  importPeople(org: string, people: readonly DirectoryRecord[], at: number): Promise<DirectoryImportCounts>;

  /** Create or replace the holiday of `holiday.day`; true when the day had none. */
  putHoliday(org: string, holiday: Holiday, at: number): Promise<boolean>;
  getHoliday(org: string, day: string): Promise<Holiday | undefined>;
  /** The org's holidays from `fromDay` to `toDay` (both `YYYY-MM-DD`, inclusive), by day. */
  listHolidays(org: string, fromDay: string, toDay: string): Promise<Holiday[]>;
  deleteHoliday(org: string, day: string): Promise<boolean>;
}
