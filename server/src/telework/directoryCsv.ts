/**
 * The org directory as CSV: reading an import into records (every cell checked, a refusal names
 * its line and column), finding the manager cycle an import would make, and the rows of an
 * export — which never carry the priority categories. Pure functions: the OrgDirectory service
 * decides who may import or export and stores the result.
 */
import {
  DIRECTORY_CSV_COLUMNS,
  type DirectoryCsvColumn,
  directoryPersonInputSchema,
  directorySubSchema,
  MoimError,
  PRIORITY_CATEGORIES,
  type PriorityCategory,
  teleworkIdSchema,
} from '@moim/protocol';
import type { z } from 'zod';
import type { DirectoryRecord } from '../storage/DirectoryStore.ts';
import type { CsvCell, CsvRecord } from './csv.ts';

/** Columns an import may have: the export's and `priorityCategories`, plus `active`. */
type ImportColumn = DirectoryCsvColumn | 'active';
const IMPORT_COLUMNS: readonly ImportColumn[] = [...DIRECTORY_CSV_COLUMNS, 'active'];
const REQUIRED: readonly ImportColumn[] = ['sub', 'name'];

/** The export's columns: everything but the sensitive priority categories. */
export const EXPORT_COLUMNS = [
  'sub',
  'name',
  'team',
  'manager',
  'site',
  'dutyExcludesTelework',
  'routineDuties',
  'active',
] as const;

/** One row of an import, read and checked, with the line it came from. */
export interface ImportedRow {
  line: number;
  person: DirectoryRecord;
}

const TRUE = new Set(['true', '1', 'yes', 'y']);
const FALSE = new Set(['false', '0', 'no', 'n', '']);
const CATEGORIES: ReadonlySet<string> = new Set(PRIORITY_CATEGORIES);

const refuse = (line: number, column: string, message: string): MoimError =>
  new MoimError('INVALID_PAYLOAD', `line ${line}, column ${column}: ${message}`);

const firstIssue = (error: z.ZodError): string => error.issues[0]?.message ?? 'invalid';

/**
 * Read an import: a header row naming the columns (any order; `sub` and `name` required, the
 * others optional), then one person per row. A column the file does not have keeps each known
 * person's value (an exported file, which has no categories, can be imported back without losing
 * them); new people get the defaults. Throws INVALID_PAYLOAD naming the line and column of the
 * first bad cell, a repeated sub, a person managing themself or an unknown home site.
 */
export function readDirectoryImport(
  records: readonly CsvRecord[],
  known: ReadonlyMap<string, DirectoryRecord>,
  siteIds: ReadonlySet<string>,
): ImportedRow[] {
  const [header, ...rows] = records;
  if (!header) throw new MoimError('INVALID_PAYLOAD', 'line 1: the header row is missing');
  const columns = header.cells.map((c) => c.trim());
  const index = new Map<ImportColumn, number>();
  for (const [i, name] of columns.entries()) {
    const column = IMPORT_COLUMNS.find((c) => c === name);
    if (!column) throw refuse(header.line, name, `unknown column (the columns are ${IMPORT_COLUMNS.join(', ')})`);
    if (index.has(column)) throw refuse(header.line, name, 'named twice');
    index.set(column, i);
  }
  for (const column of REQUIRED)
    if (!index.has(column)) throw refuse(header.line, column, 'missing from the header row');

  const defaults = directoryPersonInputSchema.parse({ name: 'x' });
  const seen = new Map<string, number>();
  return rows.map(({ line, cells }) => {
    if (cells.length !== columns.length)
      throw new MoimError('INVALID_PAYLOAD', `line ${line}: ${cells.length} cells, the header has ${columns.length}`);
    const cell = (column: ImportColumn): string | undefined => {
      const i = index.get(column);
      return i === undefined ? undefined : (cells[i] ?? '').trim();
    };
    const sub = parseWith(line, 'sub', directorySubSchema, cell('sub'));
    const before = seen.get(sub);
    if (before !== undefined) throw refuse(line, 'sub', `${sub} is on line ${before} already`);
    seen.set(sub, line);
    const old = known.get(sub);
    const base = old ?? { ...defaults, sub };

    const rawManager = cell('manager');
    const manager =
      rawManager === undefined
        ? base.manager
        : rawManager === ''
          ? null
          : parseWith(line, 'manager', directorySubSchema, rawManager);
    if (manager === sub) throw refuse(line, 'manager', 'nobody is their own manager');
    const rawSite = cell('site');
    const homeSiteId =
      rawSite === undefined
        ? base.homeSiteId
        : rawSite === ''
          ? null
          : parseWith(line, 'site', teleworkIdSchema, rawSite);
    if (homeSiteId !== null && rawSite !== undefined && !siteIds.has(homeSiteId))
      throw refuse(line, 'site', `no site ${homeSiteId} in this organisation`);
    const rawTeam = cell('team');
    const person: DirectoryRecord = {
      sub,
      name: parseWith(line, 'name', directoryPersonInputSchema.shape.name, cell('name')),
      team: rawTeam === undefined ? base.team : parseWith(line, 'team', directoryPersonInputSchema.shape.team, rawTeam),
      manager,
      homeSiteId,
      dutyExcludesTelework: flag(line, 'dutyExcludesTelework', cell('dutyExcludesTelework'), base.dutyExcludesTelework),
      priorityCategories: categories(line, cell('priorityCategories'), base.priorityCategories),
      routineDuties: flag(line, 'routineDuties', cell('routineDuties'), base.routineDuties),
      active: flag(line, 'active', cell('active'), old ? old.active : true),
    };
    return { line, person };
  });
}

