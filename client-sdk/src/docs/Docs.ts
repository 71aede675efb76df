import type {
  DocInfo,
  DocListResponse,
  DocListSort,
  DocRestoreResponse,
  DocTitleEvent,
  DocVersionInfo,
  DocVersionResponse,
} from '@moim/protocol';
import { DOC_CLOSE, TypedEmitter } from '@moim/protocol/client';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { getLogger, LoggerNames } from '../logger.ts';
import type { MoimClient } from '../MoimClient.ts';

type Awareness = WebsocketProvider['awareness'];

const log = getLogger(LoggerNames.Docs);

/** An open shared document. */
export interface DocHandle {
  readonly name: string;
  readonly doc: Y.Doc;
  readonly awareness: Awareness;
  /** The stock y-websocket provider (its `status`, `sync` and `closed` events are yours to watch). */
  readonly provider: WebsocketProvider;
  /** Resolves once the document has synced with the server (again after every reconnect). */
  whenSynced(): Promise<void>;
  /** Show who I am to the others (remote cursors use `user.name` and `user.color`). */
  setUser(user: { name: string; color: string; colorLight?: string }): void;
  /** Close this handle (the provider closes when the last handle of this document does). */
  close(): void;
}

interface OpenDoc {
  name: string;
  doc: Y.Doc;
  provider: WebsocketProvider;
  refs: number;
}

export interface DocsEvents {
  /**
   * A document I have open (here or on another device of mine) was renamed: its new `title`, who
   * (`by`) and when (`at`). Also after a reconnect, for an open document renamed meanwhile.
   */
  title: (event: DocTitleEvent) => void;
}

/**
 * Shared documents: the stock y-websocket `WebsocketProvider` against `/yjs/<name>?token=…`
 * (Yjs resyncs by itself after a reconnect), plus the `/docs` HTTP API. Providers get each new
 * token and are closed with the client. A rename reaches the people who have the document open as
 * the server event `doc:title` (never over `/yjs`: the provider stays stock), emitted as `title`.
 */
export class Docs extends TypedEmitter<DocsEvents> {
  readonly #client: MoimClient;
  readonly #open = new Map<string, OpenDoc>();
  readonly #WebSocket: typeof WebSocket | undefined;
  /** The newest title time seen per document (a relayed duplicate or an older title is not told twice). */
  readonly #titledAt = new Map<string, number>();

  constructor(client: MoimClient, WebSocketImpl?: typeof WebSocket) {
    super();
    this.#client = client;
    this.#WebSocket = WebSocketImpl;
    this.onListenerError = (event, error) => log.error('a docs listener failed', { event, error });
    client.onToken((token) => {
      for (const o of this.#open.values()) o.provider.params = { ...o.provider.params, token };
    });
    client.onServer('doc:title', (event) => this.#title(event));
    // renames missed while the socket was away: the open documents' titles are read again
    client.addRestorer('docs', async () => {
      await Promise.all(
        [...this.#open.keys()].map((name) =>
          this.info(name).then(
            (info) => {
              if (info.title !== undefined && info.titledAt !== undefined)
                this.#title({ name, title: info.title, by: info.titledBy ?? '', at: info.titledAt });
            },
            (error: unknown) => log.warn('reading an open document’s title again failed', { doc: name, error }),
          ),
        ),
      );
    });
  }

  #title(event: DocTitleEvent): void {
    const seen = this.#titledAt.get(event.name);
    if (seen !== undefined && seen >= event.at) return;
    this.#titledAt.set(event.name, event.at);
    // bounded: only the newest few hundred documents are remembered
    if (this.#titledAt.size > 500) {
      const oldest = this.#titledAt.keys().next().value;
      if (oldest !== undefined) this.#titledAt.delete(oldest);
    }
    this.safeEmit('title', event);
  }

  /** Open a document for editing (or reading, with a read grant). */
  async open(name: string): Promise<DocHandle> {
    let o = this.#open.get(name);
    if (!o) {
      const token = await this.#client.currentToken();
      const again = this.#open.get(name);
      if (again) o = again;
      else {
        const doc = new Y.Doc();
        const provider = new WebsocketProvider(`${wsUrl(this.#client.url)}/yjs`, name, doc, {
          params: { token },
          disableBc: true,
          ...(this.#WebSocket ? { WebSocketPolyfill: this.#WebSocket } : {}),
        });
        const opened: OpenDoc = { name, doc, provider, refs: 0 };
        // an expired token closes the socket with 4401: fetch a fresh one and connect again
        provider.on('closed', (event: { code: number }) => {
          if (event.code !== DOC_CLOSE.UNAUTHORIZED.code || this.#open.get(name) !== opened) return;
          this.#client.refreshToken().then(
            () => {
              if (this.#open.get(name) === opened && this.#client.token) {
                provider.params = { ...provider.params, token: this.#client.token };
                provider.connect();
              }
            },
            // without a fresh token the provider stays closed (4401): say why
            (error: unknown) => log.warn('refreshing the token of a document failed', { doc: name, error }),
          );
        });
        o = opened;
        this.#open.set(name, o);
      }
    }
    o.refs++;
    const entry = o;
    let closed = false;
    return {
      name,
      doc: entry.doc,
      awareness: entry.provider.awareness,
      provider: entry.provider,
      whenSynced: () =>
        entry.provider.synced
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const onSync = (synced: boolean) => {
                if (!synced) return;
                entry.provider.off('sync', onSync);
                resolve();
              };
              entry.provider.on('sync', onSync);
            }),
      setUser: (user) => entry.provider.awareness.setLocalStateField('user', user),
      close: () => {
        if (closed) return;
        closed = true;
        if (--entry.refs > 0) return;
        this.#destroy(entry);
      },
    };
  }

  /** Names of the documents open on this client. */
  get openNames(): string[] {
    return [...this.#open.keys()];
  }

  /**
   * A page of the documents the caller may read, each with its `title` when it has one: most
   * recently changed first (`sort: 'updated'`, the default), by `title` or by `name`. Pass the
   * page's `next` as `after` (with the same sort) for the next page. A string is `after` (name order
   * was the only order before).
   */
  list(opts: string | { sort?: DocListSort; after?: string; limit?: number } = {}): Promise<DocListResponse> {
    const o = typeof opts === 'string' ? { sort: 'name' as const, after: opts } : opts;
    const q = new URLSearchParams();
    if (o.sort) q.set('sort', o.sort);
    if (o.after) q.set('after', o.after);
    if (o.limit !== undefined) q.set('limit', String(o.limit));
    const query = q.toString();
    return this.#client.fetchJson<DocListResponse>(`/docs${query ? `?${query}` : ''}`);
  }

  /**
   * Create a document by name (CONFLICT when it exists); `title` stores a title beside it. Most
   * apps call `createTitled` instead and let the server pick the name.
   */
  async create(name: string, opts: { title?: string; exportAllowed?: boolean } = {}): Promise<DocInfo> {
    const { doc } = await this.#client.fetchJson<{ doc: DocInfo }>('/docs', {
      method: 'POST',
      body: { name, ...opts },
    });
    return doc;
  }

