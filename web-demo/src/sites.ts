/**
 * The organisation's sites as the web app knows them: data from the server (`GET /telework/sites`
 * through the SDK's telework client), loaded once per session and kept in memory and in this
 * tab's sessionStorage, so views read them synchronously (labels in chat, meeting tiles, the
 * header) and a reload shows names at once. The sites page refreshes it after every change it
 * makes; views that list sites listen to `onSitesChange`. Nothing here is a constant list: an id
 * the cache does not know (a person at a site created after the load) shows as its id.
 */
import type { Site, SiteKind, Telework } from '@moim/client-sdk';
import { getLogger } from '@moim/client-sdk';
import type { Lang } from './i18n.ts';

export type { SiteKind };

const log = getLogger('moim.web.sites');
const STORAGE_KEY = 'moim.sites';
/** The site chosen at the last sign-in on this device (preselected at the next). */
const LAST_SITE_KEY = 'moim.lastSite';

/** Kinds in board order: headquarters first, then the smart-work centres, home last. */
export const KIND_ORDER: readonly SiteKind[] = ['hq', 'smart-work-centre', 'home'];

/**
 * The names the server gives its first-use seeds (`hq` "HQ", `home` "Home"): shown in the
 * viewer's language while an admin has not renamed them.
 */
const SEED_LABELS = new Map<string, { name: string; ko: string; en: string }>([
  ['hq', { name: 'HQ', ko: '본부', en: 'Headquarters' }],
  ['home', { name: 'Home', ko: '재택', en: 'Home' }],
]);

let sites: Site[] = readStored();
let byId = new Map(sites.map((s) => [s.id, s]));
let loading: Promise<readonly Site[]> | undefined;
const listeners = new Set<() => void>();

function readStored(): Site[] {
  try {
    const v = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '[]') as unknown;
    return Array.isArray(v)
      ? v.filter(
          (s): s is Site => typeof s?.id === 'string' && typeof s?.name === 'string' && typeof s?.kind === 'string',
        )
      : [];
  } catch (error) {
    log.warn('stored site list unreadable; loading it again', { error });
    return [];
  }
}

/** Replace the list (after a load, or after the sites page changed it) and tell the views. */
export function setSites(list: readonly Site[]): void {
  sites = [...list].sort(compareSites);
  byId = new Map(sites.map((s) => [s.id, s]));
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(sites));
  } catch (error) {
    log.debug('site list not stored (storage unavailable)', { error });
  }
  for (const l of listeners) {
    try {
      l();
    } catch (error) {
      // one view's failure must not keep the others stale
      log.warn('site list listener failed', { error });
    }
  }
}

/** Forget the list (sign-out: the next person may be of another organisation). */
export function clearSites(): void {
  loading = undefined;
  setSites([]);
}

/** The sites known now (sorted: kind, then name). */
export function knownSites(): readonly Site[] {
  return sites;
}

/**
 * Load the list from the server once per session (`force` loads it again). Concurrent callers
 * share one request; a failure leaves the cached list in place and rejects.
 */
export function loadSites(telework: Telework, opts: { force?: boolean } = {}): Promise<readonly Site[]> {
  if (loading && !opts.force) return loading;
  const p = telework.sites().then((list) => {
    setSites(list);
    return sites;
  });
  loading = p;
  p.catch((error: unknown) => {
    if (loading === p) loading = undefined; // the next caller tries again
    log.warn('loading the site list failed', { error });
  });
  return p;
}

export function onSitesChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function siteOf(id: string | null | undefined): Site | undefined {
  return id ? byId.get(id) : undefined;
}

/** The kind of a site; an id the list does not know counts as a smart-work centre (`hq`/`home` by name). */
export function siteKind(id: string | null | undefined): SiteKind {
  const known = siteOf(id);
  if (known) return known.kind;
  if (id === 'hq') return 'hq';
  if (id === 'home') return 'home';
  return 'smart-work-centre';
}

/** The name to show for a site: its name (seed names in the viewer's language), else the id. */
export function siteLabel(id: string | null | undefined, lang: Lang): string {
  if (!id) return '—';
  const site = byId.get(id);
  const seed = SEED_LABELS.get(id);
  if (seed && (!site || site.name === seed.name)) return seed[lang];
  return site ? site.name : id;
}

/** Order for lists and the presence board: by kind, then by name. */
export function siteOrder(id: string): number {
  const i = sites.findIndex((s) => s.id === id);
  return KIND_ORDER.indexOf(siteKind(id)) * 10_000 + (i >= 0 ? i : 9_999);
}

function compareSites(a: Site, b: Site): number {
  return (
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id)
  );
}

export function lastSite(): string | undefined {
  try {
    return localStorage.getItem(LAST_SITE_KEY) ?? undefined;
  } catch (error) {
    log.debug('last site not readable (storage unavailable)', { error });
    return undefined;
  }
}

export function rememberSite(id: string): void {
  try {
    localStorage.setItem(LAST_SITE_KEY, id);
  } catch (error) {
    log.debug('last site not stored (storage unavailable)', { error });
  }
}
