import type { ConnectionState, MoimClient } from '@moim/client-sdk';
import { startCallUi } from './calls/callUi.ts';
import type { AppContext, View } from './context.ts';
import { h, icon, mount } from './dom.ts';
import { errorText, getLang, type Lang, onLangChange, setLang, t } from './i18n.ts';
import type { MeetingSession } from './meeting/MeetingSession.ts';
import { startNotifications } from './notify.ts';
import { currentToken, endSession, type Identity, loadIdentity, saveIdentity, startSession } from './session.ts';
import { claimsOf, registerPasskey, signInErrorFromFragment, tokenFromFragment } from './signInMethods.ts';
import { clearSites, loadSites, onSitesChange, siteLabel } from './sites.ts';
import { timeZone } from './time.ts';
import { approvalsView } from './views/approvals.ts';
import { bookingView } from './views/booking.ts';
import { chatView } from './views/chat.ts';
import { docsView } from './views/docs.ts';
import { meetingView } from './views/meeting.ts';
import { presenceView } from './views/presence.ts';
import { signInView } from './views/signin.ts';
import { sitesView } from './views/sites.ts';
import { teleworkTab, teleworkView } from './views/telework.ts';

/** Views by route name (a Map: `#/__proto__` or `#/constructor` must not find an Object member). */
const ROUTES = new Map<string, View>([
  ['presence', presenceView],
  ['chat', chatView],
  ['meeting', meetingView],
  ['docs', docsView],
  ['booking', bookingView],
  ['sites', sitesView],
  // requests, work reports and the manager's view (`#/telework/<page>`), and the approvals inbox
  ['telework', teleworkView],
  ['approvals', approvalsView],
]);

/** decodeURIComponent, or undefined for a malformed escape (`#/chat/%ff`). */
function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * The route in the address's hash. Every part is decoded safely: a part with a malformed escape,
 * or an unknown route name, falls back to the presence board instead of throwing.
 */
export function parseRoute(hash: string = location.hash): { name: string; params: string[] } {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(safeDecode);
  const first = parts[0];
  if (first === undefined || !ROUTES.has(first) || parts.some((p) => p === undefined))
    return { name: 'presence', params: [] };
  return { name: first, params: parts.slice(1) as string[] };
}

/** The navigation tab a route marks (a telework page marks its own: `telework/reports`). */
function navTab(name: string, params: readonly string[]): string {
  return name === 'telework' ? teleworkTab(params) : name;
}

export function startApp(root: HTMLElement): void {
  document.documentElement.lang = getLang();
  // back from single sign-on: the session token is in the URL fragment
  const sso = tokenFromFragment();
  if (sso) {
    const c = claimsOf(sso);
    saveIdentity({ name: c.name, site: c.site, role: c.role, sub: c.sub, token: sso });
  }
  const identity = loadIdentity();
  const refused = signInErrorFromFragment();
  if (identity) void signedIn(root, identity);
  else showSignIn(root, refused && `${t('errorPrefix')}: ${errorText(refused)}`);
}

function showSignIn(root: HTMLElement, error?: string): void {
  let teardown = () => {};
  const render = () => {
    teardown();
    root.replaceChildren();
    teardown = signInView(root, {
      error,
      onSignIn: (identity) => {
        offLang();
        teardown();
        saveIdentity(identity);
        void signedIn(root, identity);
      },
    });
  };
  const offLang = onLangChange(render);
  render();
}

async function signedIn(root: HTMLElement, identity: Identity): Promise<void> {
  mount(root, h('div', { class: 'splash' }, t('conn_connecting')));
  let client: MoimClient;
  try {
    client = await startSession(identity);
  } catch (err) {
    saveIdentity(undefined);
    showSignIn(root, `${t('errorPrefix')}: ${errorText(err)}`);
    return;
  }
  Shell.start(root, client, identity);
}

