/**
 * Notifications while the person works elsewhere in the app: the chat tab's badge with the
 * unread count (live: every channel of the person is followed, a first direct message included),
 * the page title `(3) moim`, a toast for a direct message or an @mention outside its
 * conversation, and a browser notification when the tab is hidden (once the person allowed them).
 * Meeting invitations ring as calls do (calls/callUi.ts), not here. The shell starts it once per
 * session; it owns nothing the views own.
 */
import { type ChatMessage, getLogger, type MyChannel } from '@moim/client-sdk';
import type { AppContext } from './context.ts';
import { h } from './dom.ts';
import { t } from './i18n.ts';

const log = getLogger('moim.web.notify');

/** Channels followed live for their unread counts (direct messages first, then by last activity). */
const FOLLOWED_MAX = 40;
/** A message older than this when it arrives is history, not news (no toast, no ring). */
const FRESH_MS = 120_000;
/** How often the server's unread counts are read again while some channels are not followed live. */
const RECONCILE_MS = 15_000;

/** The browser's Notification when its permission is `permission` (browsers without it: none). */
function notificationApi(permission: NotificationPermission): typeof Notification | undefined {
  const api = typeof window.Notification === 'function' ? window.Notification : undefined;
  return api?.permission === permission ? api : undefined;
}

/** Show a toast with buttons in the app's toast area (an invitation's "Join", a message's "Open"). */
export function actionToast(
  message: string,
  actions: Array<{ label: string; className?: string; run: () => void }>,
  opts: { kind?: string; ttlMs?: number } = {},
): HTMLElement {
  const el = h(
    'div',
    { class: `toast toast-action toast-${opts.kind ?? 'info'}`, role: 'status' },
    h('span', { class: 'toast-text' }, message),
    actions.map((a) =>
      h(
        'button',
        {
          type: 'button',
          class: `small ${a.className ?? ''}`.trim(),
          onclick: () => {
            el.remove();
            a.run();
          },
        },
        a.label,
      ),
    ),
    h('button', { type: 'button', class: 'ghost small', 'aria-label': t('dismiss'), onclick: () => el.remove() }, '×'),
  );
  (document.querySelector('.toasts') ?? document.body).appendChild(el);
  setTimeout(() => el.remove(), opts.ttlMs ?? 15_000);
  return el;
}

/** The route the app shows now: `chat/<channel>` etc. */
function currentRoute(): { name: string; channel: string | undefined } {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  return { name: parts[0] ?? '', channel: parts[0] === 'chat' ? parts[1] : undefined };
}