function parseWith<S extends z.ZodType>(line: number, column: string, schema: S, raw: string | undefined): z.output<S> {
  const parsed = schema.safeParse(raw ?? '');
  if (!parsed.success) throw refuse(line, column, firstIssue(parsed.error));
  return parsed.data;
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `y`/`n`; empty is false); a missing column keeps `fallback`. */
function flag(line: number, column: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const v = raw.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw refuse(line, column, `${JSON.stringify(raw)} is not true or false`);
}

/** `;`-separated categories, each once; empty is none; a missing column keeps `fallback`. */
function categories(line: number, raw: string | undefined, fallback: PriorityCategory[]): PriorityCategory[] {
  if (raw === undefined) return fallback;
  const out: PriorityCategory[] = [];
  for (const part of raw.split(';')) {
    const c = part.trim();
    if (c === '') continue;
    if (!CATEGORIES.has(c))
      throw refuse(
        line,
        'priorityCategories',
        `unknown category ${JSON.stringify(c)} (${PRIORITY_CATEGORIES.join(', ')})`,
      );
    const category = c as PriorityCategory;
    if (!out.includes(category)) out.push(category);
  }
  return out;
}

/**
 * The first manager cycle the directory would hold with the imported rows in place (A's manager
 * B, B's manager A…), as the line of an imported person in it and the cycle's subs; undefined
 * when there is none. Cycles among people the import does not reach are not its business.
 */
export function findManagerCycle(
  rows: readonly ImportedRow[],
  known: ReadonlyMap<string, DirectoryRecord>,
): { line: number; cycle: string[] } | undefined {
  const managerOf = new Map<string, string | null>();
  for (const [sub, p] of known) managerOf.set(sub, p.manager);
  const lineOf = new Map<string, number>();
  for (const { line, person } of rows) {
    managerOf.set(person.sub, person.manager);
    lineOf.set(person.sub, line);
  }
  // 1: on the walk under way, 2: walked, no cycle above
  const state = new Map<string, 1 | 2>();
  for (const { person } of rows) {
    const path: string[] = [];
    let at: string | null | undefined = person.sub;
    while (at != null && !state.has(at)) {
      state.set(at, 1);
      path.push(at);
      at = managerOf.get(at);
    }
    if (at != null && state.get(at) === 1) {
      const cycle = path.slice(path.indexOf(at));
      const imported = cycle.find((s) => lineOf.has(s)) ?? person.sub;
      return { line: lineOf.get(imported) ?? 0, cycle: [...cycle, at] };
    }
    for (const s of path) state.set(s, 2);
  }
  return undefined;
}

/** The export: a header and one row per person, without the priority categories. */
export function directoryExportRows(people: readonly DirectoryRecord[]): CsvCell[][] {
  return [
    [...EXPORT_COLUMNS],
    ...people.map((p) => [
      p.sub,
      p.name,
      p.team,
      p.manager,
      p.homeSiteId,
      p.dutyExcludesTelework,
      p.routineDuties,
      p.active,
    ]),
  ];
}
