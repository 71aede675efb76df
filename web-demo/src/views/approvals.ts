/**
 * Approvals (`#/approvals[/<id>]`): an approver's inbox — documents waiting for my decision (or a
 * delegator's) with the applicant, and for telework requests the days, type, site, planned tasks
 * and the applicant's priority categories (the server shows those to approvers only, and audits
 * the read) — approve or reject with a comment, comment, and the ones already decided. A document
 * named in the address (a chat notice's link) opens beside the list; its applicant sees it too,
 * without the decision buttons. The server decides who may do what; this page only shows it.
 */
import type { Approval, ApprovalSummary, PriorityCategory, TeleworkRequest } from '@moim/client-sdk';
import type { View } from '../context.ts';
import { h, mount } from '../dom.ts';
import { t } from '../i18n.ts';
import { withStepUp } from '../session.ts';
import { formatDateTime } from '../time.ts';
import { categoryLabel, errorBox, nameBook, site, statusTag, todayAt, typeLabel, UUID_RE } from './teleworkCommon.ts';

/** What a telework request's payload holds (read defensively: `payload` is unknown on the wire). */
interface RequestPayload {
  days: string[];
  type: string;
  siteId: string;
  placeId: string | null;
  tasks: string[];
}

function requestPayload(a: ApprovalSummary): RequestPayload | undefined {
  if (a.kind !== 'telework-request' || typeof a.payload !== 'object' || a.payload === null) return undefined;
  const p = a.payload as Partial<RequestPayload>;
  if (!Array.isArray(p.days) || !Array.isArray(p.tasks) || typeof p.siteId !== 'string') return undefined;
  return {
    days: p.days.filter((d): d is string => typeof d === 'string'),
    type: typeof p.type === 'string' ? p.type : '',
    siteId: p.siteId,
    placeId: typeof p.placeId === 'string' ? p.placeId : null,
    tasks: p.tasks.filter((x): x is string => typeof x === 'string'),
  };
}

