/**
 * Issue 15 (leftover): document titles are stored data. A title is free text (any language, NFC,
 * trimmed, 1–200 characters, no control characters), created with the document or set later by
 * whoever may write it, listed for every reader, audited, kept per organisation; documents made
 * before keep the title their `t.` name carries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DocInfo } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteMigrations } from '../server/src/storage/sqlite/migrations/index.ts';
import { SqliteDb } from '../server/src/storage/sqlite/SqliteDb.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { api, docRef } from './docs-support.ts';
import { PROTOTYPE_NAMES } from './support/hostile.ts';

/** 80 characters of Korean: more than a `t.` name could ever hold (~30). */
const LONG_KO =
  '2026년 하반기 원격 근무 운영 계획과 거점 사무실 좌석 예약 정책 개정안에 대한 부서별 의견 취합 및 검토 결과 보고서 (인사팀 공동 작성)';

let server: TestServer;
let kim: string;
let lee: string;
beforeAll(async () => {
  server = await startTestServer();
  [kim, lee] = await Promise.all([
    server.token({ name: '김민준', sub: 'kim' }),
    server.token({ name: '이서연', sub: 'lee' }),
  ]);
});
afterAll(() => server.close());

type Err = { error: { code: string; message: string } };
const create = (tok: string, body: unknown) => api<{ doc: DocInfo } & Partial<Err>>(server, 'POST', '/docs', tok, body);
const rename = (tok: string, name: string, title: unknown) =>
  api<{ doc: DocInfo } & Partial<Err>>(server, 'PUT', `/docs/${encodeURIComponent(name)}/title`, tok, { title });
const list = async (tok: string): Promise<DocInfo[]> => {
  const out: DocInfo[] = [];
  let after = '';
  for (;;) {
    const page = await api<{ docs: DocInfo[]; next?: string }>(server, 'GET', `/docs?limit=500${after}`, tok);
    expect(page.status).toBe(200);
    out.push(...page.body.docs);
    if (!page.body.next) return out;
    after = `&after=${encodeURIComponent(page.body.next)}`;
  }
};
const titleIn = async (tok: string, name: string) => (await list(tok)).find((d) => d.name === name)?.title;
const audit = async (action: string, target: string) =>
  (await server.app.stores.audit.list({ action, limit: 1000 })).filter((e) => e.target === target);

