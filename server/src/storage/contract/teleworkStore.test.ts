/**
 * The TeleworkStore contract, run unchanged against every backend (SQLite, PostgreSQL): sites and
 * places created once (CONFLICT after), replaced, listed, deleted (a site's places with it), the
 * first-use seed stored once, and no lookup crossing organisations.
 */
import { MoimError, type Place, type Site } from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import type { Stores } from '../index.ts';
import { BACKENDS, useStores } from './backends.ts';

const AT = 1_700_000_000_000;
const weekdays = (open: string, close: string): Site['openingHours'] => [
  null,
  { open, close },
  { open, close },
  { open, close },
  { open, close },
  { open, close },
  null,
];
const site = (id: string, extra: Partial<Site> = {}): Site => ({
  id,
  name: `Site ${id}`,
  address: '1 Main St',
  timeZone: 'Asia/Seoul',
  openingHours: weekdays('09:00', '18:00'),
  networks: ['10.20.0.0/16', '2001:db8::/32'],
  kind: 'smart-work-centre',
  ...extra,
});
const seat = (siteId: string, id: string): Place => ({
  id,
  siteId,
  kind: 'seat',
  name: `Seat ${id}`,
  tier: null,
  capacity: 1,
});
const room = (siteId: string, id: string): Place => ({
  id,
  siteId,
  kind: 'meeting-room',
  name: `Room ${id}`,
  tier: 'immersive',
  capacity: 12,
});