export const approvalsView: View = (root, ctx, params) => {
  let alive = true;
  const selected = params[0] && UUID_RE.test(params[0]) ? params[0] : undefined;
  const names = nameBook(ctx, () => {
    if (!alive) return;
    renderLists();
    renderDetail();
  });
  let inbox: ApprovalSummary[] = [];
  let decided: ApprovalSummary[] = [];
  let detail: { approval: Approval; request?: TeleworkRequest; categories?: PriorityCategory[] } | undefined;

  const inboxList = h(
    'ul',
    { class: 'cards approval-list', id: 'approval-inbox' },
    h('li', { class: 'muted' }, t('syncing')),
  );
  const decidedList = h('ul', { class: 'cards approval-list', id: 'approval-decided' });
  const detailBox = h('section', { class: 'card approval-detail', id: 'approval-detail', hidden: !selected });
  const listError = errorBox('approvals-error');
  const detailError = errorBox('approval-error');
  const delegations = delegationPanel(ctx, names);

  mount(
    root,
    h(
      'div',
      { class: 'page approvals-page' },
      h('h1', null, t('apprTitle')),
      listError.el,
      h(
        'div',
        { class: 'telework-layout' },
        h(
          'section',
          { class: 'approval-lists' },
          h('h2', null, t('apprInbox')),
          inboxList,
          h('h2', null, t('apprDecided')),
          decidedList,
          delegations.el,
        ),
        detailBox,
      ),
    ),
  );

  async function refreshLists(): Promise<void> {
    try {
      const { approvals } = await ctx.client.approvals.list({ role: 'approver', limit: 100 });
      if (!alive) return;
      listError.clear();
      inbox = approvals.filter((a) => a.status === 'pending');
      decided = approvals.filter((a) => a.status !== 'pending' && a.status !== 'draft');
      names.learn(approvals.map((a) => a.applicant));
      renderLists();
    } catch (err) {
      if (alive) listError.show(err);
    }
  }

  async function refreshDetail(): Promise<void> {
    if (!selected) return;
    try {
      const approval = await ctx.client.approvals.get(selected);
      let request: TeleworkRequest | undefined;
      let categories: PriorityCategory[] | undefined;
      if (approval.kind === 'telework-request') {
        const read = await ctx.client.teleworkRequests.get(selected);
        request = read.request;
        categories = read.priorityCategories;
      }
      if (!alive) return;
      detailError.clear();
      detail = { approval, ...(request ? { request } : {}), ...(categories ? { categories } : {}) };
      names.learn([
        approval.applicant,
        ...approval.steps.map((s) => s.approver),
        ...approval.comments.map((c) => c.author),
      ]);
      renderDetail();
    } catch (err) {
      if (!alive) return;
      detail = undefined;
      mount(detailBox, detailError.el);
      detailBox.hidden = false;
      detailError.show(err);
    }
  }

  function renderLists(): void {
    mount(inboxList, inbox.length ? inbox.map(item) : h('li', { class: 'muted empty' }, t('apprInboxEmpty')));
    mount(decidedList, decided.length ? decided.map(item) : h('li', { class: 'muted empty' }, t('apprDecidedEmpty')));
  }

  function item(a: ApprovalSummary): HTMLElement {
    const p = requestPayload(a);
    return h(
      'li',
      { class: `card approval${a.id === selected ? ' focused' : ''}`, dataset: { approval: a.id, status: a.status } },
      h(
        'a',
        { href: `#/approvals/${a.id}`, class: 'approval-link' },
        h('strong', { class: 'approval-applicant' }, names.of(a.applicant)),
        ' · ',
        p ? `${typeLabel(p.type)} · ${site(p.siteId)}` : a.title,
      ),
      p ? h('div', { class: 'approval-days muted' }, p.days.join(', ')) : null,
      statusTag('approval', a.status),
    );
  }

  function renderDetail(): void {
    if (!detail) return;
    const { approval: a, request, categories } = detail;
    const p = requestPayload(a);
    const mineToDecide = a.status === 'pending' && a.applicant !== ctx.identity.sub;
    const comment = h('textarea', {
      id: 'approval-comment',
      rows: '3',
      maxlength: '2000',
      placeholder: t('apprCommentHint'),
    });
    const act = (what: 'approve' | 'reject' | 'comment') => async (e: Event) => {
      const button = e.currentTarget as HTMLButtonElement;
      button.disabled = true;
      detailError.clear();
      const text = comment.value.trim();
      try {
        if (what === 'comment') {
          if (!text) return;
          await ctx.client.approvals.comment(a.id, text);
        } else {
          // a decision may need a fresh passkey (step-up): proven, then sent again
          await withStepUp(ctx.client, () =>
            ctx.client.approvals[what](a.id, { ...(text ? { comment: text } : {}), version: a.version }),
          );
          ctx.toast(t(what === 'approve' ? 'apprApproved' : 'apprRejected'));
        }
        await Promise.all([refreshDetail(), refreshLists()]);
      } catch (err) {
        if (alive) detailError.show(err);
      } finally {
        button.disabled = false;
      }
    };
    mount(
      detailBox,
      h(
        'div',
        { class: 'approval-head', dataset: { approval: a.id, status: a.status } },
        h('h2', null, p ? `${typeLabel(p.type)} · ${site(p.siteId)}` : a.title),
        statusTag('approval', a.status),
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, t('apprApplicant')),
        h('dd', { class: 'approval-applicant' }, names.of(a.applicant)),
        p ? [h('dt', null, t('reqDays')), h('dd', { class: 'approval-days' }, dayList(p, request))] : null,
        p?.placeId ? [h('dt', null, t('reqPlace')), h('dd', null, p.placeId)] : null,
        p
          ? [
              h('dt', null, t('reqTasks')),
              h(
                'dd',
                null,
                h(
                  'ul',
                  { class: 'approval-tasks' },
                  p.tasks.map((x) => h('li', null, x)),
                ),
              ),
            ]
          : null,
        categories
          ? [
              h('dt', null, t('apprPriority')),
              h(
                'dd',
                null,
                categories.length
                  ? h(
                      'ul',
                      { class: 'priority-categories' },
                      categories.map((c) =>
                        h('li', { class: 'tag priority', dataset: { category: c } }, categoryLabel(c)),
                      ),
                    )
                  : h('span', { class: 'muted' }, t('apprNoPriority')),
              ),
            ]
          : null,
        a.body ? [h('dt', null, t('apprBody')), h('dd', { class: 'approval-body' }, a.body)] : null,
      ),
      h('h3', null, t('apprSteps')),
      h(
        'ol',
        { class: 'approval-steps' },
        a.steps.map((s) =>
          h(
            'li',
            { dataset: { approver: s.approver, status: s.status } },
            h('strong', null, names.of(s.approver)),
            ' ',
            statusTag('step', s.status),
            s.decidedBy && s.onBehalfOf
              ? h('span', { class: 'muted' }, ` ${t('apprOnBehalf', { who: names.of(s.decidedBy) })}`)
              : null,
            s.decidedAt ? h('span', { class: 'muted' }, ` · ${formatDateTime(Date.parse(s.decidedAt))}`) : null,
            s.comment ? h('q', { class: 'step-comment' }, s.comment) : null,
          ),
        ),
      ),
      h('h3', null, t('apprComments')),
      h(
        'ul',
        { class: 'approval-comments' },
        a.comments.length
          ? a.comments.map((c) =>
              h(
                'li',
                null,
                h('strong', null, names.of(c.author)),
                h('span', { class: 'muted' }, ` · ${formatDateTime(Date.parse(c.at))}`),
                h('div', { class: 'comment-text' }, c.text),
              ),
            )
          : h('li', { class: 'muted' }, t('apprNoComments')),
      ),
      a.status === 'pending' ? [h('label', { for: 'approval-comment' }, t('apprComment')), comment] : null,
      detailError.el,
      h(
        'div',
        { class: 'row wrap' },
        mineToDecide
          ? h('button', { type: 'button', class: 'primary', id: 'approve', onclick: act('approve') }, t('apprApprove'))
          : null,
        mineToDecide
          ? h('button', { type: 'button', class: 'danger', id: 'reject', onclick: act('reject') }, t('apprReject'))
          : null,
        a.status === 'pending'
          ? h(
              'button',
              { type: 'button', class: 'ghost', id: 'add-comment', onclick: act('comment') },
              t('apprAddComment'),
            )
          : null,
        a.kind === 'telework-request' && a.applicant === ctx.identity.sub
          ? h('a', { class: 'button ghost', href: `#/telework/requests/${a.id}` }, t('apprToRequest'))
          : null,
      ),
    );
    detailBox.hidden = false;
  }

  /** The days, each with its own status once decided (a centre day may wait for a seat). */
  function dayList(p: RequestPayload, request: TeleworkRequest | undefined): HTMLElement {
    return h(
      'ul',
      { class: 'request-days' },
      p.days.map((day) => {
        const st = request?.dayStatus.find((d) => d.day === day);
        return h(
          'li',
          { class: 'req-day', dataset: { day, status: st?.status ?? '' } },
          day,
          ' ',
          st ? statusTag('day', st.status) : null,
          st?.waitlistPosition != null
            ? h('span', { class: 'waitlist-position' }, t('reqWaitlistPos', { n: st.waitlistPosition }))
            : null,
        );
      }),
    );
  }

  void refreshLists();
  void refreshDetail();
  void delegations.refresh();
  const timer = setInterval(() => void refreshLists(), 15_000);
  return () => {
    alive = false;
    clearInterval(timer);
  };
};

