/**
 * The telework org directory and holiday calendar over HTTP against a real server: admins put
 * people and import CSV (BOM, quoted commas, Korean names; a bad row names its line and column and
 * stores nothing; a manager cycle is refused), members see only themselves and managers their
 * direct and indirect reports, priority categories reach only admins and approvers (each such
 * read audited), the export has a BOM, no categories and defused formulas, holidays are kept per
 * org, approval chains follow MOIM_TELEWORK_APPROVAL_STEPS, and prototype names are refused.
 */
import type {
  DirectoryImportResponse,
  DirectoryListResponse,
  DirectoryPersonResponse,
  DirectoryPutResponse,
  HolidayListResponse,
} from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Principal } from '../server/src/auth/Principal.ts';
import { OrgDirectory } from '../server/src/telework/OrgDirectory.ts';
import { Sites } from '../server/src/telework/Sites.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

type ErrorAnswer = { error: { code: string; message: string } };

let server: TestServer;
let admin: string;
let ceo: string;
let mgr: string;
let kim: string;
let lee: string;
let otherAdmin: string;

const BOM = '\uFEFF';
const HEADER = 'sub,name,team,manager,site,dutyExcludesTelework,priorityCategories,routineDuties';
const ORG_CSV = [
  HEADER,
  'dir-ceo,"Park, CEO",exec,,hq,false,,false',
  'dir-mgr,김부장,platform,dir-ceo,hq,false,,false',
  'dir-kim,"김민지, 대리",platform,dir-mgr,home,false,pregnancy;young-children,true',
  'dir-lee,이준,platform,dir-mgr,hq,true,,false',
  'dir-intern,=cmd(),platform,dir-kim,hq,false,disability,false',
  'dir-other,"Other ""Sales""",sales,dir-ceo,hq,false,long-commute,false',
].join('\r\n');

beforeAll(async () => {
  server = await startTestServer({ MOIM_TELEWORK_DIRECTORY_IMPORT_MAX_ROWS: '20' });
  [admin, ceo, mgr, kim, lee, otherAdmin] = await Promise.all([
    server.token({ name: 'Admin', sub: 'dir-admin', role: 'admin', org: 'acme' }),
    server.token({ name: 'CEO', sub: 'dir-ceo', role: 'member', org: 'acme' }),
    server.token({ name: 'Manager', sub: 'dir-mgr', role: 'manager', org: 'acme' }),
    server.token({ name: 'Kim', sub: 'dir-kim', role: 'member', org: 'acme' }),
    server.token({ name: 'Lee', sub: 'dir-lee', role: 'member', org: 'acme' }),
    server.token({ name: 'Evil', sub: 'dir-evil', role: 'admin', org: 'evil' }),
  ]);
});
afterAll(() => server.close());

async function api<T = unknown>(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T & ErrorAnswer };
}

