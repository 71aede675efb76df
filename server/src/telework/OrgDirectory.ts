/**
 * OrgDirectory: the telework service of the organisation directory and the public-holiday
 * calendar. It owns who may see whom — org admins everyone, anyone else themself and the people
 * who report to them (directly or not) — who may see the sensitive priority categories (admins,
 * the person, their approvers; every such read of someone else's is audited), the rules of a
 * change (admins only; nobody manages themself; no manager cycles; home sites that exist; an
 * import is all rows or none) and the audit entry of every change. Other telework services ask it
 * for approval chains (`chainOf`, `escalationTargetOf`), reports (`reportsOf`), holidays
 * (`isHoliday`) and a person's record (`get`), without a caller: those are trusted calls.
 */
import {
  type DirectoryImportResponse,
  type DirectoryPerson,
  type DirectoryPersonFields,
  type DirectoryPutResponse,
  type Holiday,
  type HolidayInput,
  type HolidayPutResponse,
  MoimError,
} from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { DirectoryRecord, DirectoryStore } from '../storage/DirectoryStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { ApprovalChains, WorkCalendar } from './contracts.ts';
import { CsvLimitError, CsvSyntaxError, parseCsv, toCsv } from './csv.ts';
import { directoryExportRows, findManagerCycle, readDirectoryImport } from './directoryCsv.ts';
import type { Sites } from './Sites.ts';

export interface OrgDirectoryOptions {
  store: DirectoryStore;
  /** The caller's org (seeded with `hq` and `home` on first use, as every telework request). */
  sites: Sites;
  /** The org's sites, which a home site must be one of. */
  telework: TeleworkStore;
  audit: AuditStore;
  log: Logger;
  /** Steps of an approval chain (`MOIM_TELEWORK_APPROVAL_STEPS`): 1 = the manager only. */
  approvalSteps: number;
  /** People one CSV import may hold (`MOIM_TELEWORK_DIRECTORY_IMPORT_MAX_ROWS`). */
  importMaxRows: number;
  /** @default Date.now */
  now?: () => number;
}

type Lookup = (sub: string) => Promise<DirectoryRecord | undefined> | DirectoryRecord | undefined;

export class OrgDirectory implements ApprovalChains, WorkCalendar {
  readonly #store: DirectoryStore;
  readonly #sites: Sites;
  readonly #telework: TeleworkStore;
  readonly #audit: AuditStore;
  readonly #log: Logger;
  readonly #steps: number;
  readonly #importMaxRows: number;
  readonly #now: () => number;

  constructor(opts: OrgDirectoryOptions) {
    this.#store = opts.store;
    this.#sites = opts.sites;
    this.#telework = opts.telework;
    this.#audit = opts.audit;
    this.#log = opts.log;
    this.#steps = opts.approvalSteps;
    this.#importMaxRows = opts.importMaxRows;
    this.#now = opts.now ?? Date.now;
  }

  // ---- for the other telework services (trusted: no caller) ------------------------------------

  /** The person's whole record (priority categories included: the caller decides what to show). */
  async get(org: string, sub: string): Promise<DirectoryRecord | undefined> {
    return this.#store.getPerson(org, sub);
  }

