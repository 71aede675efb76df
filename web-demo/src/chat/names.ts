/**
 * Names instead of ids in chat: a direct message is titled with the other people's names (the
 * server names it by the members' subs, `a-1, b-2`), a site channel's topic with the site's name in
 * the viewer's language.
 */
import { getLang, t } from '../i18n.ts';
import { siteLabel } from '../sites.ts';

/** The other members of a direct message by name (the member list is its name, sorted subs joined by ", "). */
export function dmTitle(name: string, me: string, nameOf: (sub: string) => string): string {
  const subs = name.split(', ').filter((s) => s !== '');
  const others = subs.filter((s) => s !== me);
  return (others.length ? others : subs).map(nameOf).join(', ') || t('directMessages');
}

/** A channel's title: `# 전체` for the organisation's channel, the site's name for a site channel, `# name` otherwise. */
export function channelTitle(c: { id: string; kind: string; name: string; site: string | null }): string {
  if (c.id === 'org-everyone' || c.id.startsWith('org-everyone-')) return `# ${t('orgChannel')}`;
  if (c.kind === 'site' && c.site) return `# ${siteLabel(c.site, getLang())}`;
  return `# ${c.name}`;
}

/** A channel's topic in the viewer's language (a site channel's is made from the site's name). */
export function channelTopic(c: { kind: string; topic: string | null; site: string | null }): string | null {
  if (c.kind === 'site' && c.site) return t('siteTopic', { site: siteLabel(c.site, getLang()) });
  return c.topic;
}