describe.each(BACKENDS)('telework store contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  it('creates a site once (CONFLICT after), gets, replaces and lists it by id', async () => {
    const t = stores.telework;
    expect(await t.createSite('acme', site('swc-b'), AT)).toEqual(site('swc-b'));
    await t.createSite(
      'acme',
      site('swc-a', { networks: [], openingHours: [null, null, null, null, null, null, null] }),
      AT,
    );
    expect(await t.getSite('acme', 'swc-b')).toEqual(site('swc-b'));
    const dup = t.createSite('acme', site('swc-b', { name: 'Other' }), AT);
    await expect(dup).rejects.toBeInstanceOf(MoimError);
    await expect(dup).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await t.getSite('acme', 'swc-b'))?.name).toBe('Site swc-b');

    const replaced = site('swc-b', { name: 'Busan', kind: 'hq', timeZone: 'UTC', networks: ['192.168.1.0/24'] });
    expect(await t.updateSite('acme', replaced, AT + 1)).toBe(true);
    expect(await t.getSite('acme', 'swc-b')).toEqual(replaced);
    expect(await t.updateSite('acme', site('nope'), AT)).toBe(false);
    expect(await t.getSite('acme', 'nope')).toBeUndefined();
    expect((await t.listSites('acme')).map((s) => s.id)).toEqual(['swc-a', 'swc-b']);
  });

  it('stores places per site: CONFLICT twice, NOT_FOUND without the site, replaced, listed, deleted', async () => {
    const t = stores.telework;
    await t.createSite('acme', site('s1'), AT);
    await t.createSite('acme', site('s2'), AT);
    expect(await t.createPlace('acme', seat('s1', 'desk-2'), AT)).toEqual(seat('s1', 'desk-2'));
    await t.createPlace('acme', room('s1', 'room-1'), AT);
    await t.createPlace('acme', seat('s1', 'desk-1'), AT);
    // the same place id in another site is another place
    await t.createPlace('acme', seat('s2', 'desk-1'), AT);
    await expect(t.createPlace('acme', seat('s1', 'desk-1'), AT)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(t.createPlace('acme', seat('missing', 'desk-1'), AT)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await t.getPlace('acme', 's1', 'room-1')).toEqual(room('s1', 'room-1'));
    expect(await t.getPlace('acme', 's1', 'nope')).toBeUndefined();
    expect((await t.listPlaces('acme', 's1')).map((p) => p.id)).toEqual(['desk-1', 'desk-2', 'room-1']);
    expect(await t.listPlaces('acme', 'missing')).toEqual([]);

    const bigger = { ...room('s1', 'room-1'), name: 'Big room', tier: 'standard' as const, capacity: 500 };
    expect(await t.updatePlace('acme', bigger, AT + 1)).toBe(true);
    expect(await t.getPlace('acme', 's1', 'room-1')).toEqual(bigger);
    expect(await t.updatePlace('acme', seat('s1', 'nope'), AT)).toBe(false);

    expect(await t.deletePlace('acme', 's1', 'desk-2')).toBe(true);
    expect(await t.deletePlace('acme', 's1', 'desk-2')).toBe(false);
    expect((await t.listPlaces('acme', 's1')).map((p) => p.id)).toEqual(['desk-1', 'room-1']);
  });

  it('deletes a site with its places, once; a site of the same id made later starts empty', async () => {
    const t = stores.telework;
    await t.createSite('acme', site('s1'), AT);
    await t.createPlace('acme', seat('s1', 'desk-1'), AT);
    await t.createPlace('acme', room('s1', 'room-1'), AT);
    expect(await t.deleteSite('acme', 's1')).toBe(true);
    expect(await t.deleteSite('acme', 's1')).toBe(false);
    expect(await t.getSite('acme', 's1')).toBeUndefined();
    expect(await t.getPlace('acme', 's1', 'desk-1')).toBeUndefined();
    await t.createSite('acme', site('s1'), AT);
    expect(await t.listPlaces('acme', 's1')).toEqual([]);
  });

  it('keeps organisations apart: the same ids in two orgs are two records, and no call reaches the other', async () => {
    const t = stores.telework;
    await t.createSite('acme', site('s1'), AT);
    await t.createPlace('acme', seat('s1', 'desk-1'), AT);
    expect(await t.getSite('evil', 's1')).toBeUndefined();
    expect(await t.listSites('evil')).toEqual([]);
    expect(await t.listPlaces('evil', 's1')).toEqual([]);
    expect(await t.getPlace('evil', 's1', 'desk-1')).toBeUndefined();
    expect(await t.updateSite('evil', site('s1', { name: 'Taken' }), AT)).toBe(false);
    expect(await t.updatePlace('evil', { ...seat('s1', 'desk-1'), capacity: 9 }, AT)).toBe(false);
    await expect(t.createPlace('evil', seat('s1', 'desk-2'), AT)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await t.deletePlace('evil', 's1', 'desk-1')).toBe(false);
    expect(await t.deleteSite('evil', 's1')).toBe(false);

    await t.createSite('evil', site('s1', { name: 'Evil s1' }), AT);
    await t.createPlace('evil', seat('s1', 'desk-1'), AT);
    expect(await t.deleteSite('evil', 's1')).toBe(true);
    expect(await t.getSite('acme', 's1')).toEqual(site('s1'));
    expect(await t.getPlace('acme', 's1', 'desk-1')).toEqual(seat('s1', 'desk-1'));
  });

  it('seeds an org once, keeps a site it already has, and never again after its sites were deleted', async () => {
    const t = stores.telework;
    await t.createSite('acme', site('hq', { name: 'Mine' }), AT);
    const seed = [site('hq', { kind: 'hq' }), site('home', { kind: 'home', networks: [] })];
    expect(await t.seedOnce('acme', seed, AT)).toBe(true);
    expect(await t.seedOnce('acme', seed, AT)).toBe(false);
    expect((await t.listSites('acme')).map((s) => [s.id, s.name])).toEqual([
      ['home', 'Site home'],
      ['hq', 'Mine'],
    ]);
    await t.deleteSite('acme', 'hq');
    await t.deleteSite('acme', 'home');
    expect(await t.seedOnce('acme', seed, AT)).toBe(false);
    expect(await t.listSites('acme')).toEqual([]);
    expect(await t.seedOnce('other', seed, AT)).toBe(true);
    expect((await t.listSites('other')).map((s) => s.id)).toEqual(['home', 'hq']);
  });
});
