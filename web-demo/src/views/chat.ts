import type { View } from '../context.ts';
import { h, mount } from '../dom.ts';
import { t } from '../i18n.ts';

/** Chat: channels and direct messages (filled in once the chat protocol is served). */
export const chatView: View = (root) => {
  mount(
    root,
    h('div', { class: 'page' }, h('h1', null, t('chatTitle')), h('p', { class: 'muted' }, t('chatUnavailable'))),
  );
  return () => {};
};
