import { type DocHandle, type DocInfo, type DocVersionInfo, getLogger } from '@moim/client-sdk';
import type { View } from '../context.ts';
import { docNameFor, docTitle, notesRoom, TITLE_MAX } from '../docTitles.ts';
import { h, mount } from '../dom.ts';
import { errorText, t } from '../i18n.ts';
import { formatAgo, formatDateTime } from '../time.ts';
import { followWatermark } from '../watermark.ts';

const log = getLogger('moim.web.docs');

/** Meeting names by room id, looked up once per page for the titles of meeting notes. */
type MeetingNames = Map<string, string>;

async function meetingNames(ctx: Parameters<View>[1], names: readonly string[]): Promise<MeetingNames> {
  const found: MeetingNames = new Map();
  const rooms = [...new Set(names.map(notesRoom).filter((r): r is string => r !== undefined))].slice(0, 50);
  await Promise.all(
    rooms.map((roomId) =>
      ctx.client.rooms.info(roomId).then(
        (info) => found.set(roomId, info.name ? t('notesOf', { name: info.name }) : t('notesUnnamed')),
        (error: unknown) => {
          // a closed or forgotten meeting: its notes keep their name
          log.debug('meeting of a notes document not found', { roomId, error });
          found.set(roomId, t('notesUnnamed'));
        },
      ),
    ),
  );
  return found;
}

/** Documents: the list (`#/docs`) and one document in a collaborative editor (`#/docs/<name>`). */
export const docsView: View = (root, ctx, params) => {
  const name = params[0];
  return name ? docPage(root, ctx, name) : listPage(root, ctx, params);
};

const listPage: View = (root, ctx) => {
  const list = h('div', { class: 'doc-list' }, t('syncing'));
  const input = h('input', {
    id: 'new-doc-name',
    placeholder: t('docTitle'),
    maxlength: String(TITLE_MAX),
    required: true,
  });
  mount(
    root,
    h(
      'div',
      { class: 'page docs-page' },
      h('h1', null, t('docsTitle')),
      h(
        'form',
        {
          class: 'card row wrap',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            // titles are free text (any language); the name is derived from the title
            const n = docNameFor(input.value);
            if (!n) return;
            try {
              await ctx.client.docs.create(n);
            } catch (err) {
              if ((err as { code?: string }).code !== 'CONFLICT') {
                ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
                return;
              }
            }
            ctx.navigate(`#/docs/${encodeURIComponent(n)}`);
          },
        },
        h('label', { for: 'new-doc-name' }, t('newDoc')),
        input,
        h('button', { type: 'submit', class: 'primary' }, t('create')),
      ),
      list,
    ),
  );
  let alive = true;
  ctx.client.docs.list().then(
    async ({ docs }) => {
      const meetings = await meetingNames(
        ctx,
        docs.map((d) => d.name),
      );
      if (!alive) return;
      mount(
        list,
        docs.length === 0
          ? h('p', { class: 'muted' }, t('noDocs'))
          : h(
              'ul',
              { class: 'cards' },
              docs.map((d) => docRow(d, meetings)),
            ),
      );
    },
    (err: Error) => alive && mount(list, h('p', { class: 'error' }, errorText(err))),
  );
  return () => {
    alive = false;
  };
};

function docRow(d: DocInfo, meetings: MeetingNames): HTMLElement {
  return h(
    'li',
    { class: 'card doc-row' },
    h(
      'a',
      { href: `#/docs/${encodeURIComponent(d.name)}`, class: 'doc-name', dataset: { doc: d.name } },
      docTitle(d.name, (r) => meetings.get(r)),
    ),
    h('span', { class: 'muted' }, t('updated', { when: formatAgo(d.updatedAt) })),
    d.access === 'read' ? h('span', { class: 'tag' }, t('readOnly')) : null,
  );
}

function docPage(root: HTMLElement, ctx: Parameters<View>[1], name: string): () => void {
  const editorBox = h('div', { class: 'editor-box' });
  const versions = h('aside', { class: 'versions card' });
  const editingNow = h('div', { class: 'editing-now muted' });
  const heading = h('h1', { class: 'doc-title', dataset: { doc: name } }, docTitle(name));
  void meetingNames(ctx, [name]).then(
    (m) => {
      heading.textContent = docTitle(name, (r) => m.get(r));
    },
    log.warn.bind(log, 'meeting name not read'),
  );
  mount(
    root,
    h(
      'div',
      { class: 'page doc-page' },
      h('div', { class: 'doc-head' }, h('a', { href: '#/docs', class: 'back' }, '←'), heading, editingNow),
      h('div', { class: 'doc-layout' }, editorBox, versions),
    ),
  );
  let handle: DocHandle | undefined;
  let destroyEditor = () => {};
  let alive = true;
  // the document's data-leak policy may ask for the viewer's watermark over the editor
  const stopWatermark = followWatermark(ctx, 'doc', name, editorBox);
  const renderEditing = () => {
    if (!handle) return;
    const names = [...handle.awareness.getStates().entries()]
      .filter(([id]) => id !== handle!.doc.clientID)
      .map(([, s]) => (s.user as { name?: string } | undefined)?.name)
      .filter((n): n is string => typeof n === 'string');
    editingNow.textContent = names.length ? `${t('editingNow')}: ${names.join(', ')}` : '';
  };
  void (async () => {
    const info = await ctx.client.docs.info(name).catch((error: unknown) => {
      // opened as writable: the server still refuses the edits this person may not make
      log.warn('document info not read; opening it writable', { doc: name, error });
      return undefined;
    });
    const h2 = await ctx.client.docs.open(name);
    if (!alive) {
      h2.close();
      return;
    }
    handle = h2;
    handle.awareness.on('change', renderEditing);
    const ed = (await import('../editor.ts')).createEditor(
      editorBox,
      handle,
      { sub: ctx.identity.sub, name: ctx.identity.name },
      { readOnly: info?.access === 'read' },
    );
    destroyEditor = ed.destroy;
    void renderVersions();
  })().catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error'));

  async function renderVersions(): Promise<void> {
    const label = h('input', { id: 'version-label', placeholder: t('versionLabel'), maxlength: '200', required: true });
    let list: DocVersionInfo[] = [];
    try {
      list = (await ctx.client.docs.versions(name)).versions;
    } catch {
      // a document that is new has no versions yet
    }
    if (!alive) return;
    mount(
      versions,
      h('h2', null, t('versions')),
      h(
        'form',
        {
          class: 'row',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            if (!label.value.trim()) return;
            await ctx.client.docs
              .saveVersion(name, label.value.trim())
              .catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error'));
            void renderVersions();
          },
        },
        label,
        h('button', { type: 'submit' }, t('saveVersion')),
      ),
      h(
        'ul',
        { class: 'version-list' },
        list.map((v) =>
          h(
            'li',
            null,
            h('span', { class: 'version-label' }, v.label),
            h('span', { class: 'muted' }, formatDateTime(v.createdAt)),
            h(
              'button',
              {
                type: 'button',
                class: 'ghost small',
                onclick: async () => {
                  await ctx.client.docs
                    .restoreVersion(name, v.id)
                    .catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error'));
                  void renderVersions();
                },
              },
              t('restore'),
            ),
          ),
        ),
      ),
    );
  }

  return () => {
    alive = false;
    stopWatermark();
    handle?.awareness.off('change', renderEditing);
    destroyEditor();
    handle?.close();
  };
}
