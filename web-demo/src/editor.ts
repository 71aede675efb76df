import { EditorState } from '@codemirror/state';
import { highlightActiveLine, lineNumbers } from '@codemirror/view';
import type { DocHandle } from '@moim/client-sdk';
import { EditorView, minimalSetup } from 'codemirror';
import { yCollab } from 'y-codemirror.next';
import * as Y from 'yjs';
import { h } from './dom.ts';
import { t } from './i18n.ts';

/** The shared text of a document (one `Y.Text` named `body`). */
export const DOC_FIELD = 'body';

const PALETTE = ['#d9480f', '#1971c2', '#2b8a3e', '#862e9c', '#c2255c', '#e67700', '#0b7285', '#5f3dc4'];

export function colorFor(sub: string): string {
  let hash = 0;
  for (const ch of sub) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return PALETTE[Math.abs(hash) % PALETTE.length]!;
}

/**
 * A CodeMirror 6 editor bound to a shared document with y-codemirror.next: edits merge through
 * Yjs and the others' cursors and selections show with their names.
 */
export function createEditor(
  parent: HTMLElement,
  handle: DocHandle,
  me: { sub: string; name: string },
  opts: { readOnly?: boolean } = {},
): { view: EditorView; destroy: () => void } {
  const ytext = handle.doc.getText(DOC_FIELD);
  const color = colorFor(me.sub);
  handle.setUser({ name: me.name, color, colorLight: `${color}33` });
  const undoManager = new Y.UndoManager(ytext);
  const status = h('div', { class: 'editor-status muted' }, t('syncing'));
  const onSync = (synced: boolean) => {
    status.textContent = synced ? t('synced') : t('syncing');
  };
  handle.provider.on('sync', onSync);
  onSync(handle.provider.synced);
  const state = EditorState.create({
    doc: ytext.toString(),
    extensions: [
      minimalSetup,
      lineNumbers(),
      highlightActiveLine(),
      EditorView.lineWrapping,
      yCollab(ytext, handle.awareness, { undoManager }),
      EditorState.readOnly.of(opts.readOnly === true),
      EditorView.editable.of(opts.readOnly !== true),
      EditorView.contentAttributes.of({ 'aria-label': handle.name }),
    ],
  });
  const host = h('div', { class: 'editor-host' });
  parent.append(host, status);
  const view = new EditorView({ state, parent: host });
  const debug = (window as unknown as { __moim?: { docs?: Map<string, () => string> } }).__moim;
  debug?.docs?.set(handle.name, () => ytext.toString());
  return {
    view,
    destroy: () => {
      debug?.docs?.delete(handle.name);
      handle.provider.off('sync', onSync);
      view.destroy();
      undoManager.destroy();
      host.remove();
      status.remove();
    },
  };
}
