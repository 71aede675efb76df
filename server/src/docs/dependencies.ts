/**
 * Yjs updates with missing dependencies: what an update would leave pending in a document (found
 * before it is applied), and dropping what Yjs kept aside anyway. No state of their own; the
 * policy (refuse, ask for sync, close) is the Document's.
 */
import * as Y from 'yjs';

/**
 * Why an update would stay pending because a client's structs start after what the document has
 * (its `from` clocks, `Y.parseUpdateMeta`, against the document's state vector), or undefined.
 */
export function aheadOfState(ydoc: Y.Doc, update: Uint8Array): string | undefined {
  const { from } = Y.parseUpdateMeta(update);
  for (const [client, clock] of from) {
    const have = Y.getState(ydoc.store, client);
    if (clock > have) return `client ${client} starts at clock ${clock}, the document has ${have}`;
  }
  return undefined;
}

/**
 * Why part of a decoded update would stay pending in Yjs, or undefined when it integrates
 * entirely: a gap in a client's structs (a skip the document does not cover), an origin, right
 * origin or parent on another client that neither the document nor this update has, or a deleted
 * range beyond what the document will have. (What Yjs resolves inside one update — structs of
 * several clients depending on each other — counts as present; a cycle among them is caught
 * after applying, see `dropPending`.)
 */
export function missingDependency(ydoc: Y.Doc, decoded: ReturnType<typeof Y.decodeUpdate>): string | undefined {
  const store = ydoc.store;
  /** Per client: the clock the document will have once this update is integrated. */
  const will = new Map<number, number>();
  const stateOf = (client: number): number => will.get(client) ?? Y.getState(store, client);
  for (const s of decoded.structs) {
    const client = s.id.client;
    const have = stateOf(client);
    if (s.id.clock > have) return `client ${client} skips from clock ${have} to ${s.id.clock}`;
    will.set(client, s instanceof Y.Skip ? have : Math.max(have, s.id.clock + s.length));
  }
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue;
    const parent = s.parent instanceof Y.ID ? s.parent : null;
    for (const dep of [s.origin, s.rightOrigin, parent]) {
      if (dep && dep.client !== s.id.client && dep.clock >= stateOf(dep.client))
        return `client ${s.id.client} depends on client ${dep.client} clock ${dep.clock}`;
    }
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const end = stateOf(client);
    for (const r of ranges)
      if (r.clock + r.len > end) return `deletes client ${client} clocks ${r.clock}–${r.clock + r.len} beyond ${end}`;
  }
  return undefined;
}

/** Drop what Yjs keeps aside for missing dependencies; true if there was any. */
export function dropPending(ydoc: Y.Doc): boolean {
  const store = ydoc.store;
  if (store.pendingStructs === null && store.pendingDs === null) return false;
  store.pendingStructs = null;
  store.pendingDs = null;
  return true;
}
