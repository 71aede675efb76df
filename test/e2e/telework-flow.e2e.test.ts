import { readFileSync } from 'node:fs';
import { siteClock } from '@moim/client-sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../support/serverProcess.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.ts';
import {
  launchBrowser,
  type Person,
  type ServerProcess,
  shot,
  shots,
  shownErrors,
  signIn,
  startServer,
} from './harness.ts';

/**
 * The whole telework flow in the web app, against the server as `npm start` runs it, in Chromium:
 * a member at home (Korean UI) applies for a smart-work-centre day; the manager (Korean UI) gets
 * moim's chat message, follows its link to the approvals page, sees the request with the
 * member's priority category and approves it with a comment; the member books a seat at the
 * centre, then comes online from the centre's network and is checked in automatically (source
 * `network`, not a declared site); writes the day's work report in the collaborative editor and
 * submits it; the manager sees the member at the centre on the dashboard (and downloads its CSV),
 * follows the chat link to the report and reviews it.
 *
 * The centre's network: Chromium cannot bind its sockets to another address, so the member's
 * browser talks to the server through a TCP proxy on 127.0.0.1 whose connections to the server
 * leave from 127.0.0.1 ("home") or, once the member is at the centre, from 127.0.0.2 — the
 * centre's range (127.0.0.2/32). Moving cuts the proxied connections; the app reconnects by itself
 * and the server sees the new connection come from the centre.
 *
 * Time: the server runs on real time. The centre is open every day 00:00–23:59 in a zone where it
 * is not late in the evening now (so "today" and a booking from now fit in the day), and HQ is
 * closed every day: a home worker works HQ's hours, so the member's first connection from home
 * opens no attendance day and their day begins at the centre.
 */
const CENTRE = 'gangnam-swc';
const CENTRE_NAME = '강남 스마트워크센터';
const REPORT_TEXT = '오전: 민원 처리 지침 검토 완료';

function pickZone(now: number): string {
  for (const zone of ['Asia/Seoul', 'Europe/London', 'America/New_York', 'Pacific/Honolulu'])
    if (siteClock(now, zone).time < '22:30' && siteClock(now + 60_000, zone).date === siteClock(now, zone).date)
      return zone;
  return 'UTC';
}

const subOf = (page: Page): Promise<string> =>
  page.evaluate(() => (JSON.parse(sessionStorage.getItem('moim.identity') ?? '{}') as { sub: string }).sub);

const go = (page: Page, hash: string) =>
  page.evaluate((h) => {
    location.hash = h;
  }, hash);

/** Show `hash` again and again (leaving it in between) until `selector` appears: for what the server does in the background. */
async function revisitUntil(page: Page, hash: string, selector: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await go(page, hash);
    if ((await page.locator(selector).count()) > 0) return;
    await page.waitForTimeout(1500);
    if ((await page.locator(selector).count()) > 0) return;
    if (Date.now() > deadline) throw new Error(`${selector} did not appear on ${hash}`);
    await go(page, '#/presence');
    await page.waitForTimeout(300);
  }
}

