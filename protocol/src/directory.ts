import { z } from 'zod';
import { calendarDaySchema, teleworkIdSchema } from './telework.ts';

/**
 * The organisation directory telework rests on (who manages whom, whose duty excludes telework,
 * priority categories, home site) and the org's public-holiday calendar: their wire shapes and the
 * zod schemas every path, query and body goes through.
 *
 * ## HTTP (Bearer token; everything is scoped to the caller's `org`)
 * - `GET /telework/directory` → `{ people: DirectoryPerson[] }`: org admins everyone; anyone else
 *   themself and the people who report to them, directly or indirectly
 * - `GET /telework/directory/:sub` → `{ person }` (same rule; FORBIDDEN otherwise, NOT_FOUND unknown)
 * - `PUT /telework/directory/:sub` `DirectoryPersonInput` → `{ person, created }` (org admins; 201/200)
 * - `DELETE /telework/directory/:sub` → `{ deleted: true }` (org admins)
 * - `POST /telework/directory/import` (`text/csv`, UTF-8, BOM optional) → `{ created, updated }`
 *   (org admins; all rows or none; a bad row is INVALID_PAYLOAD naming its line and column)
 * - `GET /telework/directory/export.csv` → `text/csv` (org admins; UTF-8 with BOM, never the
 *   priority categories, cells starting with `= + - @` tab or CR prefixed with `'`)
 * - `GET /telework/holidays?year=YYYY` → `{ holidays: Holiday[] }` (every member of the org)
 * - `PUT /telework/holidays/:day` `HolidayInput` → `{ holiday, created }` (org admins; 201/200)
 * - `DELETE /telework/holidays/:day` → `{ deleted: true }` (org admins)
 *
 * `priorityCategories` are sensitive (pregnancy, disability…): an answer carries them only to org
 * admins, to the person themself and to the person's approvers; for anyone else the field is
 * absent. Every answer carrying someone else's categories is audited.
 */

/** What may give a person priority for a smart-work-centre place. Sensitive. */
export const PRIORITY_CATEGORIES = ['pregnancy', 'young-children', 'disability', 'long-commute'] as const;
export type PriorityCategory = (typeof PRIORITY_CATEGORIES)[number];

export const DIRECTORY_LIMITS = {
  /** As long as a token's `sub` may be. */
  subChars: 128,
  nameChars: 100,
  teamChars: 64,
  holidayNameChars: 100,
} as const;

/** The CSV columns of import and export, in this order (`priorityCategories` is import-only). */
export const DIRECTORY_CSV_COLUMNS = [
  'sub',
  'name',
  'team',
  'manager',
  'site',
  'dutyExcludesTelework',
  'priorityCategories',
  'routineDuties',
] as const;
export type DirectoryCsvColumn = (typeof DIRECTORY_CSV_COLUMNS)[number];

const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A person's `sub` in a path or a record: letters, digits and `. _ @ -` (what dev sign-in and
 * common identity providers issue), at most 128; the prototype's names are refused.
 */
export const directorySubSchema = z
  .string()
  .min(1)
  .max(DIRECTORY_LIMITS.subChars)
  .regex(/^[A-Za-z0-9._@-]+$/, 'a sub is letters, digits and . _ @ -')
  .refine((s) => !PROTOTYPE_NAMES.has(s), 'this sub is reserved');

// no control characters (tabs, new lines) in one-line texts
const oneLine = (max: number) =>
  z
    .string()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');

const personFields = {
  name: oneLine(DIRECTORY_LIMITS.nameChars).trim().min(1),
  /** A team id (as in tokens' `teams`); empty: no team. */
  team: oneLine(DIRECTORY_LIMITS.teamChars).trim(),
  /** The person's manager's `sub`; null: nobody (the top, or not on record). */
  manager: directorySubSchema.nullable(),
  /** The site the person works at when not teleworking (HQ staff: `hq`); null: none on record. */
  homeSiteId: teleworkIdSchema.nullable(),
  /** Their duty excludes telework: they cannot apply. */
  dutyExcludesTelework: z.boolean(),
  /** Routine work: their telework days need no daily work report. */
  routineDuties: z.boolean(),
  /** Still in the organisation; an inactive person approves nothing and ends approval chains. */
  active: z.boolean(),
};

/** A directory entry as answered; `priorityCategories` is absent for callers who may not see it. */
export const directoryPersonSchema = z
  .object({
    sub: directorySubSchema,
    ...personFields,
    priorityCategories: z.array(z.enum(PRIORITY_CATEGORIES)).max(PRIORITY_CATEGORIES.length).optional(),
  })
  .strict();
export type DirectoryPerson = z.infer<typeof directoryPersonSchema>;

/**
 * Body of `PUT /telework/directory/:sub`: `name` is required, the rest defaults to no team, no
 * manager, no home site, no exclusion, no categories, not routine, active. `sub`, when given,
 * must be the path's; `manager` must not be the person (nor anyone reporting to them).
 */
export const directoryPersonInputSchema = z
  .object({
    sub: directorySubSchema.optional(),
    name: personFields.name,
    team: personFields.team.default(''),
    manager: personFields.manager.default(null),
    homeSiteId: personFields.homeSiteId.default(null),
    dutyExcludesTelework: z.boolean().default(false),
    priorityCategories: z
      .array(z.enum(PRIORITY_CATEGORIES))
      .max(PRIORITY_CATEGORIES.length)
      .refine((c) => new Set(c).size === c.length, 'each category once')
      .default([]),
    routineDuties: z.boolean().default(false),
    active: z.boolean().default(true),
  })
  .strict();
/** What a client sends (most fields optional). */
export type DirectoryPersonInput = z.input<typeof directoryPersonInputSchema>;
/** The body once parsed: every field, defaults applied. */
export type DirectoryPersonFields = z.output<typeof directoryPersonInputSchema>;

/** A public holiday of the org's calendar (a whole calendar day). */
export const holidaySchema = z
  .object({ day: calendarDaySchema, name: oneLine(DIRECTORY_LIMITS.holidayNameChars).trim().min(1) })
  .strict();
export type Holiday = z.infer<typeof holidaySchema>;

/** Body of `PUT /telework/holidays/:day`; `day`, when given, must be the path's. */
export const holidayInputSchema = z
  .object({ day: calendarDaySchema.optional(), name: holidaySchema.shape.name })
  .strict();
export type HolidayInput = z.infer<typeof holidayInputSchema>;

/** Query of `GET /telework/holidays`. */
export const holidayYearQuerySchema = z.object({ year: z.coerce.number().int().min(1970).max(9999) }).strict();

export interface DirectoryListResponse {
  people: DirectoryPerson[];
}
export interface DirectoryPersonResponse {
  person: DirectoryPerson;
}
export interface DirectoryPutResponse {
  person: DirectoryPerson;
  created: boolean;
}
export interface DirectoryImportResponse {
  /** People new to the directory. */
  created: number;
  /** People already on record, replaced by their row. */
  updated: number;
}
export interface HolidayListResponse {
  holidays: Holiday[];
}
export interface HolidayPutResponse {
  holiday: Holiday;
  created: boolean;
}
