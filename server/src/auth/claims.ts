import type { ClaimsMap } from '../config/signIn.ts';
import type { AccountProfile } from '../storage/index.ts';

const SITE_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A claim of an outside source (ID token, certificate subject), read without touching Object.prototype. */
function claim(source: Record<string, unknown>, name: string | undefined): unknown {
  return name !== undefined && Object.hasOwn(source, name) ? source[name] : undefined;
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * moim's org and profile of a person from an identity provider's claims (or a certificate's
 * subject attributes) as the configured map says. Values that do not fit moim's rules fall back
 * to the defaults (a site that is not a site id, a name too long is cut).
 */
export function mapClaims(
  source: Record<string, unknown>,
  map: ClaimsMap,
  fallbackName: string,
): { org: string; profile: AccountProfile } {
  const orgValue = strings(claim(source, map.org))[0]?.trim();
  const org = orgValue && orgValue.length <= 64 ? orgValue : map.orgDefault;
  const siteValue = strings(claim(source, map.site))[0]?.trim().toLowerCase();
  const site = siteValue && SITE_RE.test(siteValue) ? siteValue : map.siteDefault;
  const teams = strings(claim(source, map.teams))
    .map((t) => t.trim())
    .filter((t) => t.length > 0 && t.length <= 64)
    .slice(0, 50);
  const roleValues = strings(claim(source, map.role));
  const role = roleValues.some((r) => map.roles.admin.includes(r))
    ? 'admin'
    : roleValues.some((r) => map.roles.manager.includes(r))
      ? 'manager'
      : 'member';
  const nameValue = strings(claim(source, map.name))[0]?.trim() || fallbackName;
  return { org, profile: { name: [...nameValue].slice(0, 100).join(''), site, role, teams } };
}