describe('the telework flow in the web app', () => {
  let server: ServerProcess;
  let browser: Browser;
  let proxy: TcpProxy;
  let manager: Person;
  let member: Person;
  let managerSub = '';
  let memberSub = '';
  let requestId = '';
  let reportId = '';
  const zone = pickZone(Date.now());
  const people = () => [manager, member].filter(Boolean);

  const admin = async (method: string, path: string, body?: unknown) => {
    const token = await devToken(server.url, { name: 'Admin', sub: 'e2e-admin', role: 'admin' });
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    // connections leave from 127.0.0.1 (home) until the member moves to the centre (127.0.0.2)
    proxy = await startTcpProxy({ targetPort: server.port, localAddress: '127.0.0.1' });
    const closed = Array.from({ length: 7 }, () => null);
    const allDay = Array.from({ length: 7 }, () => ({ open: '00:00', close: '23:59' }));
    const base = { address: '', timeZone: zone, networks: [] as string[] };
    await admin('PUT', '/telework/sites/hq', { ...base, name: 'HQ', openingHours: closed, kind: 'hq' });
    await admin('PUT', '/telework/sites/home', { ...base, name: 'Home', openingHours: closed, kind: 'home' });
    await admin('PUT', `/telework/sites/${CENTRE}`, {
      ...base,
      name: CENTRE_NAME,
      openingHours: allDay,
      networks: ['127.0.0.2/32'],
      kind: 'smart-work-centre',
    });
    for (const id of ['seat-1', 'seat-2'])
      await admin('PUT', `/telework/sites/${CENTRE}/places/${id}`, {
        kind: 'seat',
        name: `좌석 ${id.slice(-1)}`,
        tier: null,
        capacity: 1,
      });
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.stop();
  });
  afterEach(async (c) => {
    if (c.task.result?.state === 'fail')
      for (const p of people())
        await shot(p.page, `failed-telework-flow-${c.task.name.slice(0, 24).replace(/\W+/g, '-')}-${p.name}`);
    expect(people().flatMap((p) => p.errors.splice(0))).toEqual([]);
    for (const p of people()) expect(await shownErrors(p)).toEqual([]);
  });

  it('a member at home applies for a smart-work-centre day', async () => {
    manager = await signIn(browser, server.url, { name: '김과장', site: 'hq', role: 'manager', lang: 'ko' });
    member = await signIn(browser, proxy.url, { name: '이서연', site: 'home', lang: 'ko' });
    [managerSub, memberSub] = await Promise.all([subOf(manager.page), subOf(member.page)]);
    // the org directory: the member reports to the manager and has a priority category
    await admin('PUT', `/telework/directory/${managerSub}`, { name: '김과장', team: '정책팀' });
    await admin('PUT', `/telework/directory/${memberSub}`, {
      name: '이서연',
      team: '정책팀',
      manager: managerSub,
      priorityCategories: ['long-commute'],
    });

    const page = member.page;
    await page.locator('header nav a[data-route="telework/requests"]', { hasText: '원격근무' }).click();
    await page.locator('#request-type').selectOption('smart-work-centre');
    await page.locator(`#request-site option[value="${CENTRE}"]`).waitFor({ state: 'attached' });
    await page.locator('#request-site').selectOption(CENTRE);
    await page.locator('#request-place option[value="seat-1"]').waitFor({ state: 'attached' });
    const today = siteClock(Date.now(), zone).date;
    // the day offered is the centre's today
    await page.locator(`#request-days li[data-day="${today}"]`).waitFor();
    expect(await page.locator('#request-days li').count()).toBe(1);
    await page.locator('#request-tasks').fill('민원 처리 지침 검토\n주간 회의 자료 작성');
    await page.locator('#request-form button[type=submit]').click();
    const mine = page.locator('#my-requests .my-request').first();
    await mine.locator(`.req-day[data-day="${today}"][data-status="pending"]`).waitFor();
    requestId = (await mine.getAttribute('data-request')) ?? '';
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await mine.locator('.request-site').textContent()).toBe(CENTRE_NAME);
    expect(await page.locator('#request-error').isHidden()).toBe(true);
    await shots(page, 'telework-flow-request-ko');
  });

  it('the manager gets moim’s chat message, follows its link and approves with a comment', async () => {
    const page = manager.page;
    await page.locator('header nav a[data-route="chat"]').click();
    const dm = page.locator('.dms a').first();
    await dm.waitFor({ timeout: 15_000 });
    await dm.click();
    const notice = page.locator('article.message .body', { hasText: 'asks for your approval' }).last();
    await notice.waitFor({ timeout: 15_000 });
    expect(await notice.textContent()).toContain(CENTRE_NAME);
    await shots(page, 'telework-flow-notice-ko');
    await notice.locator(`a.app-link[href="#/approvals/${requestId}"]`).click();

    const detail = page.locator('#approval-detail');
    await detail.locator(`.approval-head[data-approval="${requestId}"][data-status="pending"]`).waitFor();
    await detail.locator('.approval-applicant', { hasText: '이서연' }).waitFor();
    // approvers see the applicant's priority category (the server audits that read)
    await detail.locator('.priority-categories li[data-category="long-commute"]', { hasText: '장거리 통근' }).waitFor();
    expect(await detail.locator('.approval-tasks li').allTextContents()).toEqual([
      '민원 처리 지침 검토',
      '주간 회의 자료 작성',
    ]);
    await page.locator(`#approval-inbox li[data-approval="${requestId}"]`).waitFor();
    await shots(page, 'telework-flow-approval-ko');
    await page.locator('#approval-comment').fill('승인합니다. 센터 좌석을 예약하세요.');
    await page.locator('#approve').click();
    await detail.locator('.approval-head[data-status="approved"]').waitFor();
    await detail.locator('.approval-steps .step-comment', { hasText: '승인합니다' }).waitFor();
    await page.locator(`#approval-decided li[data-approval="${requestId}"][data-status="approved"]`).waitFor();
    await page.locator('#approval-inbox .empty').waitFor();
  });

  it('the member books a seat at the centre, comes online from its network and is checked in automatically', async () => {
    const page = member.page;
    const today = siteClock(Date.now(), zone).date;
    await go(page, `#/telework/requests/${requestId}`);
    await page
      .locator(`#my-requests .my-request.focused .req-day[data-day="${today}"][data-status="approved"]`)
      .waitFor();

    await page.locator('header nav a[data-route="booking"]').click();
    await page.locator('#booking-site').selectOption(CENTRE);
    await page.locator('#day-view .place[data-place="seat-1"]').waitFor();
    await page.locator('#booking-place').selectOption('seat-1');
    await page.locator('#booking-form button[type=submit]').click();
    const booking = page.locator('#my-bookings .my-booking[data-place="seat-1"]');
    await booking.waitFor();
    expect(await booking.getAttribute('data-checked-in')).toBe('no');
    expect(await page.locator('#booking-error').isHidden()).toBe(true);

    // to the centre: the app's connections now reach the server from 127.0.0.2
    proxy.moveTo('127.0.0.2');
    // the app reconnects by itself; the check-in follows the new connection
    await revisitUntil(
      page,
      `#/booking/${CENTRE}`,
      '#my-bookings .my-booking[data-place="seat-1"][data-checked-in="yes"]',
    );
    const checked = page.locator('#my-bookings .my-booking[data-place="seat-1"]');
    // the site came from the connection's address, not from the site the member declared (home)
    expect(await checked.getAttribute('data-check-in-source')).toBe('network');
    await shots(page, 'telework-flow-checked-in-ko');
  });

  it('the member writes the day’s work report in the editor and submits it', async () => {
    const page = member.page;
    await page.locator('header nav a[data-route="telework/reports"]').click();
    await page.locator('#open-today-report').click();
    await page.waitForURL(/#\/telework\/reports\/[0-9a-f-]{36}$/);
    reportId = page.url().split('/').pop() ?? '';
    const editor = page.locator('#report-editor[data-writable="yes"] .cm-content');
    await editor.waitFor();
    // the template lists the planned tasks
    await page.locator('#report-editor .cm-content', { hasText: '민원 처리 지침 검토' }).waitFor();
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type(REPORT_TEXT);
    const docName = `report.${reportId}`;
    await expect
      .poll(() =>
        page.evaluate(
          (n) => (window as unknown as { __moim: { docText(n: string): string | null } }).__moim.docText(n),
          docName,
        ),
      )
      .toContain(REPORT_TEXT);
    await shots(page, 'telework-flow-report-ko');
    await page.locator('#submit-report').click();
    await page.locator('#report-info .report-head[data-status="submitted"]').waitFor();
    await page.locator('#report-editor[data-writable="no"]').waitFor();
  });

  it('the manager sees the member at the centre on the dashboard, downloads it and reviews the report', async () => {
    const page = manager.page;
    await page.locator('header nav a[data-route="telework/dashboard"]').click();
    const row = page.locator(`#dash-people tr[data-sub="${memberSub}"]`);
    await row.waitFor();
    // refreshed by itself: no reload
    await page.locator(`#dash-people tr[data-sub="${memberSub}"][data-site="${CENTRE}"]`).waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-source')).toBe('network');
    expect(await row.getAttribute('data-expected')).toBe(CENTRE);
    expect(['checked-in', 'late']).toContain(await row.getAttribute('data-status'));
    expect(await row.getAttribute('data-online')).toBe('yes');
    expect(await row.locator('.dash-where').textContent()).toContain(CENTRE_NAME);
    const centreRow = page.locator(`#dash-sites tr[data-site="${CENTRE}"]`);
    expect(await centreRow.locator('td[data-key="checkedIn"]').textContent()).toBe('1');
    expect(await centreRow.locator('td[data-key="occupancy"]').textContent()).toContain('1/2');
    expect(await page.locator('#dash-totals .total[data-key="atCentres"] .total-value').textContent()).toBe('1');
    await shots(page, 'telework-flow-dashboard-ko');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#dash-csv').click()]);
    const csv = readFileSync((await download.path()) ?? '', 'utf8');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv).toContain('이서연');
    expect(csv).toContain(CENTRE);
    expect(csv).not.toContain('long-commute');

    // the "report submitted" notice links to the report
    await page.locator('header nav a[data-route="chat"]').click();
    await page.locator('.dms a').first().click();
    const notice = page.locator('article.message .body', { hasText: 'Work report submitted' }).last();
    await notice.waitFor({ timeout: 15_000 });
    await notice.locator(`a.app-link[href="#/telework/reports/${reportId}"]`).click();
    await page.locator('#report-info .report-head[data-status="submitted"]').waitFor();
    await page.locator('#report-editor[data-writable="no"] .cm-content', { hasText: REPORT_TEXT }).waitFor();
    await page.locator('#review-comment').fill('수고했어요. 잘 정리됐습니다.');
    await page.locator('#review-report').click();
    await page.locator('#report-info .report-head[data-status="reviewed"]').waitFor();
    await page.locator('#report-info .report-comments li', { hasText: '수고했어요' }).waitFor();
    await shots(page, 'telework-flow-review-ko');

    // the member's list shows it reviewed
    await member.page.locator('header nav a[data-route="telework/reports"]').click();
    await member.page.locator(`#my-reports .report-row[data-report="${reportId}"][data-status="reviewed"]`).waitFor();
  });

  it('the manager delegates approvals for today and takes it back', async () => {
    const page = manager.page;
    await page.locator('header nav a[data-route="approvals"]').click();
    await page.locator(`#delegate-to option[value="${memberSub}"]`).waitFor({ state: 'attached' });
    await page.locator('#delegate-to').selectOption(memberSub);
    await page.locator('#delegate-form button[type=submit]').click();
    const given = page.locator(`#delegations-given li[data-to="${memberSub}"]`);
    await given.waitFor();
    expect(await given.textContent()).toContain('이서연');
    // the delegate sees it received
    await member.page.locator('header nav a[data-route="approvals"]').click();
    await member.page.locator(`#delegations-received li[data-from="${managerSub}"]`, { hasText: '김과장' }).waitFor();
    await given.locator('.revoke-delegation').click();
    await given.waitFor({ state: 'detached' });
  });

  it('hostile addresses on the telework pages land on a page, never on a page error', async () => {
    const page = member.page;
    for (const hash of [
      '#/telework/__proto__',
      '#/telework/constructor/x',
      '#/telework/requests/__proto__',
      '#/telework/dashboard/toString',
      '#/telework/dashboard/..%2F..',
      '#/approvals/__proto__',
      '#/approvals/..%2Fdelegations',
      '#/telework/reports/%2E%2E',
    ]) {
      await go(page, hash);
      await page.waitForTimeout(300);
      expect(['telework', 'approvals'], hash).toContain(await page.locator('#view').getAttribute('data-view'));
    }
    // a report id that cannot be one is refused in the page, before any request
    await go(page, '#/telework/reports/constructor');
    await page
      .locator('#report-error[data-code="INVALID_PAYLOAD"]', { hasText: '올바르지 않은 값이 있습니다.' })
      .waitFor();
  });
});
