/**
 * How the chat view shows one message: author, time, text (edited in place), chat attachments
 * (download links where the channel allows them), reactions and actions; and a message still on
 * its way (pending, with its error). The chat view (views/chat.ts) owns the page around them.
 */
import type { ChatMessage, PendingMessage } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h } from '../dom.ts';
import { errorText, t } from '../i18n.ts';
import { tn } from '../plural.ts';
import { formatDateTime, formatTime } from '../time.ts';
import { initial } from '../views/presence.ts';

const QUICK_REACTIONS = ['👍', '❤️', '😄', '🎉'];

/** A link into this app (`#/approvals/<id>`, `#/telework/reports/<id>`: what moim's notices carry). */
const HASH_LINK = '#\\/[A-Za-z0-9][A-Za-z0-9/_.%~-]{0,200}';

/** The pattern of links into this app: `#/…`, or this app's own address followed by `#/…`. */
function appLinkPattern(): RegExp {
  const origin = typeof location === 'undefined' ? '' : location.origin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(${origin ? `(?:${origin}/?)?` : ''}${HASH_LINK})`);
}

/**
 * A message's text with the links into this app made clickable (`#/chat/…`, a meeting's link
 * `https://<this app>/#/meeting/…`): they open in the app. Only this page's own links are: nothing
 * a sender types can become another address, and the rest stays text.
 */
export function withAppLinks(text: string): Array<string | HTMLElement> {
  return text
    .split(appLinkPattern())
    .map((part, i) => (i % 2 === 1 ? h('a', { href: part.slice(part.indexOf('#')), class: 'app-link' }, part) : part))
    .filter((part) => part !== '');
}

export interface MessageEnv {
  ctx: AppContext;
  /** A person's name (learnt from presence; the id until then). */
  nameOf: (sub: string) => string;
  /** Show a failure as a toast. */
  report: (err: unknown) => undefined;
  renderAll: () => void;
}

export function messageRenderer({ ctx, nameOf, report, renderAll }: MessageEnv): {
  messageEl: (m: ChatMessage, inThread: boolean) => HTMLElement;
  pendingEl: (p: PendingMessage) => HTMLElement;
} {
  const { client } = ctx;
  const chat = client.chat;
  const messageEl = (m: ChatMessage, inThread: boolean): HTMLElement => {
    const mine = m.sender === client.me.sub;
    const deleted = m.deletedAt !== null;
    const channel = chat.myChannels.find((c) => c.id === m.channelId);
    const downloads = channel?.policy.downloadsAllowed !== false;
    const body = h('div', { class: 'body' }, deleted ? t('deleted') : withAppLinks(m.text));
    const actions = deleted
      ? null
      : h(
          'div',
          { class: 'message-actions' },
          QUICK_REACTIONS.map((emoji) =>
            h(
              'button',
              {
                type: 'button',
                class: 'ghost small',
                title: t('react'),
                onclick: () => void chat.react(m.channelId, m.seq, emoji).catch(report),
              },
              emoji,
            ),
          ),
          inThread || m.threadRoot !== null
            ? null
            : h(
                'a',
                { class: 'button ghost small', href: `#/chat/${encodeURIComponent(m.channelId)}/thread/${m.seq}` },
                m.replyCount > 0 ? tn('replies', m.replyCount) : t('reply'),
              ),
          mine
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'ghost small',
                  onclick: () => {
                    const editor = h('textarea', { value: m.text, rows: '2' });
                    body.replaceChildren(
                      editor,
                      h(
                        'div',
                        { class: 'row' },
                        h(
                          'button',
                          {
                            type: 'button',
                            class: 'small primary',
                            onclick: () => void chat.edit(m.channelId, m.seq, editor.value).then(renderAll, report),
                          },
                          t('save'),
                        ),
                        h('button', { type: 'button', class: 'small', onclick: () => renderAll() }, t('cancel')),
                      ),
                    );
                    editor.focus();
                  },
                },
                t('edit'),
              )
            : null,
          mine
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'ghost small',
                  onclick: () => void chat.delete(m.channelId, m.seq).catch(report),
                },
                t('delete'),
              )
            : null,
        );
    return h(
      'article',
      { class: `message${deleted ? ' deleted' : ''}${mine ? ' mine' : ''}`, dataset: { seq: String(m.seq) } },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initial(nameOf(m.sender))),
      h(
        'div',
        { class: 'message-main' },
        h(
          'div',
          { class: 'meta' },
          h('span', { class: 'author' }, nameOf(m.sender)),
          h(
            'time',
            { class: 'muted', datetime: new Date(m.createdAt).toISOString(), title: formatDateTime(m.createdAt) },
            formatTime(m.createdAt),
          ),
          m.editedAt !== null && !deleted ? h('span', { class: 'muted' }, t('edited')) : null,
        ),
        body,
        m.attachments.length && !deleted
          ? h(
              'div',
              { class: 'attachments' },
              m.attachments.map((a) =>
                h(
                  'span',
                  { class: 'attachment' },
                  h('span', null, `📎 ${a.name}`),
                  h('span', { class: 'muted' }, `${Math.max(1, Math.round(a.size / 1024))} KB`),
                  downloads
                    ? h(
                        'button',
                        {
                          type: 'button',
                          class: 'small',
                          onclick: async () => {
                            const link = await chat.attachmentLink(m.channelId, a.id).catch(report);
                            if (link) {
                              const anchor = h('a', { href: link.url, download: a.name, rel: 'noopener' });
                              anchor.click();
                            }
                          },
                        },
                        t('download'),
                      )
                    : h('span', { class: 'muted' }, t('downloadForbidden')),
                ),
              ),
            )
          : null,
        m.reactions.length
          ? h(
              'div',
              { class: 'reactions' },
              m.reactions.map((r) => {
                const reacted = r.people.includes(client.me.sub);
                return h(
                  'button',
                  {
                    type: 'button',
                    class: `reaction${reacted ? ' mine' : ''}`,
                    title: r.people.map(nameOf).join(', '),
                    onclick: () => void chat.react(m.channelId, m.seq, r.emoji, !reacted).catch(report),
                  },
                  `${r.emoji} ${r.count}`,
                );
              }),
            )
          : null,
        actions,
      ),
    );
  };

  const pendingEl = (p: PendingMessage): HTMLElement =>
    h(
      'article',
      { class: 'message pending', dataset: { pending: p.clientMsgId } },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initial(ctx.identity.name)),
      h(
        'div',
        { class: 'message-main' },
        h(
          'div',
          { class: 'meta' },
          h('span', { class: 'author' }, ctx.identity.name),
          h('span', { class: 'muted' }, '…'),
        ),
        h('div', { class: 'body muted' }, p.text),
        p.error
          ? h(
              'div',
              { class: 'error' },
              `${t('errorPrefix')}: ${errorText(p.error)} `,
              h('button', { type: 'button', class: 'small', onclick: () => chat.discard(p.clientMsgId) }, t('delete')),
            )
          : null,
      ),
    );

  return { messageEl, pendingEl };
}
