/**
 * Work reports (`#/telework/reports[/<id>]`). The list: today's report (opened on an approved
 * telework day of mine), my reports, the reports of my team (a manager's, as the server scopes
 * them) and the week's summary per person. One report: its day, site, planned tasks and status;
 * its text in the app's collaborative editor (the shared document `report.<id>`, writable by its
 * author while due, read-only for the reviewers); submit (author), review with a comment
 * (managers), comments. A chat notice's link (`#/telework/reports/<id>`) opens the report.
 */
import {
  addDays,
  type DocHandle,
  MoimError,
  siteClock,
  type WorkReport,
  type WorkReportSummary,
} from '@moim/client-sdk';
import type { View } from '../context.ts';
import { h, mount } from '../dom.ts';
import { t } from '../i18n.ts';
import { formatDateTime, timeZone } from '../time.ts';
import { errorBox, nameBook, site, statusTag, todayAt, UUID_RE } from './teleworkCommon.ts';

/** How far back and ahead the list looks. */
const LIST_BACK_DAYS = 31;
const LIST_AHEAD_DAYS = 14;

export const reportsView: View = (root, ctx, params) => {
  const id = params[0];
  if (id !== undefined) return reportPage(root, ctx, id);
  return listPage(root, ctx, params);
};

const listPage: View = (root, ctx) => {
  let alive = true;
  const names = nameBook(ctx, () => alive && render());
  let reports: WorkReport[] = [];
  let summary: WorkReportSummary | undefined;
  /** My approved telework day today, on its site's calendar (the day a report is opened for). */
  let today: string | undefined;
  const viewerToday = siteClock(Date.now(), timeZone()).date;

  const todayBox = h('section', { class: 'card today-report', id: 'today-report' }, t('syncing'));
  const mineList = h('ul', { class: 'cards report-list', id: 'my-reports' });
  const teamList = h('ul', { class: 'cards report-list', id: 'team-reports' });
  const teamSection = h('section', { hidden: true }, h('h2', null, t('repTeam')), teamList);
  const summaryBox = h('section', { class: 'card report-summary', id: 'report-summary', hidden: true });
  const error = errorBox('reports-error');
  mount(
    root,
    h(
      'div',
      { class: 'page reports-page' },
      h('h1', null, t('repTitle')),
      error.el,
      todayBox,
      h('section', null, h('h2', null, t('repMine')), mineList),
      teamSection,
      summaryBox,
    ),
  );

  async function refresh(): Promise<void> {
    try {
      const [list, mine, sum] = await Promise.all([
        ctx.client.workReports.list(addDays(viewerToday, -LIST_BACK_DAYS), addDays(viewerToday, LIST_AHEAD_DAYS)),
        ctx.client.teleworkRequests.mine(),
        ctx.client.workReports.summary('week', viewerToday),
      ]);
      if (!alive) return;
      error.clear();
      reports = list;
      summary = sum;
      today = undefined;
      for (const r of mine)
        for (const d of r.dayStatus) if (d.status === 'approved' && d.day === todayAt(r.siteId)) today = d.day;
      names.learn([...list.map((r) => r.sub), ...sum.people.map((p) => p.sub)]);
      render();
    } catch (err) {
      if (alive) error.show(err);
    }
  }

  function render(): void {
    const me = ctx.identity.sub;
    const own = reports.filter((r) => r.sub === me);
    const others = reports.filter((r) => r.sub !== me);
    const todays = today ? own.find((r) => r.day === today) : undefined;
    mount(
      todayBox,
      h('h2', null, t('repToday')),
      today
        ? h(
            'button',
            {
              type: 'button',
              class: 'primary',
              id: 'open-today-report',
              onclick: async (e: Event) => {
                const button = e.currentTarget as HTMLButtonElement;
                button.disabled = true;
                try {
                  const report = todays ?? (await ctx.client.workReports.open(today as string));
                  ctx.navigate(`#/telework/reports/${report.id}`);
                } catch (err) {
                  button.disabled = false;
                  if (alive) error.show(err);
                }
              },
            },
            todays && todays.status !== 'due' ? t('repOpen') : t('repWriteToday'),
          )
        : h('p', { class: 'muted' }, t('repNoneToday')),
    );
    mount(mineList, own.length ? own.map(row) : h('li', { class: 'muted empty' }, t('repNone')));
    teamSection.hidden = others.length === 0;
    mount(teamList, others.map(row));
    const people = summary?.people ?? [];
    summaryBox.hidden = people.length === 0 || (people.length === 1 && people[0]?.sub === me && others.length === 0);
    if (summary && !summaryBox.hidden)
      mount(
        summaryBox,
        h('h2', null, t('repSummary', { from: summary.from, to: summary.to })),
        h(
          'table',
          { class: 'table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, t('name')),
              h('th', null, t('st_report_due')),
              h('th', null, t('st_report_submitted')),
              h('th', null, t('st_report_reviewed')),
              h('th', null, t('repOverdue')),
            ),
          ),
          h(
            'tbody',
            null,
            people.map((p) =>
              h(
                'tr',
                { dataset: { sub: p.sub } },
                h('td', null, names.of(p.sub)),
                h('td', { dataset: { key: 'due' } }, String(p.due)),
                h('td', { dataset: { key: 'submitted' } }, String(p.submitted)),
                h('td', { dataset: { key: 'reviewed' } }, String(p.reviewed)),
                h('td', { dataset: { key: 'overdue' }, class: p.overdue ? 'warn' : '' }, String(p.overdue)),
              ),
            ),
          ),
        ),
      );
  }

  function row(r: WorkReport): HTMLElement {
    return h(
      'li',
      { class: 'card report-row', dataset: { report: r.id, status: r.status, sub: r.sub, day: r.day } },
      h(
        'a',
        { href: `#/telework/reports/${r.id}`, class: 'report-link' },
        h('strong', null, r.day),
        ' · ',
        h('span', { class: 'report-author' }, names.of(r.sub)),
        ' · ',
        site(r.siteId),
      ),
      ' ',
      statusTag('report', r.status),
      r.overdue ? h('span', { class: 'tag warn overdue' }, t('repOverdue')) : null,
    );
  }

  void refresh();
  const timer = setInterval(() => void refresh(), 30_000);
  return () => {
    alive = false;
    clearInterval(timer);
  };
};