/**
 * My delegations: give my approvals to someone for whole days (while I am away), see the ones I
 * gave and received, take one back. People are offered from presence (everyone this app knows of).
 */
function delegationPanel(
  ctx: Parameters<View>[1],
  names: ReturnType<typeof nameBook>,
): { el: HTMLElement; refresh(): Promise<void> } {
  const today = todayAt(null);
  const to = h('select', { id: 'delegate-to', required: true });
  const from = h('input', { id: 'delegate-from', type: 'date', required: true, value: today, min: today });
  const until = h('input', { id: 'delegate-until', type: 'date', required: true, value: today, min: today });
  const given = h('ul', { class: 'delegations', id: 'delegations-given' });
  const received = h('ul', { class: 'delegations', id: 'delegations-received' });
  const error = errorBox('delegation-error');
  const refresh = async (): Promise<void> => {
    const people = [...ctx.client.presence.people.values()].filter((p) => p.sub !== ctx.identity.sub);
    const chosen = to.value;
    mount(
      to,
      people.map((p) => h('option', { value: p.sub, selected: p.sub === chosen }, p.name ?? p.sub)),
    );
    try {
      const list = await ctx.client.approvals.delegations();
      error.clear();
      names.learn([...list.given.map((d) => d.to), ...list.received.map((d) => d.from)]);
      mount(
        given,
        list.given.map((d) =>
          h(
            'li',
            { dataset: { to: d.to } },
            t('apprDelegatedTo', { who: names.of(d.to), from: d.fromDay, until: d.untilDay }),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'ghost small revoke-delegation',
                onclick: async () => {
                  try {
                    await ctx.client.approvals.revokeDelegation(d.to);
                    await refresh();
                  } catch (err) {
                    error.show(err);
                  }
                },
              },
              t('apprRevoke'),
            ),
          ),
        ),
      );
      mount(
        received,
        list.received.map((d) =>
          h(
            'li',
            { dataset: { from: d.from } },
            t('apprDelegatedFrom', { who: names.of(d.from), from: d.fromDay, until: d.untilDay }),
          ),
        ),
      );
    } catch (err) {
      error.show(err);
    }
  };
  const el = h(
    'section',
    { class: 'card delegation-panel' },
    h('h2', null, t('apprDelegations')),
    h(
      'form',
      {
        class: 'row wrap',
        id: 'delegate-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          if (!to.value) return;
          try {
            await ctx.client.approvals.delegate({ to: to.value, from: from.value, until: until.value });
            ctx.toast(t('apprDelegated'));
            await refresh();
          } catch (err) {
            error.show(err);
          }
        },
      },
      h('label', { for: 'delegate-to' }, t('apprDelegateTo')),
      to,
      h('label', { for: 'delegate-from' }, t('bookingFrom')),
      from,
      h('label', { for: 'delegate-until' }, t('bookingTo')),
      until,
      h('button', { type: 'submit', class: 'small' }, t('apprDelegate')),
    ),
    error.el,
    given,
    received,
  );
  return { el, refresh };
}