  /**
   * The approvers of `sub`'s requests, nearest first, at most `MOIM_TELEWORK_APPROVAL_STEPS`: the
   * manager, then the manager's manager… The chain ends at the top, at a manager not on record or
   * inactive, and where it would come back to someone already in it (never the person themself).
   */
  async chainOf(org: string, sub: string): Promise<string[]> {
    return walkChain(sub, this.#steps, (s) => this.#store.getPerson(org, s));
  }

  /** Whom an undecided step of `approverSub` goes to: their active manager; undefined at the top. */
  async escalationTargetOf(org: string, approverSub: string): Promise<string | undefined> {
    return (await walkChain(approverSub, 1, (s) => this.#store.getPerson(org, s)))[0];
  }

  /** Everyone reporting to `managerSub`, directly or through others, by sub. */
  async reportsOf(org: string, managerSub: string): Promise<string[]> {
    return this.#store.reportsOf(org, managerSub);
  }

  async isHoliday(org: string, day: string): Promise<boolean> {
    return (await this.#store.getHoliday(org, day)) !== undefined;
  }

  /** May `caller` see `sub`'s priority categories: an org admin, the person, or one of their approvers. */
  async canSeeSensitive(caller: Principal, sub: string): Promise<boolean> {
    if (caller.isAdmin || caller.sub === sub) return true;
    return (await this.chainOf(caller.token.org, sub)).includes(caller.sub);
  }

  // ---- for a caller (HTTP) ----------------------------------------------------------------------

  /** The people `caller` may see, by sub: admins everyone; others themself and their reports. */
  async list(caller: Principal): Promise<DirectoryPerson[]> {
    const org = await this.#sites.orgOf(caller);
    const everyone = await this.#store.listPeople(org);
    let visible = everyone;
    if (!caller.isAdmin) {
      const mine = new Set(await this.#store.reportsOf(org, caller.sub));
      mine.add(caller.sub);
      visible = everyone.filter((p) => mine.has(p.sub));
    }
    const bySub = new Map(everyone.map((p) => [p.sub, p]));
    const shown: DirectoryPerson[] = [];
    const sensitive: string[] = [];
    for (const person of visible) {
      const allowed =
        caller.isAdmin ||
        caller.sub === person.sub ||
        (await walkChain(person.sub, this.#steps, (s) => bySub.get(s))).includes(caller.sub);
      shown.push(allowed ? person : withoutCategories(person));
      if (allowed && person.sub !== caller.sub) sensitive.push(person.sub);
    }
    await this.#auditSensitiveRead(caller, org, sensitive);
    return shown;
  }

  /** One person, if `caller` may see them (FORBIDDEN otherwise, before NOT_FOUND for non-admins). */
  async read(caller: Principal, sub: string): Promise<DirectoryPerson> {
    const org = await this.#sites.orgOf(caller);
    if (!caller.isAdmin && caller.sub !== sub && !(await this.#store.reportsOf(org, caller.sub)).includes(sub))
      throw new MoimError('FORBIDDEN', 'you see only yourself and the people who report to you');
    const person = await this.#store.getPerson(org, sub);
    if (!person) throw new MoimError('NOT_FOUND', `${sub} is not in the directory`);
    if (!(await this.canSeeSensitive(caller, sub))) return withoutCategories(person);
    if (sub !== caller.sub) await this.#auditSensitiveRead(caller, org, [sub]);
    return person;
  }

  /** Create or replace the person `sub` (org admins). */
  async put(caller: Principal, sub: string, input: DirectoryPersonFields): Promise<DirectoryPutResponse> {
    const org = await this.#adminOrg(caller);
    if (input.sub !== undefined && input.sub !== sub) throw new MoimError('INVALID_PAYLOAD', 'sub: must be the path’s');
    const { sub: _ignored, ...fields } = input;
    const person: DirectoryRecord = { ...fields, sub };
    if (person.manager === sub) throw new MoimError('INVALID_PAYLOAD', 'manager: nobody is their own manager');
    if (person.homeSiteId !== null && !(await this.#telework.getSite(org, person.homeSiteId)))
      throw new MoimError('INVALID_PAYLOAD', `homeSiteId: no site ${person.homeSiteId} in this organisation`);
    if (person.manager !== null && (await this.#store.reportsOf(org, sub)).includes(person.manager))
      throw new MoimError(
        'INVALID_PAYLOAD',
        `manager: ${person.manager} reports to ${sub} already, so this would make a manager cycle`,
      );
    const created = await this.#store.putPerson(org, person, this.#now());
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.directory.put',
      target: sub,
      // never the categories themselves: the audit log is read more widely than the directory
      detail: { org, created, manager: person.manager, team: person.team, active: person.active },
    });
    this.#log.info({ org, sub, created }, 'directory person stored');
    return { person, created };
  }

  /** Remove `sub` from the directory (org admins); their reports keep naming them as manager. */
  async remove(caller: Principal, sub: string): Promise<void> {
    const org = await this.#adminOrg(caller);
    if (!(await this.#store.deletePerson(org, sub))) throw new MoimError('NOT_FOUND', `${sub} is not in the directory`);
    await this.#audit.append({ actor: caller.sub, action: 'telework.directory.delete', target: sub, detail: { org } });
    this.#log.info({ org, sub }, 'directory person deleted');
  }

  /**
   * Import people from CSV (org admins): every row checked first (INVALID_PAYLOAD naming the line
   * and column of the first bad one), then all stored in one transaction, or none.
   */
  async importCsv(caller: Principal, text: string): Promise<DirectoryImportResponse> {
    const org = await this.#adminOrg(caller);
    let records: ReturnType<typeof parseCsv>;
    try {
      records = parseCsv(text, { maxRecords: this.#importMaxRows + 1 });
    } catch (err) {
      if (err instanceof CsvLimitError)
        throw new MoimError('PAYLOAD_TOO_LARGE', `an import holds at most ${this.#importMaxRows} people`, {
          cause: err,
        });
      if (err instanceof CsvSyntaxError) throw new MoimError('INVALID_PAYLOAD', err.message, { cause: err });
      throw err;
    }
    const known = new Map((await this.#store.listPeople(org)).map((p) => [p.sub, p]));
    const siteIds = new Set((await this.#telework.listSites(org)).map((s) => s.id));
    const rows = readDirectoryImport(records, known, siteIds);
    if (rows.length === 0) throw new MoimError('INVALID_PAYLOAD', 'the file has no one in it (a header row only)');
    const cycle = findManagerCycle(rows, known);
    if (cycle)
      throw new MoimError(
        'INVALID_PAYLOAD',
        `line ${cycle.line}, column manager: a manager cycle (${cycle.cycle.join(' → ')})`,
      );
    const counts = await this.#store.importPeople(
      org,
      rows.map((r) => r.person),
      this.#now(),
    );
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.directory.import',
      target: org,
      detail: { org, rows: rows.length, ...counts },
    });
    this.#log.info({ org, ...counts }, 'directory imported');
    return counts;
  }

  /** The directory as CSV (org admins): UTF-8 with BOM, never the priority categories. */
  async exportCsv(caller: Principal): Promise<string> {
    const org = await this.#adminOrg(caller);
    const people = await this.#store.listPeople(org);
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.directory.export',
      target: org,
      detail: { org, people: people.length },
    });
    return toCsv(directoryExportRows(people));
  }

  /** The org's holidays of one calendar year, by day (every member). */
  async holidays(caller: Principal, year: number): Promise<Holiday[]> {
    const org = await this.#sites.orgOf(caller);
    const y = String(year).padStart(4, '0');
    return this.#store.listHolidays(org, `${y}-01-01`, `${y}-12-31`);
  }

  /** Create or rename the holiday of `day` (org admins). */
  async putHoliday(caller: Principal, day: string, input: HolidayInput): Promise<HolidayPutResponse> {
    const org = await this.#adminOrg(caller);
    if (input.day !== undefined && input.day !== day) throw new MoimError('INVALID_PAYLOAD', 'day: must be the path’s');
    const holiday: Holiday = { day, name: input.name };
    const created = await this.#store.putHoliday(org, holiday, this.#now());
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.holiday.put',
      target: day,
      detail: { org, name: holiday.name, created },
    });
    return { holiday, created };
  }

  async deleteHoliday(caller: Principal, day: string): Promise<void> {
    const org = await this.#adminOrg(caller);
    if (!(await this.#store.deleteHoliday(org, day))) throw new MoimError('NOT_FOUND', `no holiday on ${day}`);
    await this.#audit.append({ actor: caller.sub, action: 'telework.holiday.delete', target: day, detail: { org } });
  }

  async #adminOrg(caller: Principal): Promise<string> {
    const org = await this.#sites.orgOf(caller);
    if (!caller.isAdmin) throw new MoimError('FORBIDDEN', 'only an admin of the organisation manages its directory');
    return org;
  }

  /** Who read whose categories (never the categories themselves); nothing when `subs` is empty. */
  async #auditSensitiveRead(caller: Principal, org: string, subs: string[]): Promise<void> {
    const [first] = subs;
    if (first === undefined) return;
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.directory.read-sensitive',
      target: subs.length === 1 ? first : `${subs.length} people`,
      detail: { org, subs },
    });
  }
}

/** The record as answered to someone who may not see the priority categories. */
function withoutCategories(person: DirectoryRecord): DirectoryPerson {
  const { priorityCategories: _hidden, ...rest } = person;
  return rest;
}

/**
 * Up to `steps` managers above `sub`, nearest first: stops at the top, at a manager not on record
 * or inactive, and at anyone already in the chain (a cycle), `sub` included.
 */
async function walkChain(sub: string, steps: number, lookup: Lookup): Promise<string[]> {
  const chain: string[] = [];
  const seen = new Set([sub]);
  let person = await lookup(sub);
  while (person && chain.length < steps) {
    const manager = person.manager;
    if (manager === null || seen.has(manager)) break;
    const next = await lookup(manager);
    if (!next?.active) break;
    chain.push(manager);
    seen.add(manager);
    person = next;
  }
  return chain;
}
