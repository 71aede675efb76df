/**
 * Reading a document's content without knowing its schema, and computing the change that
 * restores an older version. Everything here works on scratch `Y.Doc`s; the live document is
 * only read (encoded), never retyped.
 */
import type { DocContent } from '@moim/protocol';
import * as Y from 'yjs';

type RootKind = 'text' | 'xml' | 'array' | 'map';

/** A fresh document holding `state` (a Yjs update). The caller destroys it. */
export function docFromState(state: Uint8Array | readonly Uint8Array[], opts: { gc?: boolean } = {}): Y.Doc {
  const doc = new Y.Doc({ gc: opts.gc ?? true });
  const states = state instanceof Uint8Array ? [state] : state;
  for (const s of states) Y.applyUpdate(doc, s);
  return doc;
}

/**
 * Guess what a root type is from its items: shared types decoded from an update are generic
 * (`AbstractType`) until someone asks for them by constructor. Strings and formats → text, XML
 * nodes → XML fragment, other list content → array, keys only → map.
 */
function kindOf(type: Y.AbstractType<unknown>): RootKind | undefined {
  let sawList = false;
  for (let item = type._start; item !== null; item = item.right) {
    sawList = true;
    const c = item.content;
    if (c instanceof Y.ContentDeleted) continue;
    if (c instanceof Y.ContentString || c instanceof Y.ContentFormat || c instanceof Y.ContentEmbed) return 'text';
    if (c instanceof Y.ContentType) {
      const t = c.type;
      if (t instanceof Y.XmlElement || t instanceof Y.XmlText || t instanceof Y.XmlHook) return 'xml';
      return 'array';
    }
    if (
      c instanceof Y.ContentAny ||
      c instanceof Y.ContentBinary ||
      c instanceof Y.ContentJSON ||
      c instanceof Y.ContentDoc
    )
      return 'array';
  }
  if (sawList) return 'text'; // only deleted content left: empty either way
  return type._map.size > 0 ? 'map' : undefined;
}

/** What each root of a scratch doc is (generic roots guessed from their items). */
function rootKinds(doc: Y.Doc): Map<string, RootKind> {
  const kinds = new Map<string, RootKind>();
  for (const [name, type] of doc.share) {
    const t = type as Y.AbstractType<unknown>;
    const kind = t.constructor === Y.AbstractType ? kindOf(t) : concreteKind(t);
    if (kind) kinds.set(name, kind);
  }
  return kinds;
}

/** Give roots of a scratch doc their concrete types. Never call this on a live document. */
function typeRoots(doc: Y.Doc, kinds: Map<string, RootKind>): Array<[string, RootKind, Y.AbstractType<unknown>]> {
  const out: Array<[string, RootKind, Y.AbstractType<unknown>]> = [];
  for (const name of [...kinds.keys()].sort()) {
    const kind = kinds.get(name) as RootKind;
    const type =
      kind === 'text'
        ? doc.getText(name)
        : kind === 'xml'
          ? doc.getXmlFragment(name)
          : kind === 'array'
            ? doc.getArray(name)
            : doc.getMap(name);
    out.push([name, kind, type as Y.AbstractType<unknown>]);
  }
  return out;
}

function concreteKind(t: Y.AbstractType<unknown>): RootKind | undefined {
  if (t instanceof Y.Text) return 'text';
  if (t instanceof Y.XmlFragment) return 'xml';
  if (t instanceof Y.Array) return 'array';
  if (t instanceof Y.Map) return 'map';
  return undefined;
}

const BLOCK_SEPARATOR = '\n';

function xmlText(node: Y.XmlFragment | Y.XmlElement | Y.XmlText | Y.XmlHook): string {
  if (node instanceof Y.XmlText) {
    return (node.toDelta() as Array<{ insert: unknown }>)
      .map((op) => (typeof op.insert === 'string' ? op.insert : ''))
      .join('');
  }
  if (node instanceof Y.XmlHook) return '';
  const children = node.toArray() as Array<Y.XmlElement | Y.XmlText | Y.XmlHook>;
  // elements whose children are elements are blocks (paragraphs, list items): one line each
  const blocks = children.some((c) => c instanceof Y.XmlElement);
  return children.map(xmlText).join(blocks ? BLOCK_SEPARATOR : '');
}

