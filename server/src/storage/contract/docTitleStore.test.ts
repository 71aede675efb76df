/** The DocTitleStore contract, run unchanged against every backend (SQLite, PostgreSQL). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DocRef } from '../DocStore.ts';
import type { DocTitleStore } from '../DocTitleStore.ts';
import { BACKENDS, type OpenedBackend } from './backends.ts';

const acme: DocRef = { org: 'acme', name: 'd-abc' };
const evil: DocRef = { org: 'evil', name: 'd-abc' };
/** 80 characters of Korean (what the first titles in names could not hold). */
const LONG_KO =
  '2026년 하반기 원격 근무 운영 계획과 거점 사무실 좌석 예약 정책 개정안에 대한 부서별 의견 취합 및 검토 결과 보고서 (인사팀 공동 작성)';

describe.each(BACKENDS)('DocTitleStore contract on $name', (backend) => {
  let opened: OpenedBackend;
  let titles: DocTitleStore;
  beforeEach(async () => {
    opened = await backend.open();
    titles = opened.stores.docTitles;
  });
  afterEach(() => opened.close());

  it("a rename is a change of the document: its updatedAt moves forward (never back), another org's stays", async () => {
    const docs = opened.stores.docs;
    await docs.create({ ...acme, owner: 'kim', policy: { exportAllowed: true } });
    await docs.create({ ...evil, owner: 'eve', policy: { exportAllowed: true } });
    const created = (await docs.get(acme))!.updatedAt;
    const evilAt = (await docs.get(evil))!.updatedAt;
    await titles.set(acme, 'later', 'kim', created + 60_000);
    expect((await docs.get(acme))!.updatedAt).toBe(created + 60_000);
    await titles.set(acme, 'a late clock', 'kim', created + 1);
    expect((await docs.get(acme))!.updatedAt).toBe(created + 60_000);
    expect((await docs.get(evil))!.updatedAt).toBe(evilAt);
    // a title of a document with no record (an old `t.` name) only stores the title
    await titles.set({ org: 'acme', name: 't.none' }, 'x', 'kim', created);
    expect(await docs.get({ org: 'acme', name: 't.none' })).toBeUndefined();
  });

  it('stores a long Korean title with who set it and when; a rename keeps who created it', async () => {
    expect([...LONG_KO]).toHaveLength(80);
    expect(await titles.get(acme)).toBeUndefined();
    const first = await titles.set(acme, LONG_KO, 'kim', 1_000);
    expect(first).toEqual({
      ...acme,
      title: LONG_KO,
      createdBy: 'kim',
      createdAt: 1_000,
      updatedBy: 'kim',
      updatedAt: 1_000,
    });
    expect(await titles.get(acme)).toEqual(first);
    const renamed = await titles.set(acme, '주간 보고 👍 (최종)', 'lee', 2_000);
    expect(renamed).toEqual({
      ...acme,
      title: '주간 보고 👍 (최종)',
      createdBy: 'kim',
      createdAt: 1_000,
      updatedBy: 'lee',
      updatedAt: 2_000,
    });
    expect(await titles.get(acme)).toEqual(renamed);
  });

  it('keeps organisations apart and deletes one title only', async () => {
    await titles.set(acme, 'acme 계획', 'ann', 1);
    expect(await titles.get(evil)).toBeUndefined();
    await titles.set(evil, 'evil plan', 'eve', 2);
    expect((await titles.get(acme))?.title).toBe('acme 계획');
    expect((await titles.getMany('evil', [acme.name])).get(acme.name)?.title).toBe('evil plan');
    expect(await titles.delete(evil)).toBe(true);
    expect(await titles.delete(evil)).toBe(false);
    expect(await titles.get(evil)).toBeUndefined();
    expect((await titles.get(acme))?.title).toBe('acme 계획');
  });

  it('looks up a page of titles at once (missing names left out, prototype names harmless)', async () => {
    const names = ['a', 'b', 'constructor', 'toString', '__proto__'];
    for (const [i, name] of names.entries()) await titles.set({ org: 'acme', name }, `제목 ${i}`, 'ann', i);
    const found = await titles.getMany('acme', ['b', 'missing', 'constructor', '__proto__', 'b']);
    expect([...found.keys()].sort()).toEqual(['__proto__', 'b', 'constructor']);
    expect(found.get('constructor')?.title).toBe('제목 2');
    expect(found.get('__proto__')?.title).toBe('제목 4');
    expect((await titles.getMany('acme', [])).size).toBe(0);
    // more names than one query takes
    const many = Array.from({ length: 1_200 }, (_, i) => `n${i}`);
    await titles.set({ org: 'acme', name: 'n1150' }, '마지막', 'ann', 9);
    expect([...(await titles.getMany('acme', many)).keys()]).toEqual(['n1150']);
  });
});
