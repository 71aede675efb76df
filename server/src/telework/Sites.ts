/**
 * Sites: the telework service of sites and places as data. It owns who may do what — every
 * member of an organisation reads its sites, only the org's admins change them — the first-use
 * seed of an org (`hq` and `home`), and the audit entry of every change. It never reads another
 * organisation's records: the org is always the caller's token `org`.
 */
import {
  MoimError,
  type OpeningHours,
  type Place,
  type PlaceInput,
  type PlacePutResponse,
  type Site,
  type SiteInput,
  type SitePutResponse,
  type SiteResponse,
} from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';

const WEEKDAYS_9_TO_6: OpeningHours = [
  null,
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  { open: '09:00', close: '18:00' },
  null,
];

/**
 * What an organisation gets on its first telework request: the `hq` and `home` sites that the
 * `site` claim of existing tokens (dev sign-in defaults to `hq`) already names.
 */
export const SEED_SITES: readonly Site[] = [
  {
    id: 'hq',
    name: 'HQ',
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: WEEKDAYS_9_TO_6,
    networks: [],
    kind: 'hq',
  },
  {
    id: 'home',
    name: 'Home',
    address: '',
    timeZone: 'Asia/Seoul',
    openingHours: [null, null, null, null, null, null, null],
    networks: [],
    kind: 'home',
  },
];

export interface SitesOptions {
  store: TeleworkStore;
  audit: AuditStore;
  log: Logger;
}

export class Sites {
  readonly #store: TeleworkStore;
  readonly #audit: AuditStore;
  readonly #log: Logger;
  /** Orgs seeded (or found seeded) by this process: the store is asked once per org. */
  readonly #seeded = new Set<string>();

  constructor(opts: SitesOptions) {
    this.#store = opts.store;
    this.#audit = opts.audit;
    this.#log = opts.log;
  }

  async list(caller: Principal): Promise<Site[]> {
    return this.#store.listSites(await this.#orgOf(caller));
  }

  async get(caller: Principal, id: string): Promise<SiteResponse> {
    const org = await this.#orgOf(caller);
    const site = await this.#store.getSite(org, id);
    if (!site) throw new MoimError('NOT_FOUND', `no site ${id}`);
    return { site, places: await this.#store.listPlaces(org, id) };
  }

  /** Create or replace the site `id` (org admins). */
  async putSite(caller: Principal, id: string, input: SiteInput): Promise<SitePutResponse> {
    const org = await this.#adminOrg(caller);
    if (input.id !== undefined && input.id !== id) throw new MoimError('INVALID_PAYLOAD', 'id: must be the path’s');
    const site: Site = { ...input, id };
    const at = Date.now();
    let created = false;
    if (!(await this.#store.updateSite(org, site, at))) {
      try {
        await this.#store.createSite(org, site, at);
        created = true;
      } catch (err) {
        // another request created it between our update and insert: replace theirs, as PUT says
        if (!(err instanceof MoimError && err.code === 'CONFLICT') || !(await this.#store.updateSite(org, site, at)))
          throw err;
      }
    }
    await this.#audit.append({
      actor: caller.sub,
      action: created ? 'telework.site.create' : 'telework.site.replace',
      target: id,
      detail: { org, kind: site.kind },
    });
    this.#log.info({ org, site: id, created }, 'telework site stored');
    return { site, created };
  }

  /** Delete the site `id` and its places (org admins). */
  async deleteSite(caller: Principal, id: string): Promise<void> {
    const org = await this.#adminOrg(caller);
    if (!(await this.#store.deleteSite(org, id))) throw new MoimError('NOT_FOUND', `no site ${id}`);
    await this.#audit.append({ actor: caller.sub, action: 'telework.site.delete', target: id, detail: { org } });
    this.#log.info({ org, site: id }, 'telework site deleted');
  }

  /** Create or replace the place `placeId` of site `siteId` (org admins); NOT_FOUND without the site. */
  async putPlace(caller: Principal, siteId: string, placeId: string, input: PlaceInput): Promise<PlacePutResponse> {
    const org = await this.#adminOrg(caller);
    if (input.id !== undefined && input.id !== placeId)
      throw new MoimError('INVALID_PAYLOAD', 'id: must be the path’s');
    if (input.siteId !== undefined && input.siteId !== siteId)
      throw new MoimError('INVALID_PAYLOAD', 'siteId: must be the path’s');
    const place: Place = { ...input, id: placeId, siteId };
    const at = Date.now();
    let created = false;
    if (!(await this.#store.updatePlace(org, place, at))) {
      try {
        await this.#store.createPlace(org, place, at);
        created = true;
      } catch (err) {
        if (!(err instanceof MoimError && err.code === 'CONFLICT') || !(await this.#store.updatePlace(org, place, at)))
          throw err;
      }
    }
    await this.#audit.append({
      actor: caller.sub,
      action: created ? 'telework.place.create' : 'telework.place.replace',
      target: `${siteId}/${placeId}`,
      detail: { org, kind: place.kind, tier: place.tier, capacity: place.capacity },
    });
    return { place, created };
  }

  async deletePlace(caller: Principal, siteId: string, placeId: string): Promise<void> {
    const org = await this.#adminOrg(caller);
    if (!(await this.#store.deletePlace(org, siteId, placeId)))
      throw new MoimError('NOT_FOUND', `no place ${placeId} in site ${siteId}`);
    await this.#audit.append({
      actor: caller.sub,
      action: 'telework.place.delete',
      target: `${siteId}/${placeId}`,
      detail: { org },
    });
  }

  /** The caller's org, seeded on its first use (for the other telework services). */
  async orgOf(caller: Principal): Promise<string> {
    return this.#orgOf(caller);
  }

  /** The caller's org, seeded on its first use. */
  async #orgOf(caller: Principal): Promise<string> {
    const org = caller.token.org;
    if (!this.#seeded.has(org)) {
      if (await this.#store.seedOnce(org, SEED_SITES, Date.now())) {
        await this.#audit.append({
          actor: 'system',
          action: 'telework.seed',
          target: org,
          detail: { org, sites: SEED_SITES.map((s) => s.id) },
        });
        this.#log.info({ org }, 'telework sites seeded');
      }
      this.#seeded.add(org);
    }
    return org;
  }

  async #adminOrg(caller: Principal): Promise<string> {
    const org = await this.#orgOf(caller);
    if (!caller.isAdmin) throw new MoimError('FORBIDDEN', 'only an admin of the organisation manages its sites');
    return org;
  }
}
