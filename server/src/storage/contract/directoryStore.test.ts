/**
 * The DirectoryStore contract, run unchanged against every backend (SQLite, PostgreSQL): people
 * put (created, then replaced), read, listed by sub and deleted; reports found through every level
 * and through a cycle without looping; an import stored in one transaction (a failing row leaves
 * nothing of it); holidays by day and year; and no lookup crossing organisations.
 */
import { describe, expect, it } from 'vitest';
import type { DirectoryRecord } from '../DirectoryStore.ts';
import type { Stores } from '../index.ts';
import { BACKENDS, useStores } from './backends.ts';

const AT = 1_700_000_000_000;
const person = (sub: string, extra: Partial<DirectoryRecord> = {}): DirectoryRecord => ({
  sub,
  name: `Person ${sub}`,
  team: 'platform',
  manager: null,
  homeSiteId: 'hq',
  dutyExcludesTelework: false,
  priorityCategories: [],
  routineDuties: false,
  active: true,
  ...extra,
});

describe.each(BACKENDS)('directory store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('puts a person (created, then replaced), gets, lists by sub and deletes once', async () => {
    const d = stores.directory;
    const kim = person('kim@acme', {
      name: '김민지',
      priorityCategories: ['pregnancy', 'long-commute'],
      dutyExcludesTelework: true,
      routineDuties: true,
    });
    expect(await d.putPerson('acme', kim, AT)).toBe(true);
    expect(await d.putPerson('acme', person('a.lee'), AT)).toBe(true);
    expect(await d.getPerson('acme', 'kim@acme')).toEqual(kim);
    const replaced = {
      ...kim,
      name: 'Kim Minji',
      manager: 'a.lee',
      homeSiteId: null,
      active: false,
      priorityCategories: [],
    };
    expect(await d.putPerson('acme', replaced, AT + 1)).toBe(false);
    expect(await d.getPerson('acme', 'kim@acme')).toEqual(replaced);
    expect((await d.listPeople('acme')).map((p) => p.sub)).toEqual(['a.lee', 'kim@acme']);
    expect(await d.getPerson('acme', 'nobody')).toBeUndefined();
    expect(await d.deletePerson('acme', 'kim@acme')).toBe(true);
    expect(await d.deletePerson('acme', 'kim@acme')).toBe(false);
    expect(await d.getPerson('acme', 'kim@acme')).toBeUndefined();
  });

  it('refuses a person managing themself', async () => {
    await expect(stores.directory.putPerson('acme', person('solo', { manager: 'solo' }), AT)).rejects.toThrow();
    expect(await stores.directory.getPerson('acme', 'solo')).toBeUndefined();
  });

  it('finds reports at every level, never the manager, and ends at a cycle', async () => {
    const d = stores.directory;
    await d.putPerson('acme', person('ceo'), AT);
    await d.putPerson('acme', person('cto', { manager: 'ceo' }), AT);
    await d.putPerson('acme', person('dev-1', { manager: 'cto' }), AT);
    await d.putPerson('acme', person('dev-2', { manager: 'cto' }), AT);
    await d.putPerson('acme', person('intern', { manager: 'dev-2' }), AT);
    await d.putPerson('acme', person('cfo', { manager: 'ceo' }), AT);
    expect(await d.reportsOf('acme', 'cto')).toEqual(['dev-1', 'dev-2', 'intern']);
    expect(await d.reportsOf('acme', 'ceo')).toEqual(['cfo', 'cto', 'dev-1', 'dev-2', 'intern']);
    expect(await d.reportsOf('acme', 'intern')).toEqual([]);
    // a cycle in the data (the service refuses to make one; the store must still end)
    await d.putPerson('acme', person('ceo', { manager: 'intern' }), AT);
    expect(await d.reportsOf('acme', 'cto')).toEqual(['ceo', 'cfo', 'dev-1', 'dev-2', 'intern']);
  });

  it('imports in one transaction: counts created and updated, and a failing row leaves nothing', async () => {
    const d = stores.directory;
    await d.putPerson('acme', person('old', { name: 'Before' }), AT);
    const counts = await d.importPeople(
      'acme',
      [person('old', { name: 'After' }), person('new-1', { manager: 'old' }), person('new-2')],
      AT + 1,
    );
    expect(counts).toEqual({ created: 2, updated: 1 });
    expect((await d.getPerson('acme', 'old'))?.name).toBe('After');
    expect(await d.getPerson('acme', 'new-1')).toEqual(person('new-1', { manager: 'old' }));

    const many = Array.from({ length: 1203 }, (_, i) => person(`bulk-${String(i).padStart(4, '0')}`));
    const failing = [person('old', { name: 'Lost' }), ...many, person('self', { manager: 'self' })];
    await expect(d.importPeople('acme', failing, AT + 2)).rejects.toThrow();
    expect((await d.getPerson('acme', 'old'))?.name).toBe('After');
    expect(await d.getPerson('acme', 'bulk-0000')).toBeUndefined();
    expect((await d.listPeople('acme')).map((p) => p.sub)).toEqual(['new-1', 'new-2', 'old']);

    expect(await d.importPeople('acme', many, AT + 3)).toEqual({ created: 1203, updated: 0 });
    expect(await d.listPeople('acme')).toHaveLength(1206);
  });

  it('keeps holidays by day: put (created, then renamed), listed by year, deleted once', async () => {
    const d = stores.directory;
    expect(await d.putHoliday('acme', { day: '2026-12-25', name: 'Christmas' }, AT)).toBe(true);
    expect(await d.putHoliday('acme', { day: '2026-12-25', name: '성탄절' }, AT + 1)).toBe(false);
    await d.putHoliday('acme', { day: '2026-01-01', name: '신정' }, AT);
    await d.putHoliday('acme', { day: '2027-01-01', name: '신정' }, AT);
    await d.putHoliday('acme', { day: '2025-12-31', name: 'Eve' }, AT);
    expect(await d.getHoliday('acme', '2026-12-25')).toEqual({ day: '2026-12-25', name: '성탄절' });
    expect(await d.getHoliday('acme', '2026-12-24')).toBeUndefined();
    expect(await d.listHolidays('acme', '2026-01-01', '2026-12-31')).toEqual([
      { day: '2026-01-01', name: '신정' },
      { day: '2026-12-25', name: '성탄절' },
    ]);
    expect(await d.deleteHoliday('acme', '2026-12-25')).toBe(true);
    expect(await d.deleteHoliday('acme', '2026-12-25')).toBe(false);
    expect(await d.getHoliday('acme', '2026-12-25')).toBeUndefined();
  });

  it('keeps organisations apart', async () => {
    const d = stores.directory;
    await d.putPerson('acme', person('boss'), AT);
    await d.putPerson('acme', person('kim', { manager: 'boss', priorityCategories: ['disability'] }), AT);
    expect(await d.putPerson('evil', person('kim', { name: 'Other Kim', manager: 'boss' }), AT)).toBe(true);
    await d.putHoliday('acme', { day: '2026-12-25', name: '성탄절' }, AT);
    expect((await d.getPerson('evil', 'kim'))?.name).toBe('Other Kim');
    expect((await d.getPerson('acme', 'kim'))?.priorityCategories).toEqual(['disability']);
    expect(await d.getPerson('evil', 'boss')).toBeUndefined();
    expect(await d.reportsOf('acme', 'boss')).toEqual(['kim']);
    expect(await d.reportsOf('evil', 'boss')).toEqual(['kim']);
    await d.putPerson('evil', person('boss'), AT);
    await d.putPerson('evil', person('kim', { name: 'Other Kim', manager: null }), AT);
    expect(await d.reportsOf('evil', 'boss')).toEqual([]);
    expect(await d.reportsOf('acme', 'boss')).toEqual(['kim']);
    expect((await d.listPeople('evil')).map((p) => p.name)).toEqual(['Person boss', 'Other Kim']);
    expect(await d.getHoliday('evil', '2026-12-25')).toBeUndefined();
    expect(await d.listHolidays('evil', '2026-01-01', '2026-12-31')).toEqual([]);
    expect(await d.deleteHoliday('evil', '2026-12-25')).toBe(false);
    expect(await d.deletePerson('evil', 'boss')).toBe(true);
    expect(await d.getPerson('acme', 'boss')).toBeDefined();
  });
});
