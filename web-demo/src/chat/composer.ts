/**
 * The chat composer: text, an attachment shown by name before it is sent (and removable), Enter to
 * send. When the server refuses the attachment (type, size, quota) the typed text and the chosen
 * file stay, so nothing is lost; the refusal is shown in the viewer's language by the caller.
 */
import type { MoimClient } from '@moim/client-sdk';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';

/** Types some systems do not know (the browser then gives the file no type at all). */
const TYPES_BY_EXTENSION = new Map([
  ['hwp', 'application/x-hwp'],
  ['hwpx', 'application/hwp+zip'],
  ['csv', 'text/csv'],
  ['txt', 'text/plain'],
]);

/** The file with a type: its own, or the one its extension names (`.hwp` → application/x-hwp). */
export function typedFile(file: File): File {
  if (file.type) return file;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  const type = TYPES_BY_EXTENSION.get(ext);
  return type ? new File([file], file.name, { type, lastModified: file.lastModified }) : file;
}

/** A paper-clip icon (an SVG, so it shows without an emoji font). */
export function clipIcon(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute(
    'd',
    'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z',
  );
  svg.appendChild(path);
  return svg;
}

export function composer(opts: {
  client: MoimClient;
  channelId: string;
  threadRoot?: number | undefined;
  report: (err: unknown) => undefined;
}): HTMLFormElement {
  const { client, channelId: id, threadRoot, report } = opts;
  const chat = client.chat;
  const text = h('textarea', {
    rows: '2',
    placeholder: t('messagePlaceholder'),
    'aria-label': t('messagePlaceholder'),
    class: threadRoot === undefined ? 'compose-main' : 'compose-thread',
  });
  const file = h('input', { type: 'file', class: 'file', 'aria-label': t('attach') });
  const chip = h('div', { class: 'attached-file', hidden: true });
  const showChosen = () => {
    const chosen = file.files?.[0];
    chip.hidden = !chosen;
    chip.replaceChildren();
    if (!chosen) return;
    chip.append(
      clipIcon(),
      h('span', { class: 'attached-name' }, t('attached', { name: chosen.name })),
      h(
        'button',
        {
          type: 'button',
          class: 'ghost small',
          'aria-label': t('removeAttachment'),
          title: t('removeAttachment'),
          onclick: () => {
            file.value = '';
            showChosen();
          },
        },
        '×',
      ),
    );
  };
  file.addEventListener('change', showChosen);
  const send = async () => {
    const value = text.value.trim();
    const chosen = file.files?.[0];
    if (!value && !chosen) return;
    const typed = text.value;
    text.value = '';
    chat.typing(id, false);
    let attachments: string[] = [];
    try {
      if (chosen) attachments = [(await chat.upload(id, typedFile(chosen), chosen.name)).id];
    } catch (err) {
      // the attachment was refused: keep what was typed and the chosen file, and say why
      if (text.value === '') text.value = typed;
      report(err);
      return;
    }
    file.value = '';
    showChosen();
    const mentions = [...client.presence.people.values()]
      .filter((p) => p.name && value.includes(`@${p.name}`))
      .map((p) => p.sub);
    try {
      await chat.send(id, value, {
        ...(threadRoot !== undefined ? { threadRoot } : {}),
        ...(attachments.length ? { attachments } : {}),
        ...(mentions.length ? { mentions } : {}),
      });
    } catch (err) {
      // the pending message shows the failure with its text (and a way to discard it)
      report(err);
    }
  };
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  });
  text.addEventListener('input', () => chat.typing(id, text.value.length > 0));
  text.addEventListener('blur', () => chat.typing(id, false));
  return h(
    'form',
    {
      class: 'composer',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void send();
      },
    },
    chip,
    text,
    h('label', { class: 'button small attach', title: t('attach') }, clipIcon(), file),
    h('button', { type: 'submit', class: 'primary' }, t('send')),
  );
}
