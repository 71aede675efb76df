/**
 * The chat view (`#/chat[/<channelId>[/thread/<seq>]]`): the channel and direct-message lists,
 * a conversation with its composer, a thread panel, typing; drafts survive re-renders. How one
 * message is shown is in chat/messages.ts.
 */
import { type ChatMessage, getLogger, type MyChannel } from '@moim/client-sdk';
import { callButton } from '../calls/callUi.ts';
import { browseChannels } from '../chat/browse.ts';
import { composer as composeForm } from '../chat/composer.ts';
import { membersPanel } from '../chat/members.ts';
import { messageRenderer } from '../chat/messages.ts';
import { channelTitle, channelTopic, dmTitle } from '../chat/names.ts';
import type { View } from '../context.ts';
import { coalesce, h, mount } from '../dom.ts';
import { errorText, t } from '../i18n.ts';
import { notificationButton } from '../notify.ts';

const log = getLogger('moim.web.chat');

/** `#/chat[/<channelId>[/thread/<seq>]]`: channels and direct messages, a conversation, a thread. */
export const chatView: View = (root, ctx, params) => {
  const { client } = ctx;
  const chat = client.chat;
  const channelId = params[0];
  // a thread's root by its seq (an address with no valid seq opens no thread)
  const threadSeq = params[1] === 'thread' && /^[1-9]\d{0,15}$/.test(params[2] ?? '') ? Number(params[2]) : undefined;
  const list = h('nav', { class: 'channel-list card', 'aria-label': t('channels') });
  // once the person chooses or types in the list's forms, `#/chat` no longer moves on to the site
  // channel (that would build the view again and lose what they chose, e.g. whom to write to)
  let touched = false;
  for (const type of ['focusin', 'input', 'change']) list.addEventListener(type, () => (touched = true));
  const main = h('section', { class: 'conversation card' });
  const thread = h('aside', { class: 'thread-panel card', hidden: threadSeq === undefined });
  const layout = h('div', { class: `chat${threadSeq !== undefined ? ' with-thread' : ''}` }, list, main, thread);
  mount(root, h('div', { class: 'page chat-page' }, layout));
  // `#/chat/browse`: the public channels to find and join, instead of a conversation
  const browsing = channelId === 'browse';
  chat.activeChannel = browsing ? null : (channelId ?? null);
  const stopBrowsing = browsing ? browseChannels(main, ctx) : () => {};

  // names of the people in conversations, learnt from presence
  const asked = new Set<string>();
  const nameOf = (sub: string): string => {
    const p = client.presence.people.get(sub);
    if (p?.name) return p.name;
    if (!asked.has(sub)) {
      asked.add(sub);
      void client.presence.get([sub]).then(renderAll, (error: unknown) => {
        // shown by id until a presence update brings the name
        log.warn('looking up a name failed', { sub, error });
      });
    }
    return sub;
  };
  const channelLabel = (c: MyChannel): string =>
    c.kind === 'dm' ? dmTitle(c.name, client.me.sub, nameOf) : channelTitle(c);

  // ------------------------------------------------------------------------------- channel list
  // the forms are built once (typing in them survives updates); the lists are re-rendered
  const channelsBox = h('ul', { class: 'channels' });
  const dmsBox = h('ul', { class: 'dms' });
  const dmSelect = h('select', { id: 'dm-person', 'aria-label': t('newDm') });
  const dmForm = h(
    'form',
    {
      class: 'row wrap',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!dmSelect.value) return;
        const ch = await chat.openDm([dmSelect.value]).catch(report);
        if (ch) ctx.navigate(`#/chat/${encodeURIComponent(ch.id)}`);
      },
    },
    dmSelect,
    h('button', { type: 'submit', class: 'small' }, t('newDm')),
  );
  const newName = h('input', { id: 'new-channel', placeholder: t('newChannel'), maxlength: '80' });
  const isPrivate = h('input', { type: 'checkbox', id: 'new-channel-private' });
  const noDownload = h('input', { type: 'checkbox', id: 'new-channel-nodownload' });
  mount(
    list,
    h('h2', null, t('channels')),
    channelsBox,
    h(
      'a',
      {
        class: 'button ghost small browse-link',
        href: '#/chat/browse',
        ...(browsing ? { 'aria-current': 'page' } : {}),
      },
      t('browseChannels'),
    ),
    notificationButton(),
    h('h2', null, t('directMessages')),
    dmsBox,
    dmForm,
    h(
      'form',
      {
        class: 'new-channel',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const name = newName.value.trim();
          if (!name) return;
          const ch = await chat
            .createChannel({
              name,
              kind: isPrivate.checked ? 'private' : 'public',
              ...(noDownload.checked ? { policy: { downloadsAllowed: false } } : {}),
            })
            .catch(report);
          if (ch) ctx.navigate(`#/chat/${encodeURIComponent(ch.id)}`);
        },
      },
      newName,
      h('label', { class: 'check' }, isPrivate, h('span', null, t('privateChannel'))),
      h('label', { class: 'check' }, noDownload, h('span', null, t('noDownloads'))),
      h('button', { type: 'submit', class: 'small' }, t('create')),
    ),
  );
  const renderList = () => {
    const channels = chat.myChannels.sort((a, b) => a.name.localeCompare(b.name));
    const item = (c: MyChannel) =>
      h(
        'li',
        null,
        h(
          'a',
          {
            href: `#/chat/${encodeURIComponent(c.id)}`,
            dataset: { channel: c.id },
            ...(c.id === channelId ? { 'aria-current': 'page' } : {}),
          },
          h('span', { class: 'channel-name' }, channelLabel(c)),
          c.unread > 0 && c.id !== channelId ? h('span', { class: 'unread' }, String(c.unread)) : null,
        ),
      );
    mount(channelsBox, channels.filter((c) => c.kind !== 'dm').map(item));
    mount(dmsBox, channels.filter((c) => c.kind === 'dm').map(item));
    const people = [...client.presence.people.values()].filter((p) => p.sub !== client.me.sub);
    // nobody is chosen until the person chooses: a new message never goes to whoever is listed first
    const chosen = dmSelect.value;
    mount(
      dmSelect,
      h('option', { value: '', selected: !chosen }, t('newDmPick')),
      people.map((p) => h('option', { value: p.sub, selected: p.sub === chosen }, p.name ?? p.sub)),
    );
    dmForm.hidden = people.length === 0;
  };

  // ------------------------------------------------------------------------------- messages
  const { messageEl, pendingEl } = messageRenderer({ ctx, nameOf, report, renderAll: () => renderAll() });

  // the members panel of the conversation, kept across re-renders (open stays open)
  const panels = new Map<string, HTMLElement | null>();
  const membersOf = (c: MyChannel): HTMLElement | null => {
    if (!panels.has(c.id)) panels.set(c.id, membersPanel(ctx, c, nameOf));
    return panels.get(c.id) ?? null;
  };

  // one composer per conversation and thread, kept across re-renders (the text and the chosen file stay)
  const composers = new Map<string, HTMLElement>();
  const composer = (id: string, threadRoot?: number): HTMLElement => {
    const key = `${id}/${threadRoot ?? ''}`;
    let form = composers.get(key);
    if (!form) {
      form = composeForm({ client, channelId: id, threadRoot, report });
      composers.set(key, form);
    }
    return form;
  };

  let scroller: HTMLElement | undefined;
  let threadScroller: HTMLElement | undefined;
  const typingLine = h('div', { class: 'typing muted', 'aria-live': 'polite' });

  const renderConversation = () => {
    if (browsing) return;
    if (!channelId) {
      mount(main, h('p', { class: 'muted' }, t('selectChannel')));
      return;
    }
    const c = chat.myChannels.find((x) => x.id === channelId);
    const atBottom = !scroller || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    const timeline = chat.messages(channelId).filter((m) => m.threadRoot === null);
    const pending = chat.pending(channelId).filter((p) => p.threadRoot === null);
    scroller = h(
      'div',
      { class: 'messages', id: 'messages' },
      chat.hasOlder(channelId) && timeline.length > 0
        ? h(
            'button',
            {
              type: 'button',
              class: 'ghost small',
              onclick: () => void chat.loadOlder(channelId).then(renderAll, report),
            },
            t('loadOlder'),
          )
        : null,
      timeline.length === 0 && pending.length === 0 ? h('p', { class: 'muted' }, t('noMessages')) : null,
      timeline.map((m) => messageEl(m, false)),
      pending.map(pendingEl),
    );
    mount(
      main,
      h(
        'header',
        { class: 'conversation-head' },
        h('h1', null, c ? channelLabel(c) : channelId),
        c && channelTopic(c) ? h('p', { class: 'muted channel-topic' }, channelTopic(c)) : null,
        c?.kind === 'dm' ? dmCallButton(c.id, channelLabel(c)) : null,
        c ? membersOf(c) : null,
      ),
      scroller,
      typingLine,
      composer(channelId),
    );
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  };

  const renderThread = () => {
    if (!channelId || threadSeq === undefined) return;
    const all = chat.messages(channelId);
    const rootMsg = all.find((m) => m.seq === threadSeq);
    const replies = all.filter((m) => m.threadRoot === threadSeq);
    threadScroller = h(
      'div',
      { class: 'messages thread-messages' },
      rootMsg ? messageEl(rootMsg, true) : null,
      h('hr'),
      replies.map((m) => messageEl(m, true)),
      chat
        .pending(channelId)
        .filter((p) => p.threadRoot === threadSeq)
        .map(pendingEl),
    );
    mount(
      thread,
      h(
        'header',
        { class: 'row' },
        h('h2', null, t('thread')),
        h('a', { href: `#/chat/${encodeURIComponent(channelId)}`, class: 'button ghost small' }, t('closeThread')),
      ),
      threadScroller,
      composer(channelId, threadSeq),
    );
    threadScroller.scrollTop = threadScroller.scrollHeight;
  };

  const renderTyping = () => {
    if (!channelId) return;
    const names = chat.typingIn(channelId).map(nameOf);
    typingLine.textContent = names.length ? t('typing', { names: names.join(', ') }) : '';
  };

  // keep what is being typed: re-render message lists, not the composers, on events
  const renderMessages = coalesce(() => {
    const keep = document.activeElement;
    const typingMain = keep instanceof HTMLTextAreaElement && main.contains(keep) ? keep.value : null;
    const typingThread = keep instanceof HTMLTextAreaElement && thread.contains(keep) ? keep.value : null;
    renderConversation();
    renderThread();
    renderTyping();
    if (typingMain !== null) restoreDraft(main, '.compose-main', typingMain);
    if (typingThread !== null) restoreDraft(thread, '.compose-thread', typingThread);
  });
  const renderAll = () => {
    renderList();
    renderMessages();
  };

  const onMessage = (m: ChatMessage) => {
    if (m.channelId !== channelId) return;
    renderMessages();
    if (document.visibilityState === 'visible')
      void chat
        .read(channelId)
        // the channel stays counted unread until the next read succeeds
        .catch((error: unknown) => log.warn('marking the channel read failed', { channelId, error }));
  };
  const onUpdated = (m: ChatMessage) => m.channelId === channelId && renderMessages();
  const onPending = (e: { channelId: string }) => e.channelId === channelId && renderMessages();
  const onTyping = (e: { channelId: string }) => e.channelId === channelId && renderTyping();
  const onChannels = coalesce(renderList);
  chat.on('message', onMessage);
  chat.on('updated', onUpdated);
  chat.on('pending', onPending);
  chat.on('typing', onTyping);
  chat.on('channels', onChannels);
  client.presence.on('update', onChannels);

  renderAll();
  let alive = true;
  void (async () => {
    try {
      const channels = await chat.channels();
      // the person went elsewhere meanwhile (clicked a channel): do not take them back
      if (browsing || !alive) return;
      if (!channelId) {
        if (touched) return;
        const home = channels.find((c) => c.kind === 'site') ?? channels[0];
        if (home) ctx.navigate(`#/chat/${encodeURIComponent(home.id)}`);
        return;
      }
      if (!chat.myChannels.some((c) => c.id === channelId)) {
        const info = await chat.getChannel(channelId);
        if (!info.member && info.channel.kind !== 'private' && info.channel.kind !== 'dm') await chat.join(channelId);
      }
      await chat.subscribe(channelId);
      if (threadSeq !== undefined) await chat.thread(channelId, threadSeq);
      await chat
        .read(channelId)
        .catch((error: unknown) => log.warn('marking the channel read failed', { channelId, error }));
    } catch (err) {
      report(err);
    }
    renderAll();
    // to the composer, unless the person is already typing somewhere (a new channel's name, a search)
    const typing = document.activeElement;
    if (
      !(
        typing instanceof HTMLInputElement ||
        typing instanceof HTMLTextAreaElement ||
        typing instanceof HTMLSelectElement
      )
    )
      (main.querySelector('.compose-main') as HTMLTextAreaElement | null)?.focus();
  })();

  /** The DM's call button: calls the other members of the DM. */
  function dmCallButton(id: string, label: string): HTMLElement {
    return callButton(
      ctx,
      async () => (await chat.members(id)).members.map((m) => m.sub).filter((s) => s !== client.me.sub),
      label,
    );
  }

  function report(err: unknown): undefined {
    ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
    return undefined;
  }

  return () => {
    alive = false;
    stopBrowsing();
    chat.off('message', onMessage);
    chat.off('updated', onUpdated);
    chat.off('pending', onPending);
    chat.off('typing', onTyping);
    chat.off('channels', onChannels);
    client.presence.off('update', onChannels);
    if (chat.activeChannel === channelId) chat.activeChannel = null;
  };
};

function restoreDraft(container: HTMLElement, selector: string, value: string): void {
  const el = container.querySelector<HTMLTextAreaElement>(selector);
  if (!el) return;
  el.value = value;
  el.focus();
  el.setSelectionRange(value.length, value.length);
}