async function importCsv(token: string, text: string | Uint8Array<ArrayBuffer>, type = 'text/csv; charset=utf-8') {
  const res = await fetch(`${server.url}/telework/directory/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: text,
  });
  return { status: res.status, body: (await res.json()) as DirectoryImportResponse & ErrorAnswer };
}

const subsOf = (answer: { body: DirectoryListResponse }) => answer.body.people.map((p) => p.sub);

describe('telework directory over HTTP', () => {
  it('lets admins put people (201, then 200) and nobody else', async () => {
    const body = { name: 'Temp', team: 'ops', homeSiteId: 'hq', priorityCategories: ['long-commute'] };
    const created = await api<DirectoryPutResponse>('PUT', '/telework/directory/dir-temp', admin, body);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      created: true,
      person: {
        sub: 'dir-temp',
        name: 'Temp',
        team: 'ops',
        manager: null,
        homeSiteId: 'hq',
        dutyExcludesTelework: false,
        priorityCategories: ['long-commute'],
        routineDuties: false,
        active: true,
      },
    });
    const replaced = await api<DirectoryPutResponse>('PUT', '/telework/directory/dir-temp', admin, {
      ...body,
      name: 'Temp 2',
    });
    expect(replaced).toMatchObject({ status: 200, body: { created: false, person: { name: 'Temp 2' } } });
    expect(await api('PUT', '/telework/directory/dir-temp', mgr, body)).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN' } },
    });
    for (const bad of [
      { ...body, homeSiteId: 'nowhere' },
      { ...body, manager: 'dir-temp' },
      { ...body, sub: 'someone-else' },
      { ...body, priorityCategories: ['pregnant'] },
      { ...body, name: '' },
      { ...body, extra: 1 },
    ]) {
      const answer = await api('PUT', '/telework/directory/dir-temp', admin, bad);
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.error.code).toBe('INVALID_PAYLOAD');
    }
    expect((await api('DELETE', '/telework/directory/dir-temp', mgr)).status).toBe(403);
    expect(await api('DELETE', '/telework/directory/dir-temp', admin)).toMatchObject({ status: 200 });
    expect((await api('DELETE', '/telework/directory/dir-temp', admin)).body.error.code).toBe('NOT_FOUND');
    expect((await api('GET', '/telework/directory/dir-temp', admin)).body.error.code).toBe('NOT_FOUND');
  });

  it('imports a CSV with a BOM, quoted commas and Korean names, then replaces on a second import', async () => {
    expect((await importCsv(mgr, BOM + ORG_CSV)).status).toBe(403);
    const first = await importCsv(admin, new TextEncoder().encode(BOM + ORG_CSV));
    expect(first).toEqual({ status: 200, body: { created: 6, updated: 0 } });
    const kimRecord = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-kim', admin);
    expect(kimRecord.body.person).toEqual({
      sub: 'dir-kim',
      name: '김민지, 대리',
      team: 'platform',
      manager: 'dir-mgr',
      homeSiteId: 'home',
      dutyExcludesTelework: false,
      priorityCategories: ['pregnancy', 'young-children'],
      routineDuties: true,
      active: true,
    });
    const other = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-other', admin);
    expect(other.body.person.name).toBe('Other "Sales"');
    // without the BOM, LF only; a file without some columns keeps what they held
    const again = await importCsv(admin, 'sub,name,team\ndir-lee,이준,platform-2\n');
    expect(again).toEqual({ status: 200, body: { created: 0, updated: 1 } });
    const leeRecord = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-lee', admin);
    expect(leeRecord.body.person).toMatchObject({ team: 'platform-2', manager: 'dir-mgr', dutyExcludesTelework: true });
    expect((await importCsv(admin, 'sub,name,team\ndir-lee,이준,platform\n')).status).toBe(200);
  });

  it('refuses a bad row naming its line and column, and stores nothing of the file', async () => {
    const bad = async (text: string, expected: RegExp, code = 'INVALID_PAYLOAD') => {
      const answer = await importCsv(admin, text);
      expect(answer.body.error?.code, text).toBe(code);
      expect(answer.body.error.message).toMatch(expected);
    };
    const rows = (last: string) =>
      [HEADER, 'dir-new-1,New One,ops,dir-ceo,hq,false,,false', 'dir-new-2,New Two,ops,,hq,false,,false', last].join(
        '\n',
      );
    await bad(rows('dir-new-3,New Three,ops,,hq,false,pregnant,false'), /^line 4, column priorityCategories: /);
    await bad(rows('dir-new-3,New Three,ops,,hq,maybe,,false'), /^line 4, column dutyExcludesTelework: /);
    await bad(rows('dir-new-3,New Three,ops,,nowhere,false,,false'), /^line 4, column site: no site nowhere/);
    await bad(rows('dir-new-1,Again,ops,,hq,false,,false'), /^line 4, column sub: dir-new-1 is on line 2/);
    await bad(rows('__proto__,Proto,ops,,hq,false,,false'), /^line 4, column sub: /);
    await bad(rows('dir-new-3,Self,ops,dir-new-3,hq,false,,false'), /^line 4, column manager: /);
    await bad(rows('dir-new-3,Short,ops'), /^line 4: 3 cells, the header has 8/);
    await bad(rows('dir-new-3,"open,ops,,hq,false,,false'), /^line 4: a quoted cell is never closed/);
    await bad(`${HEADER},shoeSize\n`, /^line 1, column shoeSize: unknown column/);
    await bad('name,team\nX,ops\n', /^line 1, column sub: missing/);
    await bad(HEADER, /no one in it/);
    await bad(
      [HEADER, ...Array.from({ length: 21 }, (_, i) => `dir-bulk-${i},Bulk,ops,,,false,,false`)].join('\n'),
      /at most 20 people/,
      'PAYLOAD_TOO_LARGE',
    );
    expect((await importCsv(admin, new Uint8Array([0x73, 0x75, 0x62, 0xff, 0x0a]))).body.error.message).toMatch(
      /not UTF-8/,
    );
    expect((await importCsv(admin, rows(''), 'application/json')).status).toBe(415);
    expect((await importCsv(admin, rows(''), 'text/csv; charset=euc-kr')).status).toBe(415);
    const all = await api<DirectoryListResponse>('GET', '/telework/directory', admin);
    expect(subsOf(all).filter((s) => s.startsWith('dir-new') || s.startsWith('dir-bulk'))).toEqual([]);
  });

  it('refuses a manager cycle (A → B → A), in an import and in a put', async () => {
    const cycle = await importCsv(admin, `${HEADER}\ndir-ceo,"Park, CEO",exec,dir-kim,hq,false,,false\n`);
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.message).toMatch(
      /^line 2, column manager: a manager cycle \(dir-ceo → dir-kim → dir-mgr → dir-ceo\)/,
    );
    const twoNew = await importCsv(admin, `${HEADER}\ndir-a,A,x,dir-b,,false,,false\ndir-b,B,x,dir-a,,false,,false\n`);
    expect(twoNew.body.error.message).toMatch(/^line 2, column manager: a manager cycle \(dir-a → dir-b → dir-a\)/);
    const put = await api('PUT', '/telework/directory/dir-mgr', admin, { name: '김부장', manager: 'dir-intern' });
    expect(put).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PAYLOAD' } } });
    expect(put.body.error.message).toMatch(/cycle/);
    const ceoRecord = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-ceo', admin);
    expect(ceoRecord.body.person.manager).toBeNull();
    expect((await api('GET', '/telework/directory/dir-a', admin)).status).toBe(404);
  });

  it('shows a member only themself, a manager their direct and indirect reports', async () => {
    const mine = await api<DirectoryListResponse>('GET', '/telework/directory', lee);
    expect(subsOf(mine)).toEqual(['dir-lee']);
    expect((await api('GET', '/telework/directory/dir-lee', lee)).status).toBe(200);
    for (const sub of ['dir-kim', 'dir-mgr', 'dir-admin', 'nobody'])
      expect((await api('GET', `/telework/directory/${sub}`, lee)).body.error.code, sub).toBe('FORBIDDEN');

    const team = await api<DirectoryListResponse>('GET', '/telework/directory', mgr);
    expect(subsOf(team)).toEqual(['dir-intern', 'dir-kim', 'dir-lee', 'dir-mgr']);
    expect((await api('GET', '/telework/directory/dir-intern', mgr)).status).toBe(200);
    for (const sub of ['dir-other', 'dir-ceo'])
      expect((await api('GET', `/telework/directory/${sub}`, mgr)).body.error.code, sub).toBe('FORBIDDEN');
    // a member with reports is their manager too
    const top = await api<DirectoryListResponse>('GET', '/telework/directory', ceo);
    expect(subsOf(top)).toEqual(['dir-ceo', 'dir-intern', 'dir-kim', 'dir-lee', 'dir-mgr', 'dir-other']);
    const everyone = await api<DirectoryListResponse>('GET', '/telework/directory', admin);
    expect(subsOf(everyone)).toEqual(['dir-ceo', 'dir-intern', 'dir-kim', 'dir-lee', 'dir-mgr', 'dir-other']);
    // another org's admin sees none of it
    expect(subsOf(await api<DirectoryListResponse>('GET', '/telework/directory', otherAdmin))).toEqual([]);
    expect((await api('GET', '/telework/directory/dir-kim', otherAdmin)).body.error.code).toBe('NOT_FOUND');
  });

  it('shows priority categories only to approvers and admins, and audits each read of them', async () => {
    /** The subs named by each read-sensitive entry of `actor` written while `fn` ran. */
    const auditedDuring = async (actor: string, fn: () => Promise<unknown>) => {
      const read = async () =>
        await server.app.stores.audit.list({ actor, action: 'telework.directory.read-sensitive', limit: 1000 });
      const before = (await read()).length;
      await fn();
      return (await read()).slice(before).map((e) => e.detail?.subs);
    };
    // the manager (Kim's approver) sees Kim's categories, audited
    let byManager: { body: DirectoryPersonResponse } | undefined;
    expect(
      await auditedDuring('dir-mgr', async () => {
        byManager = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-kim', mgr);
      }),
    ).toEqual([['dir-kim']]);
    expect(byManager?.body.person.priorityCategories).toEqual(['pregnancy', 'young-children']);
    // the manager's manager is no approver with one step: Kim without categories, nothing audited
    let byCeo: { status: number; body: DirectoryPersonResponse } | undefined;
    expect(
      await auditedDuring('dir-ceo', async () => {
        byCeo = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-kim', ceo);
      }),
    ).toEqual([]);
    expect(byCeo?.status).toBe(200);
    expect(byCeo?.body.person).not.toHaveProperty('priorityCategories');
    // in the manager's list: the direct reports with categories, the indirect one and themself without audit
    let team: { body: DirectoryListResponse } | undefined;
    expect(
      await auditedDuring('dir-mgr', async () => {
        team = await api<DirectoryListResponse>('GET', '/telework/directory', mgr);
      }),
    ).toEqual([['dir-kim', 'dir-lee']]);
    const shown = new Map(team?.body.people.map((p) => [p.sub, p.priorityCategories]));
    expect(shown.get('dir-kim')).toEqual(['pregnancy', 'young-children']);
    expect(shown.get('dir-lee')).toEqual([]);
    expect(team?.body.people.find((p) => p.sub === 'dir-intern')).not.toHaveProperty('priorityCategories');
    // a colleague sees neither Kim nor her categories; Kim sees her own, unaudited, and her report's, audited
    expect((await api('GET', '/telework/directory/dir-kim', lee)).status).toBe(403);
    expect(
      await auditedDuring('dir-kim', async () => {
        const own = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-kim', kim);
        expect(own.body.person.priorityCategories).toEqual(['pregnancy', 'young-children']);
        const intern = await api<DirectoryPersonResponse>('GET', '/telework/directory/dir-intern', kim);
        expect(intern.body.person.priorityCategories).toEqual(['disability']);
      }),
    ).toEqual([['dir-intern']]);
    // admins see everyone's, audited as one entry naming them all (never the categories themselves)
    expect(await auditedDuring('dir-admin', () => api('GET', '/telework/directory', admin))).toEqual([
      ['dir-ceo', 'dir-intern', 'dir-kim', 'dir-lee', 'dir-mgr', 'dir-other'],
    ]);
    const entries = await server.app.stores.audit.list({ action: 'telework.directory.read-sensitive', limit: 1000 });
    expect(JSON.stringify(entries)).not.toMatch(/pregnancy|disability|long-commute|young-children/);
  });

  it('exports CSV with a BOM, without categories, formulas defused (admins only)', async () => {
    expect((await api('GET', '/telework/directory/export.csv', mgr)).status).toBe(403);
    const res = await fetch(`${server.url}/telework/directory/export.csv`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/attachment/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const lines = text.slice(1).split('\r\n');
    expect(lines[0]).toBe('sub,name,team,manager,site,dutyExcludesTelework,routineDuties,active');
    expect(text).not.toMatch(/pregnancy|young-children|disability|long-commute|priorityCategories/);
    expect(lines).toContain("dir-intern,'=cmd(),platform,dir-kim,hq,false,false,true");
    expect(lines).toContain('dir-kim,"김민지, 대리",platform,dir-mgr,home,false,true,true');
    expect(lines).toContain('dir-other,"Other ""Sales""",sales,dir-ceo,hq,false,false,true');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(8);
  });

  it('keeps holidays per org: admins put and delete them, members read a year, isHoliday follows', async () => {
    const put = (token: string, day: string, body: unknown) => api('PUT', `/telework/holidays/${day}`, token, body);
    expect(await put(admin, '2026-12-25', { name: 'Christmas' })).toMatchObject({ status: 201 });
    expect(await put(admin, '2026-12-25', { name: '성탄절' })).toMatchObject({
      status: 200,
      body: { holiday: { day: '2026-12-25', name: '성탄절' }, created: false },
    });
    expect((await put(admin, '2027-01-01', { name: '신정' })).status).toBe(201);
    expect((await put(admin, '2026-01-01', { name: '신정' })).status).toBe(201);
    expect((await put(mgr, '2026-05-05', { name: '어린이날' })).status).toBe(403);
    for (const [day, body] of [
      ['2026-02-30', { name: 'x' }],
      ['2026-5-5', { name: 'x' }],
      ['__proto__', { name: 'x' }],
      ['2026-05-05', { name: '' }],
      ['2026-05-05', { name: 'x', day: '2026-05-06' }],
    ] as const)
      expect((await put(admin, day, body)).status, `${day} ${JSON.stringify(body)}`).toBe(400);

    const year = await api<HolidayListResponse>('GET', '/telework/holidays?year=2026', lee);
    expect(year.body.holidays).toEqual([
      { day: '2026-01-01', name: '신정' },
      { day: '2026-12-25', name: '성탄절' },
    ]);
    for (const q of ['', '?year=', '?year=abc', '?year=20266', '?year=2026.5'])
      expect((await api('GET', `/telework/holidays${q}`, lee)).status, q).toBe(400);
    const theirs = await api<HolidayListResponse>('GET', '/telework/holidays?year=2026', otherAdmin);
    expect(theirs.body.holidays).toEqual([]);

    const directory = server.app.orgDirectory;
    expect(await directory.isHoliday('acme', '2026-12-25')).toBe(true);
    expect(await directory.isHoliday('acme', '2026-12-24')).toBe(false);
    expect(await directory.isHoliday('evil', '2026-12-25')).toBe(false);
    expect((await api('DELETE', '/telework/holidays/2026-12-25', mgr)).status).toBe(403);
    expect((await api('DELETE', '/telework/holidays/2026-12-25', admin)).status).toBe(200);
    expect((await api('DELETE', '/telework/holidays/2026-12-25', admin)).body.error.code).toBe('NOT_FOUND');
    expect(await directory.isHoliday('acme', '2026-12-25')).toBe(false);
  });

  it('answers approval chains with one and two steps, ending at inactive people and cycles', async () => {
    const one = server.app.orgDirectory;
    const twoSteps = (steps: number) =>
      new OrgDirectory({
        store: server.app.stores.directory,
        sites: new Sites({ store: server.app.stores.telework, audit: server.app.stores.audit, log: server.app.log }),
        telework: server.app.stores.telework,
        audit: server.app.stores.audit,
        log: server.app.log,
        approvalSteps: steps,
        importMaxRows: 10,
      });
    expect(await one.chainOf('acme', 'dir-intern')).toEqual(['dir-kim']);
    expect(await twoSteps(2).chainOf('acme', 'dir-intern')).toEqual(['dir-kim', 'dir-mgr']);
    expect(await twoSteps(5).chainOf('acme', 'dir-intern')).toEqual(['dir-kim', 'dir-mgr', 'dir-ceo']);
    expect(await one.chainOf('acme', 'dir-ceo')).toEqual([]);
    expect(await one.chainOf('acme', 'nobody')).toEqual([]);
    expect(await one.chainOf('evil', 'dir-intern')).toEqual([]);
    expect(await one.escalationTargetOf('acme', 'dir-kim')).toBe('dir-mgr');
    expect(await one.escalationTargetOf('acme', 'dir-ceo')).toBeUndefined();
    expect(await one.reportsOf('acme', 'dir-mgr')).toEqual(['dir-intern', 'dir-kim', 'dir-lee']);
    // with two steps the manager's manager is an approver too, and sees the categories
    const ceoCaller = new Principal(server.app.tokens.verify(ceo));
    expect(await one.canSeeSensitive(ceoCaller, 'dir-kim')).toBe(false);
    expect(await twoSteps(2).canSeeSensitive(ceoCaller, 'dir-kim')).toBe(true);

    // an inactive manager ends the chain
    const mgrRecord = (await one.get('acme', 'dir-mgr'))!;
    expect((await api('PUT', '/telework/directory/dir-mgr', admin, { ...mgrRecord, active: false })).status).toBe(200);
    expect(await twoSteps(5).chainOf('acme', 'dir-intern')).toEqual(['dir-kim']);
    expect(await one.escalationTargetOf('acme', 'dir-kim')).toBeUndefined();
    expect((await api('PUT', '/telework/directory/dir-mgr', admin, mgrRecord)).status).toBe(200);

    // a cycle in the data (the API refuses to make one) ends the chain, which never names the person
    const store = server.app.stores.directory;
    const base = {
      team: '',
      homeSiteId: null,
      dutyExcludesTelework: false,
      priorityCategories: [],
      routineDuties: false,
      active: true,
    };
    await store.putPerson('acme', { ...base, sub: 'cyc-a', name: 'A', manager: 'cyc-b' }, Date.now());
    await store.putPerson('acme', { ...base, sub: 'cyc-b', name: 'B', manager: 'cyc-c' }, Date.now());
    await store.putPerson('acme', { ...base, sub: 'cyc-c', name: 'C', manager: 'cyc-a' }, Date.now());
    expect(await twoSteps(10).chainOf('acme', 'cyc-a')).toEqual(['cyc-b', 'cyc-c']);
    expect(await one.chainOf('acme', 'cyc-a')).toEqual(['cyc-b']);
    expect(await one.reportsOf('acme', 'cyc-a')).toEqual(['cyc-b', 'cyc-c']);
    for (const sub of ['cyc-a', 'cyc-b', 'cyc-c'])
      expect((await api('DELETE', `/telework/directory/${sub}`, admin)).status).toBe(200);
  });

  it('refuses prototype names and malformed subs as INVALID_PAYLOAD', async () => {
    for (const sub of ['__proto__', 'constructor', 'prototype', 'a%20b', 'a%2Fb', 'x'.repeat(129)]) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const answer = await api(
          method,
          `/telework/directory/${sub}`,
          admin,
          method === 'PUT' ? { name: 'X' } : undefined,
        );
        expect(answer.status, `${method} ${sub}`).toBe(400);
        expect(answer.body.error.code).toBe('INVALID_PAYLOAD');
      }
    }
    const asManager = await api('PUT', '/telework/directory/dir-temp', admin, { name: 'X', manager: '__proto__' });
    expect(asManager.body.error.code).toBe('INVALID_PAYLOAD');
  });

  it('audits every change, without the categories', async () => {
    const actions = (await server.app.stores.audit.list({ actor: 'dir-admin', limit: 1000 }))
      .map((e) => e.action)
      .filter((a) => a.startsWith('telework.directory.') || a.startsWith('telework.holiday.'));
    for (const action of [
      'telework.directory.put',
      'telework.directory.delete',
      'telework.directory.import',
      'telework.directory.export',
      'telework.directory.read-sensitive',
      'telework.holiday.put',
      'telework.holiday.delete',
    ])
      expect(actions).toContain(action);
    const changes = await server.app.stores.audit.list({ actor: 'dir-admin', limit: 1000 });
    const imported = changes.find((e) => e.action === 'telework.directory.import');
    expect(imported?.detail).toMatchObject({ org: 'acme', created: 6, updated: 0, rows: 6 });
    for (const e of changes.filter((c) => c.action !== 'telework.directory.read-sensitive'))
      expect(JSON.stringify(e.detail ?? {})).not.toMatch(/pregnancy|disability|long-commute|young-children/);
  });
});