  /**
   * Create a document with a title (free text in any language, 1–200 characters, no control
   * characters: INVALID_TITLE otherwise). The server picks its name — open it with `open(doc.name)`:
   * `d-<random>`, or the title itself when it is a valid, free document name.
   */
  async createTitled(title: string, opts: { exportAllowed?: boolean } = {}): Promise<DocInfo> {
    const { doc } = await this.#client.fetchJson<{ doc: DocInfo }>('/docs', {
      method: 'POST',
      body: { title, ...opts },
    });
    return doc;
  }

  /** Rename: set the document's title (whoever may write it; INVALID_TITLE for a bad title). */
  async rename(name: string, title: string): Promise<DocInfo> {
    const { doc } = await this.#client.fetchJson<{ doc: DocInfo }>(`/docs/${encodeURIComponent(name)}/title`, {
      method: 'PUT',
      body: { title },
    });
    return doc;
  }

  async info(name: string): Promise<DocInfo> {
    const { doc } = await this.#client.fetchJson<{ doc: DocInfo }>(`/docs/${encodeURIComponent(name)}`);
    return doc;
  }

  /** Owner or admin: allow or forbid export (data-leak policy). */
  async setPolicy(name: string, policy: { exportAllowed: boolean }): Promise<DocInfo> {
    const { doc } = await this.#client.fetchJson<{ doc: DocInfo }>(`/docs/${encodeURIComponent(name)}`, {
      method: 'PATCH',
      body: policy,
    });
    return doc;
  }

  async remove(name: string): Promise<void> {
    await this.#client.fetchJson(`/docs/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  /** JSON content of each shared type (refused where the document's policy forbids export). */
  async export(name: string): Promise<Record<string, unknown>> {
    const { content } = await this.#client.fetchJson<{ content: Record<string, unknown> }>(
      `/docs/${encodeURIComponent(name)}/export?format=json`,
    );
    return content;
  }

  versions(name: string): Promise<{ versions: DocVersionInfo[] }> {
    return this.#client.fetchJson(`/docs/${encodeURIComponent(name)}/versions`);
  }

  async saveVersion(name: string, label: string): Promise<DocVersionInfo> {
    const { version } = await this.#client.fetchJson<{ version: DocVersionInfo }>(
      `/docs/${encodeURIComponent(name)}/versions`,
      { method: 'POST', body: { label } },
    );
    return version;
  }

  version(name: string, id: number): Promise<DocVersionResponse> {
    return this.#client.fetchJson(`/docs/${encodeURIComponent(name)}/versions/${id}`);
  }

  restoreVersion(name: string, id: number): Promise<DocRestoreResponse> {
    return this.#client.fetchJson(`/docs/${encodeURIComponent(name)}/versions/${id}/restore`, { method: 'POST' });
  }

  /** Close every open document (the client does this when it closes). */
  closeAll(): void {
    for (const o of [...this.#open.values()]) this.#destroy(o);
  }

  #destroy(o: OpenDoc): void {
    if (this.#open.get(o.name) === o) this.#open.delete(o.name);
    o.provider.destroy();
    o.doc.destroy();
  }
}

/** `http(s)://host` → `ws(s)://host`. */
export function wsUrl(url: string): string {
  return url.replace(/^http(s?):\/\//, 'ws$1://');
}