export function startNotifications(ctx: AppContext): () => void {
  const { client } = ctx;
  const chat = client.chat;
  const baseTitle = document.title || 'moim';
  const followed = new Set<string>();
  let alive = true;

  const total = () =>
    chat.myChannels.reduce((n, c) => n + (c.id === chat.activeChannel || c.unread <= 0 ? 0 : c.unread), 0);

  // the chat tab's badge (the header is re-rendered often: put the badge back each time)
  const decorate = () => {
    const n = total();
    const tab = document.querySelector<HTMLAnchorElement>('header.top nav a[data-route="chat"]');
    const badge = tab?.querySelector<HTMLElement>('.nav-badge');
    const text = n > 99 ? '99+' : String(n);
    if (tab && n > 0 && badge?.textContent !== text) {
      badge?.remove();
      tab.appendChild(h('span', { class: 'nav-badge', 'aria-label': t('unreadCount', { n }) }, text));
    } else if (n === 0) badge?.remove();
    const title = n > 0 ? `(${text}) ${baseTitle}` : baseTitle;
    if (document.title !== title) document.title = title;
  };
  const header = document.querySelector('header.top');
  const observer = new MutationObserver(() => decorate());
  if (header) observer.observe(header, { childList: true, subtree: true });

  /** Read the server's unread counts again (the SDK keeps what it counted after the answer was made). */
  let reconciling: ReturnType<typeof setTimeout> | undefined;
  const reconcile = () => {
    clearTimeout(reconciling);
    reconciling = setTimeout(() => {
      if (alive) void chat.channels().catch((error: unknown) => log.warn('reading unread counts failed', { error }));
    }, 1000);
  };

  /** Subscribe to a channel, trying again a few times (a channel just opened by someone else may not be readable yet). */
  const subscribe = async (channelId: string, attempt: number): Promise<void> => {
    try {
      await chat.subscribe(channelId);
    } catch (error) {
      log.warn('following a channel for notifications failed', { channelId, attempt, error });
      if (!alive || attempt >= 3) {
        followed.delete(channelId);
        return;
      }
      await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
      if (alive) await subscribe(channelId, attempt + 1);
    }
  };

  // follow every channel of the person (bounded), so unread counts move live
  const follow = (channels: MyChannel[]) => {
    const fresh = channels.filter((c) => !followed.has(c.id));
    if (fresh.length === 0) return;
    const order = [...fresh].sort((a, b) => Number(b.kind === 'dm') - Number(a.kind === 'dm') || b.lastSeq - a.lastSeq);
    const room = Math.max(0, FOLLOWED_MAX - followed.size);
    const picked = order.slice(0, room);
    for (const c of picked) followed.add(c.id);
    // a message that came before the subscription is counted when its first page loads (the SDK)
    for (const c of picked) void subscribe(c.id, 0);
  };

  const nameOf = (sub: string) => client.presence.people.get(sub)?.name ?? sub;

  const notifyBrowser = (title: string, body: string, hash: string, tag: string) => {
    const api = notificationApi('granted');
    if (!api || document.visibilityState !== 'hidden') return;
    try {
      const n = new api(title, { body, tag });
      n.onclick = () => {
        window.focus();
        ctx.navigate(hash);
        n.close();
      };
    } catch (error) {
      // some browsers allow notifications only from a service worker: the badge and title remain
      log.warn('showing a browser notification failed', { error });
    }
  };

  const onMessage = (m: ChatMessage) => {
    decorate();
    if (m.sender === client.me.sub || Date.now() - m.createdAt > FRESH_MS) return;
    const channel = chat.myChannels.find((c) => c.id === m.channelId);
    if (channel?.kind !== 'dm') return;
    const hash = `#/chat/${encodeURIComponent(m.channelId)}`;
    const sender = nameOf(m.sender);
    const route = currentRoute();
    const looking = route.name === 'chat' && route.channel === m.channelId && document.visibilityState === 'visible';
    if (looking) return;
    notifyBrowser(t('dmFrom', { name: sender }), m.text.slice(0, 200), hash, m.channelId);
    if (document.visibilityState === 'visible')
      actionToast(`${t('dmFrom', { name: sender })}: ${m.text.slice(0, 120)}`, [
        { label: t('open'), run: () => ctx.navigate(hash) },
      ]);
  };

  const onMention = (e: { channelId: string; seq: number; sender: string; excerpt: string }) => {
    const hash = `#/chat/${encodeURIComponent(e.channelId)}`;
    const route = currentRoute();
    if (route.name === 'chat' && route.channel === e.channelId && document.visibilityState === 'visible') return;
    const sender = nameOf(e.sender);
    notifyBrowser(t('mentionedBy', { name: sender }), e.excerpt, hash, `mention-${e.channelId}-${e.seq}`);
    if (document.visibilityState === 'visible')
      actionToast(`${t('mentionedBy', { name: sender })}: ${e.excerpt.slice(0, 120)}`, [
        { label: t('open'), run: () => ctx.navigate(hash) },
      ]);
  };

  const onChannels = (channels: MyChannel[]) => {
    follow(channels);
    decorate();
  };
  // channels beyond FOLLOWED_MAX get no live messages: their counts come from the server now and then
  // (a new channel is announced live, and a reconnect lists the channels again in the SDK)
  const periodic = setInterval(() => {
    if (chat.myChannels.some((c) => !followed.has(c.id))) reconcile();
  }, RECONCILE_MS);
  chat.on('message', onMessage);
  chat.on('mention', onMention);
  chat.on('channels', onChannels);
  window.addEventListener('hashchange', decorate);
  void chat.channels().catch((error: unknown) => log.warn('reading my channels failed', { error }));

  return () => {
    alive = false;
    clearTimeout(reconciling);
    clearInterval(periodic);
    observer.disconnect();
    chat.off('message', onMessage);
    chat.off('mention', onMention);
    chat.off('channels', onChannels);
    window.removeEventListener('hashchange', decorate);
    document.title = baseTitle;
  };
}

/** Ask for browser notifications (a button: browsers ask only after a click). Null when there is nothing to ask. */
export function notificationButton(): HTMLElement | null {
  const api = notificationApi('default');
  if (!api) return null;
  const button = h(
    'button',
    {
      type: 'button',
      class: 'ghost small notify-permission',
      onclick: () => {
        void api.requestPermission().then(
          () => button.remove(),
          (error: unknown) => log.warn('asking for notifications failed', { error }),
        );
      },
    },
    t('enableNotifications'),
  );
  return button;
}
