import { ROLES, type Role } from '@moim/client-sdk';
import { h, mount } from '../dom.ts';
import { getLang, type Lang, setLang, t } from '../i18n.ts';
import { type Identity, newSub } from '../session.ts';
import { KNOWN_SITES } from '../sites.ts';

export function signInView(
  root: HTMLElement,
  opts: { error?: string | undefined; onSignIn: (identity: Identity) => void },
): () => void {
  const name = h('input', {
    id: 'signin-name',
    name: 'name',
    required: true,
    maxlength: '100',
    autocomplete: 'name',
    autofocus: true,
  });
  const site = h(
    'select',
    { id: 'signin-site', name: 'site' },
    KNOWN_SITES.map((s) => h('option', { value: s.id }, s[getLang()])),
  );
  const role = h(
    'select',
    { id: 'signin-role', name: 'role' },
    ROLES.map((r) => h('option', { value: r, selected: r === 'member' }, t(`role_${r}`))),
  );
  const error = h('p', { class: 'error', role: 'alert', hidden: !opts.error }, opts.error ?? '');
  const submit = h('button', { type: 'submit', class: 'primary' }, t('signIn'));
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const n = name.value.trim();
        if (!n) return;
        submit.disabled = true;
        opts.onSignIn({ name: n, site: site.value, role: role.value as Role, sub: newSub(n) });
      },
    },
    h('h1', null, t('appName')),
    h('p', { class: 'muted' }, t('tagline')),
    h('h2', null, t('signInTitle')),
    h('label', { for: 'signin-name' }, t('name')),
    name,
    h('label', { for: 'signin-site' }, t('site')),
    site,
    h('label', { for: 'signin-role' }, t('role')),
    role,
    error,
    submit,
    h('p', { class: 'hint' }, t('signInHint')),
    h(
      'div',
      { class: 'lang-switch' },
      (['ko', 'en'] as Lang[]).map((l) =>
        h(
          'button',
          { type: 'button', class: l === getLang() ? 'ghost active' : 'ghost', onclick: () => setLang(l) },
          l === 'ko' ? '한국어' : 'English',
        ),
      ),
    ),
  );
  mount(root, h('div', { class: 'signin-page' }, form));
  return () => {};
}