describe('document titles over HTTP', () => {
  it('creates a document with an 80-character Korean title: the server names it, every reader lists the title', async () => {
    expect([...LONG_KO]).toHaveLength(80);
    // sent decomposed (NFD) and padded: stored composed (NFC) and trimmed
    const created = await create(kim, { title: `  ${LONG_KO.normalize('NFD')}\t ` });
    expect(created.status).toBe(201);
    const { doc } = created.body;
    expect(doc.name).toMatch(/^d-[\w-]{12}$/);
    expect(doc).toMatchObject({ title: LONG_KO, titledBy: 'kim', owner: 'kim', access: 'write' });
    expect(await titleIn(lee, doc.name)).toBe(LONG_KO);
    expect((await api<{ doc: DocInfo }>(server, 'GET', `/docs/${doc.name}`, lee)).body.doc.title).toBe(LONG_KO);
    expect((await audit('doc.create', doc.name))[0]?.detail).toMatchObject({ title: LONG_KO });
    // stored as a record of its own, with who created it and when
    expect(await server.app.stores.docTitles.get(docRef(doc.name))).toMatchObject({
      title: LONG_KO,
      createdBy: 'kim',
      updatedBy: 'kim',
    });
    // two documents may share a title
    const again = await create(lee, { title: LONG_KO });
    expect(again.status).toBe(201);
    expect(again.body.doc.name).not.toBe(doc.name);
    expect(again.body.doc.title).toBe(LONG_KO);
  });

  it('a title that is a free, valid name stays the name (compatibility); taken or reserved, the server picks one', async () => {
    const plain = await create(kim, { title: 'plan-2027' });
    expect(plain.body.doc).toMatchObject({ name: 'plan-2027', title: 'plan-2027' });
    const taken = await create(kim, { title: 'plan-2027' });
    expect(taken.status).toBe(201);
    expect(taken.body.doc).toMatchObject({ title: 'plan-2027' });
    expect(taken.body.doc.name).toMatch(/^d-/);
    // `t.` names carry old titles, `room-…-notes` are a meeting's notes: never picked from a title
    for (const title of ['t.abc', 'room-r1-notes']) {
      const res = await create(kim, { title });
      expect(res.body.doc.name, title).toMatch(/^d-/);
      expect(res.body.doc.title).toBe(title);
    }
    // a name and a title: the name as given (409 when taken, as before)
    const both = await create(kim, { name: 'budget', title: '예산 (초안)' });
    expect(both.body.doc).toMatchObject({ name: 'budget', title: '예산 (초안)' });
    expect((await create(kim, { name: 'budget', title: 'x' })).body.error?.code).toBe('CONFLICT');
    // grants decide: a token granted one name may create it by title, but no name of the server's choosing
    const narrow = await server.token({
      name: 'Narrow',
      sub: 'narrow',
      grants: { docs: { 'only-this': ['read', 'write'] } },
    });
    expect((await create(narrow, { title: 'only-this' })).body.doc).toMatchObject({
      name: 'only-this',
      title: 'only-this',
    });
    expect((await create(narrow, { title: '다른 문서' })).body.error?.code).toBe('FORBIDDEN');
    expect((await create(narrow, { title: 'only-this' })).body.error?.code).toBe('FORBIDDEN');
    // a name only: no stored title, the list shows none
    await create(kim, { name: 'untitled-1' });
    expect(await titleIn(kim, 'untitled-1')).toBeUndefined();
  });

  it('refuses bad titles with INVALID_TITLE (and malformed bodies with INVALID_PAYLOAD)', async () => {
    const bad: [string, unknown][] = [
      ['empty', ''],
      ['spaces only', ' \u3000 '],
      ['201 characters', '가'.repeat(201)],
      ['a NUL', 'a\u0000b'],
      ['a line break', '첫 줄\n둘째 줄'],
      ['a tab inside', 'a\tb'],
      ['a DEL', 'a\u007fb'],
      ['a C1 control', 'a\u0085b'],
      ['a line separator', 'a\u2028b'],
      ['a right-to-left override', 'invoice\u202Efdp.exe'],
    ];
    for (const [what, title] of bad) {
      const res = await create(kim, { title });
      expect(res.status, what).toBe(400);
      expect(res.body.error?.code, what).toBe('INVALID_TITLE');
    }
    // 200 characters counted as characters: 200 emoji (400 UTF-16 units) is a valid title
    expect((await create(kim, { title: '👍'.repeat(200) })).status).toBe(201);
    for (const body of [{}, { title: 42 }, { title: null }, { title: 'x', extra: 1 }, { title: 'x'.repeat(5000) }]) {
      const res = await create(kim, body);
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(res.body.error?.code).toBe('INVALID_PAYLOAD');
    }
    const { doc } = (await create(kim, { title: '바꿀 제목' })).body;
    for (const [what, title] of bad) {
      const res = await rename(kim, doc.name, title);
      expect(res.body.error?.code, `rename: ${what}`).toBe('INVALID_TITLE');
    }
    expect((await rename(kim, doc.name, 7)).body.error?.code).toBe('INVALID_PAYLOAD');
    expect(await titleIn(kim, doc.name)).toBe('바꿀 제목');
  });

  it('renames (whoever may write), audited; every reader lists the new title; readers and other organisations refused', async () => {
    const { doc } = (await create(kim, { title: LONG_KO })).body;
    const renamed = await rename(lee, doc.name, '  주간 보고 — 최종본 👍 ');
    expect(renamed.status).toBe(200);
    expect(renamed.body.doc).toMatchObject({ name: doc.name, title: '주간 보고 — 최종본 👍', titledBy: 'lee' });
    expect(await titleIn(kim, doc.name)).toBe('주간 보고 — 최종본 👍');
    const reader = await server.token({ name: 'Reader', sub: 'reader', grants: { docs: { [doc.name]: ['read'] } } });
    expect(await titleIn(reader, doc.name)).toBe('주간 보고 — 최종본 👍');
    const refused = await rename(reader, doc.name, '읽기 전용');
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    const rows = await audit('doc.rename', doc.name);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'lee', detail: { title: '주간 보고 — 최종본 👍', before: LONG_KO } });
    expect(await server.app.stores.docTitles.get(docRef(doc.name))).toMatchObject({
      createdBy: 'kim',
      updatedBy: 'lee',
    });

    // another organisation: the document is not there (404), its title is not listed
    const evil = await server.token({ name: 'Mallory', sub: 'kim', org: 'evil', role: 'admin' });
    expect((await rename(evil, doc.name, 'pwned')).body.error?.code).toBe('NOT_FOUND');
    expect((await list(evil)).map((d) => d.name)).not.toContain(doc.name);
    // evil's own document of the same name has its own title
    expect((await create(evil, { name: doc.name, title: 'evil 제목' })).status).toBe(201);
    expect(await titleIn(kim, doc.name)).toBe('주간 보고 — 최종본 👍');
    expect(await titleIn(evil, doc.name)).toBe('evil 제목');
    // a document that does not exist
    expect((await rename(kim, 'no-such-doc', '제목')).body.error?.code).toBe('NOT_FOUND');
  });

  it('documents made before: the `t.` name’s title is shown until a rename stores one', async () => {
    const legacyTitle = '주간 보고';
    const name = `t.${Buffer.from(legacyTitle, 'utf8').toString('base64url')}`;
    expect((await create(kim, { name })).status).toBe(201);
    expect(await titleIn(lee, name)).toBe(legacyTitle);
    // a `t.` name that is not one of ours is shown as the name
    await create(kim, { name: 't.%%' }).then((r) => expect(r.status).toBe(400));
    await create(kim, { name: 't.____' });
    expect(await titleIn(kim, 't.____')).toBeUndefined();
    expect((await rename(kim, name, '주간 보고 (개정)')).status).toBe(200);
    expect(await titleIn(lee, name)).toBe('주간 보고 (개정)');
  });

  it('a deleted document takes its title along; export carries the title', async () => {
    const { doc } = (await create(kim, { name: 'gone', title: '지울 문서' })).body;
    const json = await api<{ name: string; title?: string }>(server, 'GET', '/docs/gone/export?format=json', kim);
    expect(json.body).toMatchObject({ name: 'gone', title: '지울 문서' });
    const text = await fetch(`${server.url}/docs/gone/export?format=text`, {
      headers: { authorization: `Bearer ${kim}` },
    });
    expect(text.headers.get('content-disposition')).toBe(
      `attachment; filename="gone.txt"; filename*=UTF-8''${encodeURIComponent('지울 문서.txt')}`,
    );
    expect((await api(server, 'DELETE', `/docs/${doc.name}`, kim)).status).toBe(200);
    expect(await server.app.stores.docTitles.get(docRef('gone'))).toBeUndefined();
    expect((await create(kim, { name: 'gone' })).body.doc.title).toBeUndefined();
  });

  it('prototype member names as titles and names are harmless', async () => {
    const admin = await server.token({ name: 'Admin', role: 'admin', org: 'proto' });
    for (const p of PROTOTYPE_NAMES) {
      const byTitle = await create(admin, { title: p });
      expect(byTitle.status, p).toBe(201);
      expect(byTitle.body.doc.title).toBe(p);
      const named = await create(admin, { name: `n-${byTitle.body.doc.name}`, title: `제목 ${p}` });
      expect(named.status, p).toBe(201);
      expect((await rename(admin, byTitle.body.doc.name, `${p} 2`)).body.doc.title).toBe(`${p} 2`);
    }
    const listed = await list(admin);
    for (const p of PROTOTYPE_NAMES) expect(listed.map((d) => d.title)).toContain(`${p} 2`);
    expect(listed.every((d) => typeof d.title === 'string')).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('a stored title is content: held back from guests where the document’s policy refuses guests', async () => {
    const { doc } = (await create(kim, { name: 'secret-plan', title: '인수 합병 계획' })).body;
    const guest = await server.token({ name: 'Guest', sub: 'guest', grants: { docs: { [doc.name]: ['read'] } } });
    expect(await titleIn(guest, doc.name)).toBe('인수 합병 계획');
    const put = await fetch(`${server.url}/policies/doc/${doc.name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${kim}`, 'content-type': 'application/json' },
      body: JSON.stringify({ guests: false }),
    });
    expect(put.status).toBe(200);
    expect((await list(guest)).find((d) => d.name === doc.name)).toMatchObject({ name: doc.name });
    expect(await titleIn(guest, doc.name)).toBeUndefined();
    expect((await api<{ doc: DocInfo }>(server, 'GET', `/docs/${doc.name}`, guest)).body.doc.title).toBeUndefined();
    // members of the organisation (a `*` grant) still see it
    expect(await titleIn(lee, doc.name)).toBe('인수 합병 계획');
  });
});