/** The signed-in application: header, navigation, the current view, meeting bar, toasts. */
class Shell {
  readonly ctx: AppContext;
  readonly #root: HTMLElement;
  readonly #header = h('header', { class: 'top' });
  readonly #meetingBar = h('div', { class: 'meeting-bar', hidden: true });
  /** Incoming-call banners, the calling and in-call bars (calls/callUi.ts). */
  readonly #calls = h('div', { class: 'call-bars', 'aria-live': 'assertive' });
  readonly #view = h('main', { class: 'view', id: 'view' });
  readonly #toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  readonly #audio = h('div', { class: 'audio-sink', hidden: true });
  #teardown: () => void = () => {};
  #offSites: () => void = () => {};
  readonly #gone = new AbortController();
  #route = '';

  static start(root: HTMLElement, client: MoimClient, identity: Identity): Shell {
    return new Shell(root, client, identity);
  }

  private constructor(root: HTMLElement, client: MoimClient, identity: Identity) {
    this.#root = root;
    const shell = this;
    this.ctx = {
      client,
      identity,
      meeting: undefined,
      setMeeting(m: MeetingSession | undefined) {
        shell.ctx.meeting = m;
        shell.#renderMeetingBar();
      },
      navigate(hash: string) {
        if (location.hash === hash) shell.#show(true);
        else location.hash = hash;
      },
      toast: (message, kind = 'info') => this.#toast(message, kind),
      audioSink: this.#audio,
    };
    mount(root, this.#header, this.#calls, this.#meetingBar, this.#view, this.#toasts, this.#audio);
    this.#renderHeader();
    // unread badges, the page title, toasts, browser notifications and invitations (notify.ts)
    this.#gone.signal.addEventListener('abort', startNotifications(this.ctx));
    client.on('state', () => this.#renderHeader());
    // the header follows where the person is now (moving home changes it), not where they signed in
    let site = identity.site;
    client.presence.on('update', () => {
      const now = client.presence.people.get(identity.sub)?.site;
      if (now && now !== site) {
        site = now;
        this.#renderHeader();
      }
    });
    client.on('error', (e) => {
      if (e.code !== 'UNAVAILABLE') this.#toast(`${t('errorPrefix')}: ${errorText(e)}`, 'error');
    });
    client.on('closed', (e) => {
      if (e.code) this.#toast(`${t('conn_closed')}: ${e.reason}`, 'error');
    });
    // a signed-out shell stops following the address and the language (the next one does)
    window.addEventListener('hashchange', () => this.#show(false), { signal: this.#gone.signal });
    const offLang = onLangChange(() => {
      this.#renderHeader();
      this.#renderMeetingBar();
      this.#show(true);
    });
    this.#gone.signal.addEventListener('abort', offLang);
    client.presence.watchActivity(window);
    const stopCalls = startCallUi(this.#calls, this.ctx);
    client.on('closed', () => stopCalls());
    // the organisation's sites, once per session (the header, chat and meetings name sites from it)
    this.#offSites = onSitesChange(() => this.#renderHeader());
    loadSites(client.telework).catch((e: unknown) => this.#toast(`${t('errorPrefix')}: ${errorText(e)}`, 'error'));
    // diagnostics (and the browser tests) reach the session when debugging is switched on
    if (localStorage.getItem('moim.debug') === '1') {
      const docs = new Map<string, () => string>();
      (window as unknown as { __moim: unknown }).__moim = {
        ctx: this.ctx,
        docs,
        errors: [] as string[],
        docText: (name: string) => docs.get(name)?.() ?? null,
      };
    }
    this.#show(true);
  }

  #show(force: boolean): void {
    const { name, params } = parseRoute();
    const key = `${name}/${params.join('/')}`;
    if (!force && key === this.#route) return;
    this.#route = key;
    this.#teardown();
    this.#view.replaceChildren();
    this.#view.dataset.view = name;
    this.#teardown = (ROUTES.get(name) ?? presenceView)(this.#view, this.ctx, params);
    const tab = navTab(name, params);
    for (const a of this.#header.querySelectorAll<HTMLAnchorElement>('nav a')) {
      if (a.dataset.route === tab) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    this.#renderMeetingBar();
  }

  #renderHeader(): void {
    const { client, identity } = this.ctx;
    const state: ConnectionState = client.state;
    const current = parseRoute();
    const route = navTab(current.name, current.params);
    const navItem = (r: string, label: string) =>
      h(
        'a',
        { href: `#/${r}`, dataset: { route: r }, ...(r === route ? { 'aria-current': 'page' } : {}) },
        h('span', null, label),
      );
    const lang = h(
      'select',
      {
        class: 'lang',
        'aria-label': t('language'),
        onchange: (e: Event) => setLang((e.target as HTMLSelectElement).value as Lang),
      },
      h('option', { value: 'ko', selected: getLang() === 'ko' }, '한국어'),
      h('option', { value: 'en', selected: getLang() === 'en' }, 'English'),
    );
    mount(
      this.#header,
      h('a', { class: 'brand', href: '#/presence' }, h('strong', null, t('appName'))),
      h(
        'nav',
        { class: 'tabs', 'aria-label': 'main' },
        navItem('presence', t('nav_presence')),
        navItem('chat', t('nav_chat')),
        navItem('meeting', t('nav_meeting')),
        navItem('docs', t('nav_docs')),
        navItem('booking', t('nav_booking')),
        navItem('telework/requests', t('nav_requests')),
        navItem('approvals', t('nav_approvals')),
        navItem('telework/reports', t('nav_reports')),
        identity.role === 'member' ? null : navItem('telework/dashboard', t('nav_dashboard')),
        identity.role === 'admin' ? navItem('sites', t('nav_sites')) : null,
      ),
      h(
        'div',
        { class: 'who' },
        h('span', { class: `conn conn-${state}`, title: t('timeZone', { tz: timeZone() }) }, t(`conn_${state}`)),
        h(
          'span',
          { class: 'me' },
          h('span', { class: 'me-name' }, identity.name),
          h(
            'span',
            { class: 'me-site' },
            siteLabel(client.presence.people.get(identity.sub)?.site ?? identity.site, getLang()),
          ),
        ),
        lang,
        h(
          'button',
          {
            class: 'ghost',
            type: 'button',
            id: 'passkey-register',
            onclick: async () => {
              try {
                await registerPasskey(await currentToken(identity));
                this.#toast(t('passkeyRegistered'), 'info');
              } catch (e) {
                this.#toast(`${t('errorPrefix')}: ${errorText(e)}`, 'error');
              }
            },
          },
          t('passkeyRegister'),
        ),
        h(
          'button',
          {
            class: 'ghost',
            type: 'button',
            id: 'sign-out',
            onclick: async () => {
              await this.ctx.meeting?.leave();
              await client.close();
              await endSession().catch((e: unknown) => this.#toast(`${t('errorPrefix')}: ${errorText(e)}`, 'error'));
              saveIdentity(undefined);
              this.#offSites();
              this.#gone.abort();
              clearSites();
              location.hash = '';
              this.#teardown();
              showSignIn(this.#root);
            },
          },
          t('signOut'),
        ),
      ),
    );
  }

  #renderMeetingBar(): void {
    const m = this.ctx.meeting;
    const onMeeting = parseRoute().name === 'meeting';
    this.#meetingBar.hidden = !m || onMeeting;
    if (!m || onMeeting) return;
    mount(
      this.#meetingBar,
      icon('cam'),
      h('span', null, t('inMeeting', { name: m.title })),
      h('a', { href: `#/meeting/${encodeURIComponent(m.room.roomId)}`, class: 'button small' }, t('backToMeeting')),
    );
  }

  #toast(message: string, kind: 'info' | 'error'): void {
    if (kind === 'error') (window as unknown as { __moim?: { errors: string[] } }).__moim?.errors.push(message);
    const el = h('div', { class: `toast toast-${kind}` }, message);
    this.#toasts.appendChild(el);
    setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
  }
}