/** The content of a state: JSON of each top-level type, and the readable text of the text-like ones. */
export function contentOf(state: Uint8Array): DocContent {
  const doc = docFromState(state);
  try {
    return contentOfScratch(doc);
  } finally {
    doc.destroy();
  }
}

function contentOfScratch(doc: Y.Doc): DocContent {
  const json: Record<string, unknown> = {};
  const texts: string[] = [];
  for (const [name, kind, type] of typeRoots(doc, rootKinds(doc))) {
    switch (kind) {
      case 'text':
        json[name] = (type as Y.Text).toString();
        texts.push((type as Y.Text).toString());
        break;
      case 'xml':
        json[name] = (type as Y.XmlFragment).toString();
        texts.push(xmlText(type as Y.XmlFragment));
        break;
      case 'array':
        json[name] = (type as Y.Array<unknown>).toJSON();
        break;
      case 'map':
        json[name] = (type as Y.Map<unknown>).toJSON();
        break;
    }
  }
  return { json, text: texts.filter((t) => t.length > 0).join('\n\n') };
}

/** A Yjs update with no structs and no deletions (fresh bytes each time: callers own what they get). */
const emptyUpdate = (): Uint8Array => new Uint8Array([0, 0]);

/**
 * The update that turns `current` into the content of `versionState`, as new operations on top
 * of the current history (nothing is rewritten).
 *
 * How: rebuild the version in a scratch doc with gc off, apply every change made since the
 * version to it under an UndoManager that tracks all its roots, then undo — which deletes what
 * was inserted since and re-inserts what was deleted since (the scratch doc still holds that
 * content, because it comes from the version and gc is off). The undo's operations, encoded
 * against the current state vector, are the restore update. Versions are full states, so
 * this needs no gc-off history in the live document.
 */
export function restoreUpdate(currentState: Uint8Array, versionState: Uint8Array): Uint8Array {
  const current = docFromState(currentState);
  const scratch = docFromState(versionState, { gc: false });
  try {
    // generic roots emit no events, so the UndoManager needs them typed: the version's content
    // (gc off, deleted items keep theirs) decides first, the current doc for roots added since
    const kinds = rootKinds(current);
    for (const [name, kind] of rootKinds(scratch)) kinds.set(name, kind);
    const roots = typeRoots(scratch, kinds).map(([, , type]) => type);
    // neither has any content (an empty document restored to an empty version): nothing to change
    // (and an UndoManager needs at least one type)
    if (roots.length === 0) return emptyUpdate();
    const origin = Symbol('restore');
    const undo = new Y.UndoManager(roots, { trackedOrigins: new Set([origin]), captureTimeout: 0 });
    const sinceVersion = Y.encodeStateAsUpdate(current, Y.encodeStateVector(scratch));
    Y.applyUpdate(scratch, sinceVersion, origin);
    undo.undo();
    undo.destroy();
    return Y.encodeStateAsUpdate(scratch, Y.encodeStateVector(current));
  } finally {
    current.destroy();
    scratch.destroy();
  }
}

/** True when an update carries no structs and no deletions (e.g. a sync step 2 from an up-to-date client). */
export function isEmptyUpdate(update: Uint8Array): boolean {
  if (update.byteLength === 2 && update[0] === 0 && update[1] === 0) return true;
  try {
    const { structs, ds } = Y.decodeUpdate(update);
    return structs.length === 0 && ds.clients.size === 0;
  } catch {
    return false;
  }
}

/** An update that gives a new document `text` in its root text `field` (the web editor's is `body`). */
export function textUpdate(text: string, field = 'body'): Uint8Array {
  const doc = new Y.Doc();
  doc.getText(field).insert(0, text);
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}
