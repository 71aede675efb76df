import { type DocHandle, type DocInfo, type DocTitleEvent, type DocVersionInfo, getLogger } from '@moim/client-sdk';
import type { View } from '../context.ts';
import { docTitle, notesRoom, TITLE_MAX, titleFromInput } from '../docTitles.ts';
import { type Attrs, h, mount } from '../dom.ts';
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

/** A field for a document's title (new or renamed). */
function titleInput(attrs: Attrs): HTMLInputElement {
  // a title is counted in characters (the server's rule); maxlength counts UTF-16 units
  return h('input', { ...attrs, maxlength: String(TITLE_MAX * 2), required: true });
}

/**
 * The submit handler of a form with a title field: a title the server would refuse is shown as
 * INVALID_TITLE without asking it, else `save` runs with it; a failure of `save` is shown as a toast.
 */
function submitTitle(
  ctx: Parameters<View>[1],
  input: HTMLInputElement,
  save: (title: string) => Promise<void>,
): (e: Event) => Promise<void> {
  return async (e) => {
    e.preventDefault();
    const title = titleFromInput(input.value);
    if (title === undefined) {
      ctx.toast(`${t('errorPrefix')}: ${errorText({ code: 'INVALID_TITLE' })}`, 'error');
      return;
    }
    try {
      await save(title);
    } catch (err) {
      ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
    }
  };
}

/** Documents: the list (`#/docs`) and one document in a collaborative editor (`#/docs/<name>`). */
export const docsView: View = (root, ctx, params) => {
  const name = params[0];
  return name ? docPage(root, ctx, name) : listPage(root, ctx, params);
};

const listPage: View = (root, ctx) => {
  const list = h('div', { class: 'doc-list' }, t('syncing'));
  const input = titleInput({ id: 'new-doc-name', placeholder: t('docTitle') });
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
          // titles are free text (any language), stored by the server, which picks the name
          onsubmit: submitTitle(ctx, input, async (title) => {
            const doc = await ctx.client.docs.createTitled(title);
            ctx.navigate(`#/docs/${encodeURIComponent(doc.name)}`);
          }),
        },
        h('label', { for: 'new-doc-name' }, t('newDoc')),
        input,
        h('button', { type: 'submit', class: 'primary' }, t('create')),
      ),
      list,
    ),
  );
  let alive = true;
  // a rename of a document this person has open (another tab, another device) shows here at once
  const onTitle = (e: DocTitleEvent) => {
    for (const a of list.querySelectorAll<HTMLElement>('.doc-row .doc-name'))
      if (a.dataset.doc === e.name) a.textContent = docTitle({ name: e.name, title: e.title });
  };
  ctx.client.docs.on('title', onTitle);
  // most recently changed first, as the server orders it by default
  ctx.client.docs.list({ sort: 'updated' }).then(
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
    ctx.client.docs.off('title', onTitle);
  };
};

function docRow(d: DocInfo, meetings: MeetingNames): HTMLElement {
  return h(
    'li',
    { class: 'card doc-row' },
    h(
      'a',
      { href: `#/docs/${encodeURIComponent(d.name)}`, class: 'doc-name', dataset: { doc: d.name } },
      docTitle(d, (r) => meetings.get(r)),
    ),
    h('span', { class: 'muted' }, t('updated', { when: formatAgo(d.updatedAt) })),
    d.access === 'read' ? h('span', { class: 'tag' }, t('readOnly')) : null,
  );
}

function docPage(root: HTMLElement, ctx: Parameters<View>[1], name: string): () => void {
  const editorBox = h('div', { class: 'editor-box' });
  const versions = h('aside', { class: 'versions card' });
  const editingNow = h('div', { class: 'editing-now muted' });
  const heading = h('h1', { class: 'doc-title', dataset: { doc: name } }, docTitle({ name }));
  const titleBox = h('div', { class: 'doc-title-box' }, heading);
  /** What the heading shows: the stored title (from the document's info), or the meeting's name for notes. */
  let shown: { name: string; title?: string | undefined } = { name };
  let meetings: MeetingNames = new Map();
  const renderTitle = () => {
    heading.textContent = docTitle(shown, (r) => meetings.get(r));
  };
  void meetingNames(ctx, [name]).then(
    (m) => {
      meetings = m;
      renderTitle();
    },
    log.warn.bind(log, 'meeting name not read'),
  );
  /** Rename from the header: an input in place of the heading (whoever may write; not meeting notes). */
  const renameButton = h(
    'button',
    {
      type: 'button',
      class: 'ghost small rename-doc',
      hidden: true,
      onclick: () => {
        const input = titleInput({ id: 'doc-title-input', value: docTitle(shown), 'aria-label': t('newDocTitle') });
        const close = () => {
          mount(titleBox, heading);
          renameButton.hidden = false;
        };
        const form = h(
          'form',
          {
            class: 'row rename-form',
            onsubmit: submitTitle(ctx, input, async (title) => {
              shown = await ctx.client.docs.rename(name, title);
              renderTitle();
              close();
            }),
          },
          input,
          h('button', { type: 'submit', class: 'primary small' }, t('save')),
          h('button', { type: 'button', class: 'ghost small', onclick: close }, t('cancel')),
        );
        renameButton.hidden = true;
        mount(titleBox, form);
        input.focus();
        input.select();
      },
    },
    t('renameDoc'),
  );
  mount(
    root,
    h(
      'div',
      { class: 'page doc-page' },
      h(
        'div',
        { class: 'doc-head' },
        h('a', { href: '#/docs', class: 'back' }, '←'),
        titleBox,
        renameButton,
        editingNow,
      ),
      h('div', { class: 'doc-layout' }, editorBox, versions),
    ),
  );
  let handle: DocHandle | undefined;
  let destroyEditor = () => {};
  let alive = true;
  // renamed by someone else (or in another tab): the header follows at once (`doc:title`)
  const onTitle = (e: DocTitleEvent) => {
    if (e.name !== name) return;
    shown = { ...shown, title: e.title };
    renderTitle();
  };
  ctx.client.docs.on('title', onTitle);
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
    if (info && alive) {
      shown = info;
      renderTitle();
      renameButton.hidden = info.access !== 'write' || notesRoom(name) !== undefined;
    }
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
    ctx.client.docs.off('title', onTitle);
    stopWatermark();
    handle?.awareness.off('change', renderEditing);
    destroyEditor();
    handle?.close();
  };
}
