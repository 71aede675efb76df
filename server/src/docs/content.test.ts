/** Tests of `content.ts`: reading content without a schema, restore updates, empty updates. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { contentOf, isEmptyUpdate, restoreUpdate } from './content.ts';

const state = (doc: Y.Doc) => Y.encodeStateAsUpdate(doc);

describe('contentOf', () => {
  it('reads text, XML, arrays and maps without knowing the schema', () => {
    const doc = new Y.Doc();
    doc.getText('body').insert(0, 'Hello');
    doc.getText('body').format(0, 5, { bold: true });
    const frag = doc.getXmlFragment('prosemirror');
    const h = new Y.XmlElement('heading');
    h.insert(0, [new Y.XmlText('Title')]);
    const p = new Y.XmlElement('paragraph');
    const t = new Y.XmlText('Body text');
    t.format(0, 4, { italic: true });
    p.insert(0, [t]);
    frag.insert(0, [h, p]);
    doc.getArray('todo').push(['a', { done: true }]);
    doc.getMap('meta').set('n', 1);
    const nested = new Y.Map<unknown>();
    doc.getMap('meta').set('nested', nested);
    nested.set('x', 'y');
    const content = contentOf(state(doc));
    expect(content.json).toEqual({
      body: 'Hello',
      prosemirror: '<heading>Title</heading><paragraph><italic>Body</italic> text</paragraph>',
      todo: ['a', { done: true }],
      meta: { n: 1, nested: { x: 'y' } },
    });
    expect(content.text).toBe('Hello\n\nTitle\nBody text');
  });

  it('treats an empty document as empty', () => {
    expect(contentOf(state(new Y.Doc()))).toEqual({ json: {}, text: '' });
  });
});

describe('restoreUpdate', () => {
  it('turns the current content back into the version content as new operations', () => {
    const live = new Y.Doc();
    live.getText('t').insert(0, 'hello world');
    live.getMap('m').set('k', 1);
    live.getArray('a').push([1, 2, 3]);
    const p = new Y.XmlElement('p');
    p.insert(0, [new Y.XmlText('para')]);
    live.getXmlFragment('x').insert(0, [p]);
    const version = state(live);
    const versionContent = contentOf(version);

    const peer = new Y.Doc();
    Y.applyUpdate(peer, state(live));
    peer.getText('t').delete(0, 6);
    peer.getText('t').insert(0, 'bye ');
    peer.getText('t').format(0, 3, { bold: true });
    peer.getMap('m').set('k', 2);
    peer.getMap('m').set('n', 3);
    peer.getMap('m').delete('k');
    peer.getArray('a').delete(1, 1);
    peer.getArray('a').push([9]);
    peer.getText('new').insert(0, 'new root');
    peer.getXmlFragment('x').delete(0, 1);
    Y.applyUpdate(live, state(peer));
    const before = Y.decodeStateVector(Y.encodeStateVector(live));

    const update = restoreUpdate(state(live), version);
    Y.applyUpdate(live, update);
    Y.applyUpdate(peer, update);
    for (const d of [live, peer]) {
      expect(contentOf(state(d)).json).toEqual({ ...versionContent.json, new: '' });
      expect(d.getText('t').toDelta()).toEqual([{ insert: 'hello world' }]);
    }
    // only new operations: every earlier client's clock is unchanged
    const after = Y.decodeStateVector(Y.encodeStateVector(live));
    for (const [client, clock] of before) expect(after.get(client)).toBe(clock);
  });

  it('is a no-op change when nothing changed since the version', () => {
    const d = new Y.Doc();
    d.getText('t').insert(0, 'same');
    const update = restoreUpdate(state(d), state(d));
    expect(isEmptyUpdate(update)).toBe(true);
  });

  it('restores an empty document to an empty version (no change, no throw)', () => {
    const empty = state(new Y.Doc());
    const update = restoreUpdate(empty, empty);
    expect(isEmptyUpdate(update)).toBe(true);
  });

  it('works on a live document that garbage-collected what was deleted since', () => {
    const live = new Y.Doc({ gc: true });
    const text = live.getText('t');
    text.insert(0, 'A long paragraph that will be deleted.');
    const version = state(live);
    text.delete(0, text.length);
    text.insert(0, 'Short.');
    const fresh = new Y.Doc({ gc: true });
    Y.applyUpdate(fresh, state(live)); // a reloaded doc: deleted content is gone for good
    Y.applyUpdate(fresh, restoreUpdate(state(fresh), version));
    expect(fresh.getText('t').toString()).toBe('A long paragraph that will be deleted.');
  });
});

describe('isEmptyUpdate', () => {
  it('recognises empty and non-empty updates', () => {
    expect(isEmptyUpdate(new Uint8Array([0, 0]))).toBe(true);
    const d = new Y.Doc();
    expect(isEmptyUpdate(state(d))).toBe(true);
    d.getText('t').insert(0, 'x');
    expect(isEmptyUpdate(state(d))).toBe(false);
    expect(isEmptyUpdate(new Uint8Array([9, 9, 9]))).toBe(false);
  });
});