describe('upgrading a data folder from before titles were stored (migration 0210_doc_titles)', () => {
  it('its documents keep working: a `t.` document is listed with its title, and can be renamed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moim-titles-upgrade-'));
    try {
      const legacyName = `t.${Buffer.from('분기 보고', 'utf8').toString('base64url')}`;
      const db = SqliteDb.open(path.join(dir, 'moim.sqlite'));
      db.migrate(sqliteMigrations.filter((m) => m.id < '0210'));
      for (const name of [legacyName, 'plan-2026'])
        db.run(
          "INSERT INTO docs (org, name, owner, created_at, updated_at, export_allowed) VALUES ('default', ?, 'ann', 1, 2, 1)",
          name,
        );
      db.close();
      const upgraded = await startTestServer({}, { dataDir: dir });
      try {
        const ann = await upgraded.token({ name: 'Ann', sub: 'ann' });
        const docs = (await api<{ docs: DocInfo[] }>(upgraded, 'GET', '/docs', ann)).body.docs;
        expect(docs.map((d) => [d.name, d.title])).toEqual([
          ['plan-2026', undefined],
          [legacyName, '분기 보고'],
        ]);
        const res = await api<{ doc: DocInfo }>(upgraded, 'PUT', `/docs/${legacyName}/title`, ann, {
          title: '분기 보고 (수정)',
        });
        expect(res.body.doc.title).toBe('분기 보고 (수정)');
      } finally {
        await upgraded.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
