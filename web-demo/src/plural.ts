/** Plural texts: `<key>_one` / `<key>_other` chosen by the viewer's language rules (Intl.PluralRules). */
import { getLang, type TextKey, t } from './i18n.ts';

const rules = new Map<string, Intl.PluralRules>();

export function tn(key: 'replies' | 'participants', n: number): string {
  const lang = getLang();
  let r = rules.get(lang);
  if (!r) {
    r = new Intl.PluralRules(lang);
    rules.set(lang, r);
  }
  const form = r.select(n) === 'one' ? 'one' : 'other';
  return t(`${key}_${form}` as TextKey, { n });
}
