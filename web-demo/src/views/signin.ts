/**
 * Development sign-in, in two steps because the site list is the organisation's data and the
 * server shows it only to a signed-in person: (1) name and role — the app mints a dev token for
 * that person at the org's default site (`hq`, which every org has) and loads the sites with it;
 * (2) where they work today, from the real list (the site chosen last time on this device is
 * preselected). The draft of step 1 survives a language switch (the page re-renders).
 */
import { devToken, ROLES, type Role, Telework } from '@moim/client-sdk';
import { h, mount } from '../dom.ts';
import { errorText, getLang, type Lang, setLang, t } from '../i18n.ts';
import { type Identity, subFor } from '../session.ts';
import { passkeySignIn, signInMethods } from '../signInMethods.ts';
import { KIND_ORDER, knownSites, lastSite, rememberSite, setSites, siteLabel } from '../sites.ts';

interface Draft {
  name: string;
  role: Role;
  sub: string;
}

/** Step 1's answer while step 2 is shown (module state: a language switch re-creates the view). */
let draft: Draft | undefined;

export function signInView(
  root: HTMLElement,
  opts: { error?: string | undefined; onSignIn: (identity: Identity) => void },
): () => void {
  let alive = true;
  const error = h('p', { class: 'error', role: 'alert', hidden: !opts.error }, opts.error ?? '');
  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = false;
  };

  const langSwitch = h(
    'div',
    { class: 'lang-switch' },
    (['ko', 'en'] as Lang[]).map((l) =>
      h(
        'button',
        { type: 'button', class: l === getLang() ? 'ghost active' : 'ghost', onclick: () => setLang(l) },
        l === 'ko' ? '한국어' : 'English',
      ),
    ),
  );

  const whoStep = (): HTMLElement => {
    const name = h('input', {
      id: 'signin-name',
      name: 'name',
      required: true,
      maxlength: '100',
      autocomplete: 'name',
      autofocus: true,
    });
    const role = h(
      'select',
      { id: 'signin-role', name: 'role' },
      ROLES.map((r) => h('option', { value: r, selected: r === 'member' }, t(`role_${r}`))),
    );
    const submit = h('button', { type: 'submit', class: 'primary' }, t('signInNext'));
    return h(
      'form',
      {
        class: 'card signin',
        dataset: { step: 'who' },
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const n = name.value.trim();
          if (!n) return;
          submit.disabled = true;
          const next: Draft = { name: n, role: role.value as Role, sub: subFor(n) };
          try {
            // the org's default site: every org has it, and the token only serves to read the list
            const { token } = await devToken(location.origin, { ...next, site: 'hq' });
            setSites(await new Telework({ url: location.origin, getToken: () => token }).sites());
          } catch (err) {
            if (!alive) return;
            submit.disabled = false;
            showError(`${t('errorPrefix')}: ${errorText(err)}`);
            return;
          }
          if (!alive) return;
          draft = next;
          error.hidden = true;
          render();
        },
      },
      h('h1', null, t('appName')),
      h('p', { class: 'muted' }, t('tagline')),
      h('h2', null, t('signInTitle')),
      h('label', { for: 'signin-name' }, t('name')),
      name,
      h('label', { for: 'signin-role' }, t('role')),
      role,
      methods,
      error,
      submit,
      h('p', { class: 'hint' }, t('signInHint')),
      langSwitch,
    );
  };

  // passkeys and single sign-on, shown once the server says it offers them
  const methods = h('div', { class: 'signin-methods' });
  void signInMethods().then((offered) => {
    if (!alive) return;
    const passkey = h(
      'button',
      {
        type: 'button',
        id: 'signin-passkey',
        class: 'primary',
        onclick: async () => {
          passkey.disabled = true;
          try {
            const { token, claims } = await passkeySignIn();
            if (!alive) return;
            opts.onSignIn({ name: claims.name, site: claims.site, role: claims.role, sub: claims.sub, token });
          } catch (err) {
            if (!alive) return;
            passkey.disabled = false;
            showError(`${t('errorPrefix')}: ${errorText(err)}`);
          }
        },
      },
      t('signInPasskey'),
    );
    methods.replaceChildren(
      offered.passkeys ? passkey : '',
      offered.oidc ? h('a', { id: 'signin-oidc', class: 'button', href: '/auth/oidc/start' }, t('signInOidc')) : '',
      offered.passkeys || offered.oidc ? h('p', { class: 'hint' }, t('signInOr')) : '',
    );
  });

  const whereStep = (d: Draft): HTMLElement => {
    const sites = knownSites();
    const preferred = lastSite();
    const chosen = sites.some((s) => s.id === preferred) ? preferred : (sites.find((s) => s.kind === 'hq')?.id ?? 'hq');
    const site = h(
      'select',
      { id: 'signin-site', name: 'site', required: true },
      KIND_ORDER.map((kind) => {
        const ofKind = sites.filter((s) => s.kind === kind);
        return ofKind.length
          ? h(
              'optgroup',
              { label: t(`siteKind_${kind}`) },
              ofKind.map((s) => h('option', { value: s.id, selected: s.id === chosen }, siteLabel(s.id, getLang()))),
            )
          : null;
      }),
      // an org whose admins deleted every site: the token's default still signs in
      sites.length === 0 ? h('option', { value: 'hq' }, siteLabel('hq', getLang())) : null,
    );
    const submit = h('button', { type: 'submit', class: 'primary' }, t('signIn'));
    return h(
      'form',
      {
        class: 'card signin',
        dataset: { step: 'where' },
        onsubmit: (e: Event) => {
          e.preventDefault();
          submit.disabled = true;
          draft = undefined;
          rememberSite(site.value);
          opts.onSignIn({ name: d.name, site: site.value, role: d.role, sub: d.sub });
        },
      },
      h('h1', null, t('appName')),
      h('h2', null, t('signInWhere')),
      h(
        'p',
        { class: 'signin-who' },
        h('strong', null, d.name),
        ' · ',
        t(`role_${d.role}`),
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'ghost small',
            id: 'signin-back',
            onclick: () => {
              draft = undefined;
              render();
            },
          },
          t('signInChange'),
        ),
      ),
      h('label', { for: 'signin-site' }, t('site')),
      site,
      error,
      submit,
      langSwitch,
    );
  };

  const render = () => {
    if (!alive) return;
    mount(root, h('div', { class: 'signin-page' }, draft ? whereStep(draft) : whoStep()));
    if (draft) document.getElementById('signin-site')?.focus();
  };
  render();
  return () => {
    alive = false;
  };
}
