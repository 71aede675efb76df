import type { Lang } from './i18n.ts';

/** Kinds of work site. HQ and home are fixed ids; every other id is a smart office. */
export type SiteKind = 'hq' | 'smart-office' | 'home';

export interface SiteInfo {
  id: string;
  ko: string;
  en: string;
}

/** The sites offered at sign-in (a deployment would read these from its telework configuration). */
export const KNOWN_SITES: readonly SiteInfo[] = [
  { id: 'hq', ko: '본부', en: 'Headquarters' },
  { id: 'so-seoul', ko: '서울역 스마트워크센터', en: 'Seoul Station smart office' },
  { id: 'so-sejong', ko: '세종 스마트워크센터', en: 'Sejong smart office' },
  { id: 'so-daejeon', ko: '대전 스마트워크센터', en: 'Daejeon smart office' },
  { id: 'so-busan', ko: '부산 스마트워크센터', en: 'Busan smart office' },
  { id: 'home', ko: '재택', en: 'Home' },
];

export function siteKind(id: string | null | undefined): SiteKind {
  if (id === 'hq') return 'hq';
  if (id === 'home') return 'home';
  return 'smart-office';
}

export function siteLabel(id: string | null | undefined, lang: Lang): string {
  if (!id) return '—';
  const known = KNOWN_SITES.find((s) => s.id === id);
  return known ? known[lang] : id;
}

/** Order for the presence board: HQ, then smart offices (known ones first), then home. */
export function siteOrder(id: string): number {
  const kind = siteKind(id);
  if (kind === 'hq') return 0;
  if (kind === 'home') return 1000;
  const i = KNOWN_SITES.findIndex((s) => s.id === id);
  return i >= 0 ? i : 500;
}
