import { HocuspocusProvider } from '@hocuspocus/provider';
import WebSocket from 'ws';
import type { Awareness } from 'y-protocols/awareness';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/**
 * The document servers compared by bench:docs; `y-websocket durable` (the reference server committing
 * each update to SQLite before it applies and relays it) in its fresh phase only.
 */
export const DOC_SYSTEMS = ['moim', 'hocuspocus', 'y-websocket', 'y-websocket durable'] as const;
export type DocSystem = (typeof DOC_SYSTEMS)[number];

/**
 * One document client with the stock provider of each system: y-websocket's `WebsocketProvider`
 * for moim (`<url>/yjs`, token as a query parameter) and for the reference server, and
 * `HocuspocusProvider` for Hocuspocus. Every client uses the `ws` package as its WebSocket (the
 * same client stack for every system) and one socket per document. BroadcastChannel is off:
 * otherwise providers of one process would exchange updates without the server.
 */
export interface DocClient {
  id: string;
  doc: Y.Doc;
  text: Y.Text;
  meta: Y.Map<number>;
  /** The provider's awareness (cursor/presence state; renewed by the provider every 15 s while set). */
  awareness: Awareness | null;
  synced(): boolean;
  destroy(): void;
}

export function openDocClient(opts: {
  system: DocSystem;
  url: string;
  name: string;
  id: string;
  token?: string | undefined;
  /** false: clear the local awareness state (no 15-s awareness renewals from this client). */
  awareness?: boolean;
}): DocClient {
  const doc = new Y.Doc();
  const text = doc.getText('t');
  const meta = doc.getMap<number>('m');
  const ws = WebSocket as unknown as typeof globalThis.WebSocket;
  if (opts.system === 'hocuspocus') {
    const provider = new HocuspocusProvider({
      url: opts.url,
      name: opts.name,
      document: doc,
      WebSocketPolyfill: ws,
    } as ConstructorParameters<typeof HocuspocusProvider>[0]);
    if (opts.awareness === false) provider.awareness?.setLocalState(null);
    return {
      id: opts.id,
      doc,
      text,
      meta,
      awareness: provider.awareness,
      synced: () => provider.isSynced,
      destroy: () => {
        provider.destroy();
        doc.destroy();
      },
    };
  }
  const provider = new WebsocketProvider(opts.system === 'moim' ? `${opts.url}/yjs` : opts.url, opts.name, doc, {
    WebSocketPolyfill: ws,
    disableBc: true,
    params: opts.token ? { token: opts.token } : {},
    maxBackoffTime: 2000,
  });
  if (opts.awareness === false) provider.awareness.setLocalState(null);
  return {
    id: opts.id,
    doc,
    text,
    meta,
    awareness: provider.awareness,
    synced: () => provider.synced,
    destroy: () => {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** ws:// base URL for a system's server URL (moim prints http://). */
export function wsUrl(url: string): string {
  return url.replace(/^http/, 'ws');
}