function reportPage(root: HTMLElement, ctx: Parameters<View>[1], id: string): () => void {
  let alive = true;
  let report: WorkReport | undefined;
  let handle: DocHandle | undefined;
  let destroyEditor = () => {};
  const names = nameBook(ctx, () => alive && renderInfo());
  const info = h('section', { class: 'card report-info', id: 'report-info' }, t('syncing'));
  const editorBox = h('div', { class: 'editor-box report-editor', id: 'report-editor' });
  const actions = h('section', { class: 'card report-actions', id: 'report-actions' });
  const error = errorBox('report-error');
  mount(
    root,
    h(
      'div',
      { class: 'page report-page' },
      h(
        'div',
        { class: 'doc-head' },
        h('a', { href: '#/telework/reports', class: 'back' }, '←'),
        h('h1', null, t('repOne')),
      ),
      error.el,
      h('div', { class: 'report-layout' }, h('div', { class: 'report-main' }, info, editorBox), actions),
    ),
  );
  if (!UUID_RE.test(id)) {
    error.show(new MoimError('INVALID_PAYLOAD', 'not a report id'));
    return () => {};
  }

  async function load(): Promise<void> {
    try {
      const r = await ctx.client.workReports.get(id);
      if (!alive) return;
      const first = report === undefined;
      const changed = report?.status !== r.status;
      report = r;
      names.learn([r.sub, ...r.comments.map((c) => c.author), ...(r.reviewedBy ? [r.reviewedBy] : [])]);
      renderInfo();
      // the forms keep what is typed in them unless the report moved on
      if (changed) renderActions();
      if (first) await openEditor(r);
    } catch (err) {
      if (alive) error.show(err);
    }
  }

  /** The report's text: its document in the collaborative editor (read-only unless mine and due). */
  async function openEditor(r: WorkReport): Promise<void> {
    const opened = await ctx.client.docs.open(r.docName);
    if (!alive) {
      opened.close();
      return;
    }
    handle = opened;
    const writable = r.sub === ctx.identity.sub && r.status === 'due';
    const ed = (await import('../editor.ts')).createEditor(
      editorBox,
      opened,
      { sub: ctx.identity.sub, name: ctx.identity.name },
      { readOnly: !writable },
    );
    destroyEditor = ed.destroy;
    editorBox.dataset.doc = r.docName;
    editorBox.dataset.writable = writable ? 'yes' : 'no';
  }

  function renderInfo(): void {
    const r = report;
    if (!r) return;
    mount(
      info,
      h(
        'div',
        { class: 'report-head', dataset: { report: r.id, status: r.status } },
        h('strong', { class: 'report-author' }, names.of(r.sub)),
        ` · ${r.day} · `,
        site(r.siteId),
        ' ',
        statusTag('report', r.status),
        r.overdue ? h('span', { class: 'tag warn overdue' }, t('repOverdue')) : null,
      ),
      h('h3', null, t('reqTasks')),
      h(
        'ul',
        { class: 'report-tasks' },
        r.tasks.map((x) => h('li', null, x)),
      ),
      r.submittedAt
        ? h('p', { class: 'muted' }, t('repSubmittedAt', { when: formatDateTime(Date.parse(r.submittedAt)) }))
        : null,
      r.reviewedBy && r.reviewedAt
        ? h(
            'p',
            { class: 'muted report-reviewed' },
            t('repReviewedBy', { who: names.of(r.reviewedBy), when: formatDateTime(Date.parse(r.reviewedAt)) }),
          )
        : null,
      h('h3', null, t('apprComments')),
      h(
        'ul',
        { class: 'report-comments' },
        r.comments.length
          ? r.comments.map((c) =>
              h(
                'li',
                { dataset: { author: c.author } },
                h('strong', null, names.of(c.author)),
                h('span', { class: 'muted' }, ` · ${formatDateTime(Date.parse(c.at))}`),
                h('div', { class: 'comment-text' }, c.text),
              ),
            )
          : h('li', { class: 'muted' }, t('apprNoComments')),
      ),
    );
  }

  function renderActions(): void {
    const r = report;
    if (!r) return;
    const mine = r.sub === ctx.identity.sub;
    const run = (fn: () => Promise<WorkReport>, done?: string) => async (e: Event) => {
      const button = e.currentTarget as HTMLButtonElement;
      button.disabled = true;
      error.clear();
      try {
        report = await fn();
        if (done) ctx.toast(done);
        if (!alive) return;
        renderInfo();
        renderActions();
        // submitted: the text is final for its author too
        if (report.status !== 'due' && editorBox.dataset.writable === 'yes') {
          destroyEditor();
          handle?.close();
          handle = undefined;
          await openEditor(report);
        }
      } catch (err) {
        button.disabled = false;
        if (alive) error.show(err);
      }
    };
    const reviewText = h('textarea', {
      id: 'review-comment',
      rows: '3',
      maxlength: '2000',
      placeholder: t('apprCommentHint'),
    });
    const commentText = h('textarea', { id: 'report-comment-text', rows: '2', maxlength: '2000' });
    mount(
      actions,
      mine && r.status === 'due'
        ? h(
            'button',
            {
              type: 'button',
              class: 'primary',
              id: 'submit-report',
              onclick: run(() => ctx.client.workReports.submit(r.id), t('repSubmitted')),
            },
            t('repSubmit'),
          )
        : null,
      !mine && r.status === 'submitted'
        ? h(
            'div',
            { class: 'review-form' },
            h('label', { for: 'review-comment' }, t('repReviewComment')),
            reviewText,
            h(
              'button',
              {
                type: 'button',
                class: 'primary',
                id: 'review-report',
                onclick: run(() => ctx.client.workReports.review(r.id, reviewText.value), t('repReviewed')),
              },
              t('repReview'),
            ),
          )
        : null,
      h(
        'div',
        { class: 'comment-form' },
        h('label', { for: 'report-comment-text' }, t('apprComment')),
        commentText,
        h(
          'button',
          {
            type: 'button',
            class: 'ghost',
            id: 'add-report-comment',
            onclick: run(async () => {
              const text = commentText.value.trim();
              if (!text) return r;
              return ctx.client.workReports.comment(r.id, text);
            }),
          },
          t('apprAddComment'),
        ),
      ),
    );
  }

  void load();
  // a review or comment by someone else shows without a reload
  const timer = setInterval(() => {
    if (report) void load();
  }, 15_000);
  return () => {
    alive = false;
    clearInterval(timer);
    destroyEditor();
    handle?.close();
  };
}
