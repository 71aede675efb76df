/**
 * What the telework pages (requests, approvals, work reports, the manager's view) share: people's
 * names learnt from presence (shown by id until known), a refusal box that shows a code in the
 * viewer's language, a site's today, and the labels of telework types and statuses. Each page
 * owns its own state; nothing here outlives the page that made it.
 */
import '../telework.css';
import { getLogger, siteClock } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h } from '../dom.ts';
import { errorCode, errorText, getLang, t } from '../i18n.ts';
import { siteLabel, siteOf } from '../sites.ts';
import { timeZone } from '../time.ts';

const log = getLogger('moim.web.telework');

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Names by `sub` (a Map: ids come from the server and from links). */
export function nameBook(
  ctx: AppContext,
  onLearnt: () => void,
): { of(sub: string): string; learn(subs: Iterable<string>): void } {
  const names = new Map<string, string>([[ctx.identity.sub, ctx.identity.name]]);
  const asked = new Set<string>();
  return {
    of: (sub) => names.get(sub) ?? ctx.client.presence.people.get(sub)?.name ?? sub,
    learn(subs) {
      const missing = [...new Set(subs)].filter((s) => !names.has(s) && !asked.has(s));
      if (missing.length === 0) return;
      for (const s of missing) asked.add(s);
      ctx.client.presence.get(missing).then(
        (people) => {
          for (const p of people) if (p.name) names.set(p.sub, p.name);
          onLearnt();
        },
        (error: unknown) => log.warn('names not read; shown by id', { people: missing.length, error }),
      );
    },
  };
}

/** A refusal shown in place, by its code in the viewer's language (`data-code` names it). */
export function errorBox(id: string): { el: HTMLParagraphElement; show(err: unknown): void; clear(): void } {
  const el = h('p', { class: 'error', id, role: 'alert', hidden: true });
  return {
    el,
    show(err) {
      el.textContent = errorText(err, { detail: true });
      el.dataset.code = errorCode(err) ?? '';
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.textContent = '';
      delete el.dataset.code;
    },
  };
}

/** Today on the clock of a site (the viewer's zone when the site is not known). */
export function todayAt(siteId: string | null | undefined): string {
  return siteClock(Date.now(), siteOf(siteId)?.timeZone ?? timeZone()).date;
}

/** `HH:MM` of an instant on a site's clock. */
export function timeAt(iso: string, siteId: string | null | undefined): string {
  return siteClock(Date.parse(iso), siteOf(siteId)?.timeZone ?? timeZone()).time;
}

export function typeLabel(type: string | null): string {
  switch (type) {
    case 'home':
      return t('twType_home');
    case 'smart-work-centre':
      return t('twType_smart-work-centre');
    case 'mobile':
      return t('twType_mobile');
    case 'office':
      return t('twType_office');
    default:
      return '—';
  }
}

/** A status as a tag (`data-status` keeps the code for styles and tests). */
export function statusTag(kind: 'day' | 'approval' | 'report' | 'dash' | 'step', status: string): HTMLElement {
  return h('span', { class: `tag status status-${status}`, dataset: { status } }, statusText(kind, status));
}

function statusText(kind: 'day' | 'approval' | 'report' | 'dash' | 'step', status: string): string {
  const key = `st_${kind}_${status}`;
  const text = t(key as Parameters<typeof t>[0]);
  return text === key ? status : text;
}

export function site(id: string | null | undefined): string {
  return siteLabel(id, getLang());
}

/** A priority category in the viewer's language. */
export function categoryLabel(c: string): string {
  const key = `prio_${c}`;
  const text = t(key as Parameters<typeof t>[0]);
  return text === key ? c : text;
}
