/**
 * Names instead of ids in chat: a direct message is titled with the other people's names (the
 * server names it by the members' subs, `a-1, b-2`), a site channel's topic with the site's name in
 * the viewer's language.
 */
import { t } from '../i18n.ts';

/** The other members of a direct message by name (the member list is its name, sorted subs joined by ", "). */
export function dmTitle(name: string, me: string, nameOf: (sub: string) => string): string {
  const subs = name.split(', ').filter((s) => s !== '');
  const others = subs.filter((s) => s !== me);
  return (others.length ? others : subs).map(nameOf).join(', ') || t('directMessages');
}
